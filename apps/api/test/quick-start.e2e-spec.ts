import { join } from 'node:path';
import { demoCatalogueDir } from '@app/ml';
import { ModelBootstrapService } from '../src/bootstrap/model-bootstrap.service';
import { startTestApi, type TestApi } from './support/test-api';

/** `npm start` on a fresh clone: no services, no data, no model; the API trains one on the demo catalogue. */
describe('embedded quick start (e2e)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ BOOTSTRAP_MODEL: 'auto', DATA_DIR: '' });
  });

  afterAll(() => api?.app.close());

  it('trains, registers and promotes a first model on the demo catalogue, then answers predictions', async () => {
    await api.waitForVersion('v1', 90_000);
    const models = await api.as('client').get('/v1/models').expect(200);
    expect(models.body.production.version).toBe('v1');
    expect(models.body.versions).toEqual([
      expect.objectContaining({
        version: 'v1',
        // Trained by a retraining job that the boot asked for (trigger bootstrap), like any other version.
        source: 'retraining',
        createdBy: 'bootstrap',
        isProduction: true,
        metrics: {
          validation_weighted_f1: expect.objectContaining({
            'text-neural-0': expect.any(Number),
            image: expect.any(Number),
          }),
          evaluation_split: {
            splitHash: expect.stringMatching(/^[0-9a-f]{64}$/),
            weighted_f1: expect.any(Number),
          },
        },
      }),
    ]);
    const jobs = await api.as('ml-engineer').get('/v1/retraining-jobs').expect(200);
    expect(jobs.body).toEqual([
      expect.objectContaining({ trigger: 'bootstrap', state: 'succeeded', resultVersion: 'v1' }),
    ]);
    const res = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'Piscine tubulaire ronde 3 m avec pompe de filtration' })
      .expect(200);
    expect(res.body).toMatchObject({ prdtypecode: 2583, modelVersion: 'v1' });
    // The README's photo example: multipart, with one of the demo catalogue's photos.
    const photo = await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'Bâche à bulles pour piscine')
      .attach('image', join(demoCatalogueDir()!, 'images', 'demo_900000105.jpg'))
      .expect(200);
    expect(photo.body).toMatchObject({ prdtypecode: 2583, modality: 'text+image', modelVersion: 'v1' });
    expect(photo.body).not.toHaveProperty('warnings');
    const categories = await api.as('client').get('/v1/categories').expect(200);
    expect(categories.body).toHaveLength(27);
  });

  it('does not train again when the registry already has a model', async () => {
    const again = await startTestApi({ BOOTSTRAP_MODEL: 'auto', VAR_DIR: api.varDir });
    await again.app.get(ModelBootstrapService).done;
    await again.waitForVersion('v1');
    const models = await again.as('client').get('/v1/models').expect(200);
    expect(models.body.versions).toHaveLength(1);
    await again.app.close();
  });
});
