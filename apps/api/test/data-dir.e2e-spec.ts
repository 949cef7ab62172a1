import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigValidationError } from '@app/config';
import { startTestApi } from './support/test-api';

const ROOT = resolve(__dirname, '../../..');

/** A DATA_DIR the API cannot train on stops it at boot, like any other configuration error. */
describe('DATA_DIR at boot (e2e)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'data-dir-e2e-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits with code 1 and says what is wrong when the folder does not exist, before listening', () => {
    const missing = join(dir, 'not-mounted');
    const run = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...process.env,
          DATA_DIR: missing,
          VAR_DIR: join(dir, 'var'),
          PORT: '0',
          LOG_LEVEL: 'error',
          DATABASE_URL: '',
          REDIS_URL: '',
        },
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `Invalid configuration:\n  - DATA_DIR (${missing}): the data folder does not exist\n`,
    );
    expect(run.stdout).not.toMatch(/listening/);
  });

  it('refuses a folder that holds no Rakuten layout, naming what it holds', async () => {
    const wrong = join(dir, 'wrong');
    mkdirSync(wrong);
    writeFileSync(join(wrong, 'notes.txt'), 'not a dataset');
    const boot = startTestApi({ DATA_DIR: wrong, BOOTSTRAP_MODEL: 'auto' });
    await expect(boot).rejects.toThrow(ConfigValidationError);
    await expect(boot).rejects.toThrow(
      /DATA_DIR \(.*wrong\): no Rakuten data layout found.*holds: notes.txt/,
    );
  });
});
