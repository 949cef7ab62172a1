import sharp from 'sharp';
import { FIXTURE_CLASSES, fixtureJpeg, imageClaimingSize, trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const BLUE = FIXTURE_CLASSES[2583].colour;

/** A real photo-like image of this size: a gradient, so that it compresses but is not a solid block. */
function gradient(width: number, height: number): sharp.Sharp {
  return sharp({ create: { width, height, channels: 3, background: { r: 20, g: 40, b: 200 } } }).composite([
    {
      input: Buffer.from(
        `<svg width="${width}" height="${height}"><rect width="${width / 2}" height="${height}" fill="#c83"/></svg>`,
      ),
    },
  ]);
}

/**
 * Images whose dimensions no product photo has are refused from their header, before decoding, with the limit in
 * the message (a file of a few hundred bytes can claim gigapixels), whichever format and request shape carries
 * them; ordinary photos are still classified.
 */
describe('image dimension limits (e2e)', () => {
  let api: TestApi;
  let photo: Buffer;

  beforeAll(async () => {
    api = await startTestApi({ MAX_IMAGE_PIXELS: '1000000', MAX_IMAGE_SIDE: '2000' });
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    photo = await fixtureJpeg(BLUE);
  });

  afterAll(() => api?.app.close());

  const PIXELS = /1000000 pixels \(MAX_IMAGE_PIXELS\)/;
  const SIDE = /2000 pixels a side \(MAX_IMAGE_SIDE\)/;

  describe.each(['jpeg', 'png', 'webp'] as const)('%s', (format) => {
    it('refuses a header claiming a huge image, as base64 JSON and as a multipart file', async () => {
      const huge = await imageClaimingSize(format, 16_000, 16_000);
      expect(huge.length).toBeLessThan(1000);
      const json = await api
        .as('client')
        .post('/v1/predictions')
        .send({ designation: 'bâche', image: huge.toString('base64') })
        .expect(422);
      expect(json.body.message).toMatch(/the image is 16000×16000 pixels/);
      expect(json.body.message).toMatch(PIXELS);
      expect(json.body.message).toMatch(SIDE);

      const multipart = await api
        .as('client')
        .post('/v1/predictions')
        .field('designation', 'bâche')
        .attach('image', huge, `photo.${format}`)
        .expect(422);
      expect(multipart.body.message).toMatch(PIXELS);
    });

    it('refuses a real image past the pixel limit and one past the side limit, and accepts one within', async () => {
      const encode = (image: sharp.Sharp) =>
        format === 'jpeg'
          ? image.jpeg().toBuffer()
          : format === 'png'
            ? image.png().toBuffer()
            : image.webp().toBuffer();
      const square = await encode(gradient(1200, 1200));
      const res = await api
        .as('client')
        .post('/v1/predictions')
        .send({ image: square.toString('base64') })
        .expect(422);
      expect(res.body.message).toBe(
        'the request: the image is 1200×1200 pixels; at most 1000000 pixels (MAX_IMAGE_PIXELS) are accepted: ' +
          'send a smaller image',
      );

      const strip = await encode(gradient(2400, 50));
      const long = await api
        .as('client')
        .post('/v1/predictions')
        .attach('image', strip, `strip.${format}`)
        .expect(422);
      expect(long.body.message).toMatch(SIDE);
      expect(long.body.message).not.toMatch(PIXELS);

      const within = await encode(gradient(1000, 1000));
      const ok = await api
        .as('client')
        .post('/v1/predictions')
        .send({ image: within.toString('base64') })
        .expect(200);
      expect(ok.body.modality).toBe('image');
    });
  });

  it('refuses a batch holding one such image, naming the item, and stores none of it', async () => {
    const huge = await imageClaimingSize('png', 200_000, 1000);
    const before = await api.as('admin').get('/metrics').expect(200);
    const res = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({
        items: [
          { designation: 'piscine', image: photo.toString('base64') },
          { designation: 'bâche', image: huge.toString('base64') },
          { designation: 'pompe' },
        ],
      })
      .expect(422);
    expect(res.body.message).toMatch(/^items\[1\]: the image is 200000×1000 pixels/);
    expect(res.body.message).toMatch(SIDE);
    const after = await api.as('admin').get('/metrics').expect(200);
    expect(predictionsCounted(after.text)).toBe(predictionsCounted(before.text));
  });

  it('still classifies ordinary photos, single and in a batch', async () => {
    const single = await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'pompe piscine')
      .attach('image', photo, 'photo.jpg')
      .expect(200);
    expect(single.body).toMatchObject({ modality: 'text+image', prdtypecode: 2583 });
    const batch = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({ items: [{ image: photo.toString('base64') }, { designation: 'pompe piscine' }] })
      .expect(200);
    expect(batch.body.predictions.map((p: { modality: string }) => p.modality)).toEqual(['image', 'text']);
  });
});

/** The sum of the `predictions_total` counter over its labels. */
function predictionsCounted(metrics: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith('predictions_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
