import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import ts from 'typescript';
import { trainFixtureModel } from '@app/ml/testing';
import { appRoutes, type AppRoute } from './support/app-routes';
import { startTestApi, type TestApi } from './support/test-api';

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface MediaType {
  schema: { $ref: string };
  examples?: Record<string, { value: unknown }>;
}
interface Schema {
  properties: Record<string, { example?: unknown; default?: unknown; items?: { $ref?: string } }>;
  required?: string[];
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** The statuses a route can answer whatever its handler does, from its access rule, body and parameters. */
function expectedErrors(route: AppRoute): string[] {
  const statuses = ['429'];
  const kind = route.rule?.kind;
  if (kind !== 'public') statuses.push('401');
  if (kind !== 'public' && kind !== 'authenticated') statuses.push('403');
  if (route.body || route.validatedParams) statuses.push('400');
  if (route.body) statuses.push('413');
  if (route.path.includes('{')) statuses.push('404');
  return statuses;
}

/** What Swagger UI fills in from a schema when the media type has no example: each property's example or default. */
function schemaSample(doc: OpenApi, ref: string): Record<string, unknown> {
  const schema = doc.components.schemas[ref.split('/').pop()!];
  return Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => {
      const value =
        property.example ??
        property.default ??
        (property.items?.$ref ? [schemaSample(doc, property.items.$ref)] : undefined);
      if (value === undefined)
        throw new Error(`${ref}.${name} has no example: /docs would send a placeholder`);
      return [name, value];
    }),
  );
}

describe('the OpenAPI description at /docs-json (e2e)', () => {
  let api: TestApi;
  let doc: OpenApi;

  beforeAll(async () => {
    const modelDir = await trainFixtureModel();
    api = await startTestApi();
    const { version } = await api.registry.register(modelDir, { createdBy: 'test', source: 'test' });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    doc = (await request(api.http).get('/docs-json').expect(200)).body as OpenApi;
  });

  afterAll(() => api?.app.close());

  describe('as tools read it', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'openapi-e2e-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Runs a package's command line (both tools are ES modules, which Jest cannot load), with its output. */
    const tool = (name: string, args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [join(dirname(require.resolve(`${name}/package.json`)), 'bin/cli.js'), ...args],
        {
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        },
      ).catch((failed: { stdout: string; stderr: string }) => failed);

    it("passes Redocly's recommended rules with no error and no warning", async () => {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const run = await tool('@redocly/cli', ['lint', '--extends=recommended', '--format=json', file]);
      const report = JSON.parse(run.stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
      };
      const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`);
      expect(problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    });

    it('generates a typed client with openapi-typescript that compiles and types the routes as they answer', async () => {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const run = await tool('openapi-typescript', [file, '--output', join(dir, 'api.d.ts')]);
      expect(run.stderr).not.toMatch(/error/i);
      // A client's code: what it sends and reads through the generated types, and a mistake they must catch.
      writeFileSync(
        join(dir, 'client.ts'),
        `import type { paths } from './api';
type Predict = paths['/v1/predictions']['post'];
export const body: Predict['requestBody']['content']['application/json'] = { designation: 'livre', topK: 3 };
export const code = (answer: Predict['responses'][200]['content']['application/json']): number => answer.prdtypecode;
type Me = paths['/v1/auth/me']['get']['responses'][200]['content']['application/json'];
export const kind = (me: Me): 'user' | 'service' | 'oidc' => me.kind;
type Job = paths['/v1/retraining-jobs']['post']['responses'][202];
export const location = (job: Job): string => job.headers.Location;
// @ts-expect-error topK is a number
export const wrong: Predict['requestBody']['content']['application/json'] = { topK: 'three' };
`,
      );
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        types: [],
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    });
  });

  it('documents every route the app serves but /metrics', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    const served = appRoutes(api.app)
      .map((route) => route.key)
      .filter((key) => key !== 'get /metrics');
    expect(documented.sort()).toEqual(served.sort());
  });

  it('lists on every operation the errors its access rule, rate limits, body and parameters can cause', () => {
    const missing = appRoutes(api.app).flatMap((route) => {
      const [method, path] = route.key.split(' ');
      const operation = doc.paths[path]?.[method];
      if (!operation) return [];
      return expectedErrors(route)
        .filter((status) => !operation.responses[status])
        .map((status) => `${route.key}: ${status}`);
    });
    expect(missing).toEqual([]);
  });

  it('declares security: [] on the routes that need no token and a token on every other one, as the guard does', () => {
    const declared = appRoutes(api.app)
      .filter((route) => route.key !== 'get /metrics')
      .map((route) => [route.key, doc.paths[route.path][route.method].security]);
    const open = (kind?: string) => kind === 'public' || kind === 'public-unless-closed';
    expect(declared).toEqual(
      appRoutes(api.app)
        .filter((route) => route.key !== 'get /metrics')
        .map((route) => [route.key, open(route.rule?.kind) ? [] : [{ bearer: [] }, { password: [] }]]),
    );
    expect(
      declared.filter(([, security]) => (security as unknown[]).length === 0).map(([key]) => key),
    ).toEqual(expect.arrayContaining(['post /v1/auth/token', 'get /health/live', 'get /health/ready']));
  });

  it('gives every error answer a body schema: the shared error body, RFC 6749 on the token endpoint', () => {
    const schemas = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, operation]) =>
        Object.entries(operation.responses)
          .filter(([status]) => Number(status) >= 400)
          .map(([status, response]) => [
            `${method} ${path} ${status}`,
            response.content?.['application/json']?.schema.$ref,
          ]),
      ),
    );
    const expected = (key: string) =>
      key === 'post /v1/auth/token 400'
        ? '#/components/schemas/TokenErrorDto'
        : key === 'get /health/ready 503'
          ? '#/components/schemas/ReadinessDto'
          : '#/components/schemas/ErrorResponseDto';
    expect(schemas).toEqual(schemas.map(([key]) => [key, expected(key!)]));
    for (const [path, method, statuses] of [
      ['/v1/predictions', 'post', ['413', '415', '422', '503']],
      ['/v1/predictions/batch', 'post', ['413', '415', '422', '503']],
      ['/v1/models/{version}/promote', 'post', ['409', '422', '503']],
      ['/v1/models/rollback', 'post', ['409']],
      ['/v1/users', 'post', ['409']],
    ] as const) {
      expect(Object.keys(doc.paths[path][method].responses)).toEqual(expect.arrayContaining([...statuses]));
    }
  });

  it('describes error bodies as the API sends them', async () => {
    const schema = doc.components.schemas.ErrorResponseDto;
    const answers = await Promise.all([
      request(api.http).get('/v1/models'),
      api.as('client').post('/v1/models/v1/promote').send({}),
      api.as('client').post('/v1/predictions').send({ designation: 'x', topK: 'many', colour: 'red' }),
      api.as('ml-engineer').get('/v1/models/v999'),
      api
        .as('client')
        .post('/v1/predictions')
        .send({ image: Buffer.from('not an image').toString('base64') }),
      api.as('client').get('/v1/predictions/not-a-uuid'),
    ]);
    expect(answers.map((r) => r.status)).toEqual([401, 403, 400, 404, 415, 400]);
    for (const { status, body } of answers) {
      expect(Object.keys(body).filter((key) => !(key in schema.properties))).toEqual([]);
      for (const key of schema.required ?? []) expect(body).toHaveProperty(key);
      expect(body.statusCode).toBe(status);
      expect([body.message].flat().every((line: unknown) => typeof line === 'string')).toBe(true);
    }
  });

  it.each(['/v1/predictions', '/v1/predictions/batch'])(
    'POST %s: each documented example, and the sample /docs builds from the schema, answers 200',
    async (path) => {
      const json = doc.paths[path].post.requestBody!.content['application/json'];
      const bodies = [
        ...Object.values(json.examples ?? {}).map((e) => e.value),
        schemaSample(doc, json.schema.$ref),
      ];
      expect(bodies.length).toBeGreaterThan(1);
      for (const body of bodies) {
        const res = await api
          .as('client')
          .post(path)
          .send(body as object);
        expect({ body, status: res.status }).toEqual({ body, status: 200 });
      }
    },
  );
});
