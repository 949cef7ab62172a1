import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { sha256 } from '@app/checksum';
import { FIXTURE_CLASSES, fixtureJpeg, trainFixtureModel } from '@app/ml/testing';
import { ARTIFACT_STORE, type ArtifactStore } from '@app/storage';
import { PredictionImageSaver } from '../src/prediction/prediction-image.saver';
import { startTestApi, type TestApi } from './support/test-api';

describe('photos sent with predictions, kept for training (e2e, embedded SQLite and local artifacts)', () => {
  let modelDir: string;
  let jpeg: Buffer;
  const apis: TestApi[] = [];

  beforeAll(async () => {
    modelDir = await trainFixtureModel();
    jpeg = await fixtureJpeg(FIXTURE_CLASSES[2583].colour, 3);
  });
  afterAll(() => Promise.all(apis.map((api) => api.app.close())));

  async function serving(env: Record<string, string> = {}): Promise<TestApi> {
    const api = await startTestApi(env);
    apis.push(api);
    const { version } = await api.registry.register(modelDir, { createdBy: 'test', source: 'test' });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    return api;
  }

  const storedImages = (api: TestApi) => api.app.get<ArtifactStore>(ARTIFACT_STORE).list('prediction-images');

  it('stores each photo once, under prediction-images/<sha256 of its bytes>, after answering', async () => {
    const api = await serving();
    const json = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'pompe piscine', image: jpeg.toString('base64') })
      .expect(200);
    await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'bache hivernage')
      .attach('image', jpeg, 'photo.jpg')
      .expect(200);
    await api.app.get(PredictionImageSaver).idle();

    const sha = sha256(jpeg);
    expect(await storedImages(api)).toEqual([`prediction-images/${sha}`]);
    expect(await api.app.get<ArtifactStore>(ARTIFACT_STORE).get(`prediction-images/${sha}`)).toEqual(jpeg);
    // The prediction names its photo by the same hash, which is how training finds it.
    const stored = await api.as('client').get(`/v1/predictions/${json.body.id}`).expect(200);
    expect(stored.body.imageSha256).toBe(sha);
    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    expect(metrics).toContain('prediction_images_stored_total{result="stored"} 1');
    expect(metrics).toContain('prediction_images_stored_total{result="existing"} 1');
  });

  it('stores nothing with KEEP_PREDICTION_IMAGES=false, and still expires the photos kept before', async () => {
    const varDir = mkdtempSync(join(tmpdir(), 'api-var-'));
    const folder = join(varDir, 'artifacts', 'prediction-images');
    mkdirSync(folder, { recursive: true });
    const [old, recent] = ['1'.repeat(64), '2'.repeat(64)];
    for (const sha of [old, recent]) writeFileSync(join(folder, sha), 'photo');
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    utimesSync(join(folder, old), daysAgo(31), daysAgo(31));
    utimesSync(join(folder, recent), daysAgo(29), daysAgo(29));

    const api = await serving({
      VAR_DIR: varDir,
      KEEP_PREDICTION_IMAGES: 'false',
      PREDICTION_IMAGE_RETENTION_DAYS: '30',
    });
    // The sweep that runs at boot, in the background.
    const deadline = Date.now() + 5_000;
    while ((await storedImages(api)).length > 1 && Date.now() < deadline)
      await new Promise((done) => setTimeout(done, 20));
    expect(await storedImages(api)).toEqual([`prediction-images/${recent}`]);

    const res = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'pompe piscine', image: jpeg.toString('base64') })
      .expect(200);
    expect(res.body.modality).toBe('text+image');
    await api.app.get(PredictionImageSaver).idle();
    // Long enough for a save that idle() failed to wait for to land.
    await new Promise((done) => setTimeout(done, 200));
    expect(await storedImages(api)).toEqual([`prediction-images/${recent}`]);
    expect((await request(api.http).get('/metrics').expect(200)).text).not.toMatch(
      /prediction_images_stored_total\{/,
    );
  });
});
