import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { closeRedisClient, createRedisClient } from '@app/redis';
import { LocalArtifactStore } from '@app/storage';
import { ModelRegistry } from './model.registry';
import { productionChannel, RedisProductionAnnouncer } from './production.announcer';
import { ACCEPT_REGISTERED, PromotionWorkflow, type ProductionAnnouncer } from './promotion.workflow';
import { AlreadyInProductionError } from './registry.errors';
import { writeModelDirectory } from './testing/model-directory.fixture';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

describe('PromotionWorkflow', () => {
  let root: string;
  let dataSource: DataSource;
  let registry: ModelRegistry;
  let announced: string[];
  const announcer: ProductionAnnouncer = {
    announce: async (version, revision) => void announced.push(`${version}@${revision}`),
  };

  const register = async (label: string) => {
    const dir = join(root, label);
    mkdirSync(dir);
    writeModelDirectory(dir, label);
    return (await registry.register(dir, { createdBy: 'spec', source: 'test' })).version;
  };

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'promotion-spec-'));
    dataSource = await openDataSource(AppConfig.fromEnvironment({ VAR_DIR: root }));
    registry = new ModelRegistry(dataSource, new LocalArtifactStore(join(root, 'artifacts')));
    announced = [];
  });
  afterEach(async () => {
    await dataSource.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('prepares the target, moves the pointer, then announces the new revision', async () => {
    const steps: string[] = [];
    const workflow = new PromotionWorkflow(
      registry,
      {
        prepare: async (record) => {
          steps.push(
            `prepare ${record.version} while production is ${(await registry.production()).version}`,
          );
        },
        discard: (version) => steps.push(`discard ${version}`),
      },
      announcer,
    );
    const v1 = await register('first');
    const result = await workflow.promote(v1, { actor: 'alice', reason: 'first' });
    expect(steps).toEqual([`prepare ${v1} while production is null`]);
    expect(result.production).toMatchObject({ version: v1, revision: 1 });
    expect(result.audit).toMatchObject({ actor: 'alice', action: 'promote', toVersion: v1, reason: 'first' });
    expect(announced).toEqual([`${v1}@1`]);
  });

  it('leaves the pointer alone and discards the target when it cannot be prepared', async () => {
    const discarded: string[] = [];
    const workflow = new PromotionWorkflow(
      registry,
      {
        prepare: async () => {
          throw new Error('does not load');
        },
        discard: (version) => discarded.push(version),
      },
      announcer,
    );
    const v1 = await register('broken');
    await expect(workflow.promote(v1, { actor: 'alice' })).rejects.toThrow('does not load');
    expect(discarded).toEqual([v1]);
    expect(await registry.production()).toMatchObject({ version: null, revision: 0 });
    expect(announced).toEqual([]);
  });

  it('rolls back through the same steps, and refuses a version already in production', async () => {
    const workflow = new PromotionWorkflow(registry, ACCEPT_REGISTERED, announcer);
    const v1 = await register('one');
    const v2 = await register('two');
    await workflow.promote(v1, { actor: 'cli' });
    await workflow.promote(v2, { actor: 'cli' });
    await expect(workflow.promote(v2, { actor: 'cli' })).rejects.toThrow(AlreadyInProductionError);
    const back = await workflow.rollback({ actor: 'admin', reason: 'v2 is worse' });
    expect(back.audit).toMatchObject({ action: 'rollback', fromVersion: v2, toVersion: v1 });
    expect(announced).toEqual([`${v1}@1`, `${v2}@2`, `${v1}@3`]);
  });
});

describe('RedisProductionAnnouncer', () => {
  it("publishes the move on its deployment's channel, which no other deployment listens to", async () => {
    const subscriber = createRedisClient(REDIS_URL, 'spec-subscriber');
    const [ours, theirs] = [`test-${randomUUID()}`, `test-${randomUUID()}`];
    const announcer = new RedisProductionAnnouncer(REDIS_URL, ours);
    const version = `v-${randomUUID()}`;
    const heard: [string, unknown][] = [];
    try {
      const received = new Promise<void>((done) =>
        subscriber.on('message', (channel: string, message: string) => {
          heard.push([channel, JSON.parse(message)]);
          if (channel === productionChannel(ours)) done();
        }),
      );
      await subscriber.subscribe(productionChannel(theirs), productionChannel(ours));
      await announcer.announce(version, 7);
      await received;
      expect(heard).toEqual([[`${ours}:model-registry:production-changed`, { version, revision: 7 }]]);
    } finally {
      await announcer.close();
      await closeRedisClient(subscriber);
    }
  });

  it('does not fail a promotion when Redis is unreachable', async () => {
    const announcer = new RedisProductionAnnouncer('redis://127.0.0.1:1', 'bull');
    try {
      await expect(announcer.announce('v1', 1)).resolves.toBeUndefined();
    } finally {
      await announcer.close();
    }
  });
});
