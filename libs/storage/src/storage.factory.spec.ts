import { resolve } from 'node:path';
import { Test } from '@nestjs/testing';
import { AppConfig, ConfigModule } from '@app/config';
import { ARTIFACT_STORE, ArtifactStore } from './artifact-store.types';
import { LocalArtifactStore } from './local-artifact.store';
import { S3ArtifactStore } from './s3-artifact.store';
import { createArtifactStore } from './storage.factory';
import { StorageModule } from './storage.module';
import { S3rverFixture, startS3rver } from './testing/s3rver.fixture';

describe('createArtifactStore', () => {
  let s3: S3rverFixture;
  const created: ArtifactStore[] = [];

  const create = (env: Record<string, string>) => {
    const store = createArtifactStore(AppConfig.fromEnvironment(env));
    created.push(store);
    return store;
  };

  beforeAll(async () => {
    s3 = await startS3rver('factory-test');
  });

  afterAll(async () => {
    for (const store of created) if (store instanceof S3ArtifactStore) store.onModuleDestroy();
    await s3?.stop();
  });

  it('uses <VAR_DIR>/artifacts, as an absolute path, when no bucket is configured', () => {
    const byDefault = create({});
    expect(byDefault).toBeInstanceOf(LocalArtifactStore);
    expect((byDefault as LocalArtifactStore).root).toBe(resolve('var', 'artifacts'));

    const configured = create({ VAR_DIR: '/srv/product-classifier' }) as LocalArtifactStore;
    expect(configured.root).toBe('/srv/product-classifier/artifacts');
    expect(configured.location).toBe('file:///srv/product-classifier/artifacts');
  });

  it('uses S3 with the configured credentials when a bucket is configured', async () => {
    const env = { S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
    const store = create({ ...env, AWS_ACCESS_KEY_ID: s3.accessKeyId });
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.location).toBe(`s3://factory-test at ${s3.endpoint}`);
    await expect(store.ping()).resolves.toBeUndefined();

    await expect(create({ ...env, AWS_ACCESS_KEY_ID: 'UNKNOWN' }).ping()).rejects.toThrow('denied');
  });

  it('leaves credentials to the SDK default chain when none are configured', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    try {
      await expect(
        create({ S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint }).ping(),
      ).resolves.toBeUndefined();
    } finally {
      restore('AWS_ACCESS_KEY_ID', saved.id);
      restore('AWS_SECRET_ACCESS_KEY', saved.secret);
    }
  });
});

describe('StorageModule', () => {
  it('provides the configured store under ARTIFACT_STORE to the whole application', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule, StorageModule] })
      .overrideProvider(AppConfig)
      .useValue(AppConfig.fromEnvironment({ VAR_DIR: '/srv/product-classifier' }))
      .compile();
    const store = moduleRef.get<ArtifactStore>(ARTIFACT_STORE);
    expect(store).toBeInstanceOf(LocalArtifactStore);
    expect(store.location).toBe('file:///srv/product-classifier/artifacts');
    await moduleRef.close();
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
