import { execFile } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

const repoRoot = resolve(__dirname, '../..');
const dockerfileText = readFileSync(resolve(repoRoot, 'docker/Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);

interface Stage {
  name: string;
  /** The stage this one starts FROM, when it is a stage of this file. */
  parent?: Stage;
  image: string;
  instructions: Instruction[];
}

/** The build stages in order, each with its own instructions (FROM excluded). */
function parseStages(): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = dockerfile
        .getFROMs()
        .find((f) => f.getRange().start.line === instruction.getRange().start.line)!;
      const image = from.getImageName() ?? '';
      stages.push({
        name: from.getBuildStage() ?? `#${stages.length}`,
        parent: stages.find((s) => s.name === image),
        image,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const stages = parseStages();
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`docker/Dockerfile has no stage named ${name}`);
  return found;
};

/** The last instruction with this keyword that applies to the stage, its own or inherited from a parent stage. */
function effective(target: Stage, keyword: string): Instruction | undefined {
  for (let s: Stage | undefined = target; s; s = s.parent) {
    const own = s.instructions.filter((i) => i.getKeyword() === keyword);
    if (own.length > 0) return own.at(-1);
  }
  return undefined;
}

/** The ENV of the image a stage builds: its own and its parent stages', the nearest winning. */
function imageEnvironment(target: Stage): Record<string, string> {
  const chain: Stage[] = [];
  for (let s: Stage | undefined = target; s; s = s.parent) chain.unshift(s);
  const env: Record<string, string> = {};
  for (const instruction of chain.flatMap((s) => s.instructions)) {
    if (instruction.getKeyword() !== 'ENV') continue;
    const properties = (
      instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
    ).getProperties();
    for (const p of properties) env[p.getName()] = p.getValue() ?? '';
  }
  return env;
}

function listenOnFreePort(server: Server): Promise<number> {
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)),
  );
}

/** Runs the target's HEALTHCHECK command (exec form) with the image's environment, ports replaced; its exit code. */
function runHealthcheck(
  target: string,
  ports: { PORT: number; WORKER_PORT: number },
): Promise<number | null> {
  const healthcheck = effective(stage(target), 'HEALTHCHECK')?.getArgumentsContent() ?? '';
  const [command, ...args] = JSON.parse(healthcheck.replace(/^CMD\s+/, '')) as string[];
  const env = {
    ...imageEnvironment(stage(target)),
    PORT: String(ports.PORT),
    WORKER_PORT: String(ports.WORKER_PORT),
  };
  return new Promise((done) => {
    execFile(command === 'node' ? process.execPath : command, args, { env, timeout: 10_000 }, (error) =>
      done(error ? (typeof error.code === 'number' ? error.code : null) : 0),
    );
  });
}

const RUNTIME_TARGETS = [
  { target: 'api', source: 'apps/api/src/main.ts', port: 3000, portVariable: 'PORT' },
  { target: 'worker', source: 'apps/worker/src/main.ts', port: 3001, portVariable: 'WORKER_PORT' },
];

describe('docker/Dockerfile', () => {
  it('has no problems for dockerfile-utils (syntax, instructions, flags)', () => {
    expect(validate(dockerfileText)).toEqual([]);
  });

  it('pins every base image to an exact version (no latest, no bare major)', () => {
    const external = stages.filter((s) => !s.parent);
    expect(external.length).toBeGreaterThan(0);
    for (const s of external) {
      const from = dockerfile.getFROMs().find((f) => f.getBuildStage() === s.name)!;
      const tag = from.getImageTag();
      expect({ stage: s.name, tag }).toEqual({
        stage: s.name,
        tag: expect.stringMatching(/^\d+\.\d+\.\d+-/),
      });
    }
  });

  it.each(RUNTIME_TARGETS)('runs the $target target as a non-root user', ({ target }) => {
    const user = effective(stage(target), 'USER')?.getArgumentsContent()?.trim();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:.*)?$/);
  });

  it.each(RUNTIME_TARGETS)(
    '$target starts the file the build compiles from $source and exposes $port ($portVariable)',
    ({ target, source, port, portVariable }) => {
      expect(existsSync(resolve(repoRoot, source))).toBe(true);
      const compiled = `dist/${source.replace(/\.ts$/, '.js')}`;
      const cmd = effective(stage(target), 'CMD') as unknown as {
        getJSONStrings(): { getJSONValue(): string }[];
      };
      expect(cmd.getJSONStrings().map((s) => s.getJSONValue())).toEqual(['node', compiled]);
      expect(effective(stage(target), 'EXPOSE')?.getArgumentsContent()).toBe(String(port));
      expect(imageEnvironment(stage(target))[portVariable]).toBe(String(port));
    },
  );

  describe('HEALTHCHECK, run as Docker runs it in each kind of container', () => {
    let server: Server;
    let listening: number;
    let status = 200;
    let closed: number;

    beforeAll(async () => {
      server = createServer((request, response) => {
        response.statusCode = request.url === '/health/live' ? status : 404;
        response.end();
      });
      listening = await listenOnFreePort(server);
      const unused = createServer();
      closed = await listenOnFreePort(unused);
      await new Promise((done) => unused.close(done));
    });
    afterAll(() => new Promise((done) => server.close(done)));
    beforeEach(() => {
      status = 200;
    });

    // The image's PORT and WORKER_PORT, moved to free ports of this machine: `listening` plays the process.
    const cases = [
      { target: 'api', container: 'an API', ports: () => ({ PORT: listening, WORKER_PORT: closed }) },
      { target: 'worker', container: 'a worker', ports: () => ({ PORT: closed, WORKER_PORT: listening }) },
      // AWS runs the default image with the worker's command (one image, two commands).
      { target: 'api', container: 'a worker', ports: () => ({ PORT: closed, WORKER_PORT: listening }) },
    ];

    it.each(cases)('the $target target is healthy in $container container', async ({ target, ports }) => {
      expect(await runHealthcheck(target, ports())).toBe(0);
    });

    it.each(RUNTIME_TARGETS)('the $target target is unhealthy when nothing answers', async ({ target }) => {
      expect(await runHealthcheck(target, { PORT: closed, WORKER_PORT: closed })).toBe(1);
    });

    it.each(RUNTIME_TARGETS)(
      'the $target target is unhealthy when /health/live answers an error',
      async ({ target }) => {
        status = 503;
        expect(await runHealthcheck(target, { PORT: listening, WORKER_PORT: closed })).toBe(1);
      },
    );
  });

  it('builds dist/ where the CMDs look: tsc output dir is dist and nothing excludes the entry points', () => {
    const build = JSON.parse(readFileSync(resolve(repoRoot, 'tsconfig.build.json'), 'utf8'));
    const base = JSON.parse(readFileSync(resolve(repoRoot, 'tsconfig.json'), 'utf8'));
    expect(build.compilerOptions?.outDir ?? base.compilerOptions.outDir).toBe('./dist');
    expect(build.include).toEqual(expect.arrayContaining(['apps/**/*.ts', 'libs/**/*.ts']));
    // Forked by path from dist: must be compiled beside the modules that start them.
    for (const file of [
      'libs/training/src/training.child.ts',
      'libs/ml/src/text/text-scoring.worker.ts',
      'libs/ml/src/text/text-network.worker.ts',
    ]) {
      expect(existsSync(resolve(repoRoot, file))).toBe(true);
    }
    const runtimeCopies = stage('runtime')
      .instructions.filter((i) => i.getKeyword() === 'COPY')
      .map((i) => i.getArgumentsContent());
    expect(runtimeCopies).toEqual(
      expect.arrayContaining([
        '/app/dist ./dist',
        '/app/libs/ml/assets/demo-catalogue ./libs/ml/assets/demo-catalogue',
      ]),
    );
  });

  it('declares no ENV or ARG that looks like a secret', () => {
    const names = dockerfile
      .getInstructions()
      .filter((i) => i.getKeyword() === 'ENV' || i.getKeyword() === 'ARG')
      .flatMap((i) => (i as unknown as { getProperties(): { getName(): string }[] }).getProperties())
      .map((p) => p.getName());
    expect(names.filter((n) => /secret|password|token|key|credential/i.test(n))).toEqual([]);
  });

  it('keeps the runtime on production and optional dependencies only, without compilers', () => {
    const buildRuns = stage('build')
      .instructions.filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(buildRuns.some((r) => /npm prune --omit=dev\b/.test(r))).toBe(true);
    expect(dockerfileText).not.toMatch(/--omit[= ]optional|--no-optional/);
    for (const target of ['runtime', ...RUNTIME_TARGETS.map((t) => t.target)]) {
      const runs = stage(target).instructions.filter((i) => i.getKeyword() === 'RUN');
      expect(runs.map((i) => i.getArgumentsContent()).join('\n')).not.toMatch(
        /apt-get install|g\+\+|npm (ci|install)/,
      );
    }
    // The AWS CDK is a dev dependency, so the prune above removes it from the image.
    const lock = JSON.parse(readFileSync(resolve(repoRoot, 'package-lock.json'), 'utf8'));
    for (const name of ['aws-cdk-lib', 'aws-cdk', 'cdk-nag', 'typescript-eslint', 'jest']) {
      expect({ name, dev: lock.packages[`node_modules/${name}`]?.dev }).toEqual({ name, dev: true });
    }
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(resolve(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it.each(['node_modules', '.git', 'var', 'dist', 'infra', '.env', 'docker/secrets'])(
    'excludes %s',
    (entry) => {
      expect(patterns).toContain(entry);
    },
  );
});
