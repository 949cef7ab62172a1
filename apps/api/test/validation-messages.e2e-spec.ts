import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { appRoutes } from './support/app-routes';
import { startTestApi, type TestApi } from './support/test-api';

type Dto = new () => object;

/** A validated field of a DTO, where it sits in a body: `params.neuralModels`, `alerts[0].startsAt`. */
interface Field {
  path: string;
  /** Puts `value` at the field's place in an otherwise empty body. */
  body(value: unknown): Record<string, unknown>;
  /** An array of nested DTOs: its elements are `path[i]`. */
  each: boolean;
}

/** Every field class-validator checks in `dto`, and in the DTOs nested in it, found from their metadata. */
function fieldsOf(dto: Dto, prefix = '', wrap = (inner: Record<string, unknown>) => inner): Field[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const properties = [...new Set(metadata.map((m) => m.propertyName))];
  return properties.flatMap((property) => {
    const path = prefix ? `${prefix}.${property}` : property;
    const own: Field = { path, body: (value) => wrap({ [property]: value }), each: false };
    const nested = metadata.find(
      (m) => m.propertyName === property && m.type === ValidationTypes.NESTED_VALIDATION,
    );
    if (!nested) return [own];
    // class-transformer says which class the field holds (its @Type): build one and look.
    const probe = plainToInstance(dto, { [property]: nested.each ? [{}] : {} }) as Record<string, unknown>;
    const child = (nested.each ? (probe[property] as unknown[])[0] : probe[property]) as object;
    const childPath = nested.each ? `${path}[0]` : path;
    const childWrap = (inner: Record<string, unknown>) => wrap({ [property]: nested.each ? [inner] : inner });
    return [{ ...own, each: nested.each }, ...fieldsOf(child.constructor as Dto, childPath, childWrap)];
  });
}

const isDto = (type: unknown): type is Dto =>
  typeof type === 'function' &&
  getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0;

/** Values of every JSON type, and strings past every length limit of the API. */
const BAD_VALUES: unknown[] = [
  42,
  -1,
  1.5,
  'text',
  '',
  'x'.repeat(2_001),
  true,
  null,
  [],
  ['x', 'x'],
  [1],
  {},
  { a: 1 },
];

/** Messages about a whole body or item rather than one field (an item needs a designation or an image). */
const NOT_ONE_FIELD = /^(the request body must be a JSON object$|the request: |items\[\d+\]: )/;

describe('validation messages: one per field, its path written once, on every route (e2e, walks every DTO)', () => {
  let api: TestApi;

  beforeAll(async () => {
    // No queue: a body the walk happens to make valid must not start a retraining (it is answered 503).
    api = await startTestApi({ REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(() => api?.app.close());

  it('walks every body and query DTO of every route with bad values', async () => {
    const problems: string[] = [];
    const reached = new Map<string, boolean>();
    const routes = appRoutes(api.app).filter((route) => isDto(route.body) || isDto(route.query));
    // The walk covers the routes whose DTOs the issue names, and every other one the app registers.
    expect(routes.map((r) => r.key)).toEqual(
      expect.arrayContaining([
        'post /v1/retraining-jobs',
        'post /v1/webhooks/alertmanager',
        'post /v1/predictions/batch',
        'post /v1/feedback/batch',
        'post /v1/users',
      ]),
    );
    for (const route of routes) {
      const path = route.path.replace(/\{\w+\}/g, () => randomUUID());
      const where = isDto(route.body) ? 'body' : 'query';
      const fields = fieldsOf((isDto(route.body) ? route.body : route.query) as Dto);
      const known = new Set(fields.flatMap((f) => (f.each ? [f.path, `${f.path}[0]`] : [f.path])));
      for (const field of fields) {
        reached.set(`${route.key} ${field.path}`, false);
        for (const value of BAD_VALUES) {
          const body = field.body(value);
          const call = api.as('admin')[route.method as 'post'](path);
          const res =
            where === 'body' ? await call.send(body) : await call.query(body as Record<string, string>);
          if (res.status >= 500 && res.status !== 503)
            problems.push(`${route.key} ${JSON.stringify(body).slice(0, 80)}: ${res.status}`);
          if (res.status !== 400) continue;
          const messages = [res.body.message].flat() as string[];
          const what = `${route.key} ${JSON.stringify(body).slice(0, 80)}`;
          const leads = messages.map((m) => m.split(' ')[0]);
          for (const [i, message] of messages.entries()) {
            if (NOT_ONE_FIELD.test(message)) continue;
            const lead = leads[i];
            // A field's own path, an element of an array field (items[3]), or a key of a map field
            // (alerts[0].labels.alertname).
            const normalised = lead.replace(/\[\d+\]/g, '[0]');
            const fieldOf = [...known].find((k) => normalised === k || normalised.startsWith(`${k}.`));
            if (!fieldOf) problems.push(`${what}: "${message}" does not start with a field's path`);
            // (A one-word path may be a word of the message too: "version must be 4, the payload version…".)
            if (/[.[]/.test(lead) && message.indexOf(lead, lead.length) !== -1)
              problems.push(`${what}: "${message}" writes the path twice`);
            if (leads.indexOf(lead) !== i) problems.push(`${what}: two messages for ${lead}: ${messages}`);
          }
          if (leads.includes(field.path) || leads.some((lead) => lead.startsWith(`${field.path}.`))) {
            reached.set(`${route.key} ${field.path}`, true);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // Every field was refused, by its path, for at least one of the values: the walk reached it.
    expect([...reached].filter(([, seen]) => !seen).map(([key]) => key)).toEqual([]);
  });

  it('answers the examples of the issue in one message per field, path written once', async () => {
    const retraining = (params: object) =>
      api.as('admin').post('/v1/retraining-jobs').send({ reason: 'x', params }).expect(400);
    expect((await retraining({ neuralModels: '3' })).body.message).toEqual([
      'params.neuralModels must be a whole number from 0 to 5',
    ]);
    expect((await retraining({ linearViews: 'merged' })).body.message).toEqual([
      'params.linearViews must be a list of distinct views: listing, merged, blocked',
    ]);
    const webhook = await api
      .as('admin')
      .post('/v1/webhooks/alertmanager')
      .send({
        version: '4',
        groupKey: '{}',
        status: 'firing',
        receiver: 'retraining',
        alerts: [{ status: 'firing', labels: {}, startsAt: 'yesterday', fingerprint: 'ab' }],
      })
      .expect(400);
    expect(webhook.body.message).toEqual([
      'alerts[0].startsAt must be an RFC 3339 time of at most 64 characters',
    ]);
  });
});
