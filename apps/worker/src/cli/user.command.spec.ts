import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { UserAccounts } from '@app/accounts';
import { UsageError } from './cli-runner.util';
import { runUserCommand, UserCommandError } from './user.command';

describe('npm run user', () => {
  let dir: string;
  let config: AppConfig;
  let dataSource: DataSource;
  const stdin = { value: '' };
  const run = (...argv: string[]) =>
    runUserCommand(argv, dataSource, config, { readStdin: async () => stdin.value });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'user-cli-'));
    config = AppConfig.fromEnvironment({ VAR_DIR: dir, BCRYPT_COST: '4' });
    dataSource = await openDataSource(config);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a user with a generated password, printed once', async () => {
    const out = await run('create', '--username', 'Alice', '--role', 'client', '--role', 'ml-engineer');
    expect(out).toEqual({
      user: expect.objectContaining({ username: 'alice', roles: ['client', 'ml-engineer'], disabled: false }),
      password: expect.stringMatching(/^.{24}$/),
    });
    const users = new UserAccounts(dataSource, 4);
    expect(await users.authenticate('alice', out.password as string)).toBeDefined();
  });

  it('reads a chosen password from stdin, never from the command line', async () => {
    stdin.value = 'a password from stdin\n';
    const out = await run('create', '--username', 'bob', '--role', 'admin', '--password-stdin');
    expect(out).toEqual({ user: expect.objectContaining({ username: 'bob' }) });
    const users = new UserAccounts(dataSource, 4);
    expect(await users.authenticate('bob', 'a password from stdin')).toBeDefined();
    await expect(run('create', '--username', 'carl', '--role', 'client', '--password', 'x')).rejects.toThrow(
      UsageError,
    );
  });

  it('disables, enables and resets passwords', async () => {
    expect((await run('disable', '--username', 'alice')).user).toMatchObject({ disabled: true });
    const users = new UserAccounts(dataSource, 4);
    expect(await users.disabledIds()).toHaveLength(1);
    expect((await run('enable', '--username', 'alice')).user).toMatchObject({ disabled: false });
    const reset = await run('reset-password', '--username', 'alice');
    expect(await users.authenticate('alice', reset.password as string)).toBeDefined();
    expect(((await run('list')).users as unknown[]).length).toBe(2);
  });

  it('creates, lists and revokes service tokens', async () => {
    const created = await run('create-service-token', '--name', 'alertmanager', '--role', 'alertmanager');
    expect(created).toEqual({
      token: expect.stringMatching(/^pcs_/),
      record: expect.objectContaining({ name: 'alertmanager', roles: ['alertmanager'], createdBy: 'cli' }),
    });
    expect(await run('list-service-tokens')).toEqual({
      serviceTokens: [expect.objectContaining({ name: 'alertmanager' })],
    });
    expect((await run('revoke-service-token', '--name', 'alertmanager')).serviceToken).toMatchObject({
      revokedAt: expect.any(Date),
    });
  });

  it.each([
    [['create', '--username', 'x'], UsageError, /--role is required/],
    [['create', '--role', 'client'], UsageError, /--username is required/],
    [['frobnicate'], UsageError, /unknown command/],
    [[], UsageError, /exactly one command/],
    [['disable', '--username', 'nobody'], UserCommandError, /no user named "nobody"/],
    [['disable', '--username', 'bob'], UserCommandError, /"bob" is the last enabled admin/],
    [['create', '--username', 'alice', '--role', 'client'], UserCommandError, /taken/],
    [['create', '--username', 'dave', '--role', 'root'], UserCommandError, /unknown role root/],
    [
      ['create-service-token', '--name', 'x', '--role', 'client', '--expires-in-days', '0'],
      UsageError,
      /expires/,
    ],
  ])('refuses %j', async (argv, type, message) => {
    stdin.value = '';
    const error = await run(...argv).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });

  it('runs as npm run user, with one line and exit code 1 for a mistake', () => {
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          'tsconfig-paths/register',
          'apps/worker/src/cli/user.cli.ts',
          ...args,
        ],
        {
          cwd: resolve(__dirname, '../../../..'),
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, VAR_DIR: dir, BCRYPT_COST: '4', DATABASE_URL: '' },
        },
      );
    const ok = cli('create', '--username', 'erin', '--role', 'client');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ user: { username: 'erin' }, password: expect.any(String) });
    const taken = cli('create', '--username', 'erin', '--role', 'client');
    expect(taken.status).toBe(1);
    expect(taken.stderr).toBe('error: the username "erin" is taken\n');
  });
});
