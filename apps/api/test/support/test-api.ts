import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'supertest/types';
import { ModelRegistry } from '@app/registry';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { ModelServingService } from '../../src/serving/model-serving.service';

export interface TestApi {
  app: INestApplication;
  http: App;
  registry: ModelRegistry;
  serving: ModelServingService;
  varDir: string;
  /** Resolves once this replica serves `version` (the watcher polls every 100 ms in tests). */
  waitForVersion(version: string, timeoutMs?: number): Promise<void>;
}

/**
 * Boots the real AppModule with the given environment (embedded SQLite and local artifacts under a fresh VAR_DIR
 * unless the environment says otherwise). The environment is applied only while the module is built, because
 * AppConfig reads it once there.
 */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const varDir = env.VAR_DIR ?? mkdtempSync(join(tmpdir(), 'api-var-'));
  const settings: Record<string, string> = {
    VAR_DIR: varDir,
    BOOTSTRAP_MODEL: 'off',
    MODEL_POLL_INTERVAL_MS: '100',
    LOG_LEVEL: 'error',
    ...env,
  };
  const saved = Object.fromEntries(Object.keys(settings).map((key) => [key, process.env[key]]));
  Object.assign(process.env, settings);
  let app: INestApplication;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.init();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const serving = app.get(ModelServingService);
  return {
    app,
    http: app.getHttpServer() as App,
    registry: app.get(ModelRegistry),
    serving,
    varDir,
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
