import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { App } from 'supertest/types';
import { AppConfig, type Role } from '@app/config';
import { ModelRegistry } from '@app/registry';
import { UserAccounts, UsernameTakenError } from '@app/accounts';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { HttpServerAdapter, httpServerOptions } from '../../src/common/http-server.adapter';
import { AccessTokens } from '../../src/auth/access-tokens.service';
import { ModelServingService } from '../../src/serving/model-serving.service';

export interface TestApi {
  app: INestApplication;
  http: App;
  registry: ModelRegistry;
  serving: ModelServingService;
  varDir: string;
  /**
   * A supertest agent whose requests carry a valid access token of a test user holding only `role`
   * (`test-admin`, `test-ml-engineer`, `test-client`; the same users on every app sharing a database).
   */
  as(role: TestRole): InstanceType<typeof request.agent>;
  /** The access token behind as(role). */
  tokenFor(role: TestRole): string;
  /** Resolves once this replica serves `version` (the watcher polls every 100 ms in tests). */
  waitForVersion(version: string, timeoutMs?: number): Promise<void>;
}

/**
 * Boots the real AppModule with the given environment (embedded SQLite and local artifacts under a fresh VAR_DIR
 * unless the environment says otherwise). The environment is applied only while the module is built, because
 * AppConfig reads it once there.
 */
export type TestRole = Extract<Role, 'admin' | 'ml-engineer' | 'client'>;
const TEST_ROLES: TestRole[] = ['admin', 'ml-engineer', 'client'];

/** Shared by every app a test starts, so that replicas accept each other's tokens. */
export const TEST_JWT_SECRET = 'test-secret-for-e2e-tests-only-0123456789abcdef';
export const TEST_ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

/** Makes (or finds) a user per role and signs a token for each. */
async function testTokens(app: INestApplication): Promise<Record<TestRole, string>> {
  const users = app.get(UserAccounts);
  const tokens = app.get(AccessTokens);
  const entries = await Promise.all(
    TEST_ROLES.map(async (role) => {
      const username = `test-${role}`;
      let user;
      try {
        user = await users.create({ username, password: 'test-password-not-used', roles: [role] });
      } catch (error) {
        if (!(error instanceof UsernameTakenError)) throw error;
        user = await users.get(username);
      }
      return [role, tokens.issue({ id: user.id, username, roles: [role] })] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<TestRole, string>;
}

export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const varDir = env.VAR_DIR ?? mkdtempSync(join(tmpdir(), 'api-var-'));
  const settings: Record<string, string> = {
    VAR_DIR: varDir,
    BOOTSTRAP_MODEL: 'off',
    MODEL_POLL_INTERVAL_MS: '100',
    LOG_LEVEL: 'error',
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_USERNAME: TEST_ADMIN.username,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    BCRYPT_COST: '4',
    // Tests send bursts from one address and one user; the suites about rate limits set their own.
    RATE_LIMIT_PER_MINUTE: '0',
    IP_RATE_LIMIT_PER_MINUTE: '0',
    // Nor may load shedding refuse them on a busy test machine; the shedding suite sets its own bounds.
    MAX_IN_FLIGHT: '0',
    MAX_QUEUE_WAIT_MS: '0',
    // Suites ask for retraining after retraining; the feedback-loop suite sets a cooldown of its own.
    RETRAINING_COOLDOWN_MINUTES: '0',
    ...env,
  };
  const saved = Object.fromEntries(Object.keys(settings).map((key) => [key, process.env[key]]));
  Object.assign(process.env, settings);
  let app: INestApplication;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    // The server main.ts creates, with its socket timeouts: supertest listens on it.
    const adapter = new HttpServerAdapter(httpServerOptions(moduleRef.get(AppConfig)));
    app = moduleRef.createNestApplication(adapter, { logger: ['error'] });
    configureApp(app);
    await app.init();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const serving = app.get(ModelServingService);
  const http = app.getHttpServer() as App;
  const tokens = await testTokens(app);
  return {
    app,
    http,
    registry: app.get(ModelRegistry),
    serving,
    varDir,
    as: (role) => request.agent(http).set('Authorization', `Bearer ${tokens[role]}`),
    tokenFor: (role) => tokens[role],
    waitForVersion: async (version, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (serving.current?.version !== version) {
        if (Date.now() > deadline) {
          throw new Error(`still serving ${serving.current?.version ?? 'nothing'} instead of ${version}`);
        }
        await new Promise((done) => setTimeout(done, 25));
      }
    },
  };
}
