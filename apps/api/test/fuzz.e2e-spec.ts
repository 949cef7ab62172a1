import { SeededRandom } from '@app/ml';
import { trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

type Method = 'get' | 'post';

/** Every route of the API, with a path parameter filled in where it has one. */
const ROUTES: [Method, string][] = [
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/metrics'],
  ['get', '/v1/categories'],
  ['post', '/v1/predictions'],
  ['post', '/v1/predictions/batch'],
  ['get', '/v1/predictions/{id}'],
  ['get', '/v1/models'],
  ['get', '/v1/models/{version}'],
  ['post', '/v1/models/{version}/promote'],
  ['post', '/v1/models/rollback'],
  ['get', '/v1/promotions'],
  ['post', '/v1/auth/token'],
  ['get', '/v1/auth/me'],
  ['get', '/v1/users'],
  ['post', '/v1/users'],
  ['get', '/v1/service-tokens'],
  ['post', '/v1/service-tokens'],
];

const PATH_VALUES = [
  'v1',
  'v999',
  '%00',
  '..%2F..%2Fetc',
  'x'.repeat(300),
  '0b8f3a34-6f7c-4d8e-9a4b-1c2d3e4f5a6b',
  '%E2%82%AC',
  "'; drop table predictions; --",
];

/** Malformed or hostile JSON values of every shape, drawn reproducibly. */
function randomValue(rng: SeededRandom, depth = 0): unknown {
  const pick = Math.floor(rng.next() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rng.next() < 0.5 ? -1e308 : Math.floor(rng.next() * 1e6) - 5e5;
    case 2:
      return rng.next() < 0.5;
    case 3:
      return ['', ' ', '\u0000', 'é'.repeat(1000), '<script>', '{"a":', 'NaN', '__proto__'][
        Math.floor(rng.next() * 8)
      ];
    case 4:
      return 'A'.repeat(Math.floor(rng.next() * 5000));
    case 5:
      return Buffer.from('%PDF-1.4').toString('base64');
    case 6:
      return Array.from({ length: Math.floor(rng.next() * 5) }, () => randomValue(rng, depth + 1));
    default: {
      const keys = [
        'designation',
        'description',
        'image',
        'items',
        'topK',
        'reason',
        '__proto__',
        'constructor',
        'x',
      ];
      const out: Record<string, unknown> = {};
      for (let i = 0; i < 1 + rng.next() * 4; i++) {
        out[keys[Math.floor(rng.next() * keys.length)]] = randomValue(rng, depth + 1);
      }
      return out;
    }
  }
}

const RAW_BODIES: [string, string][] = [
  ['application/json', '{"designation": '],
  [
    'application/json',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  ],
  ['application/json', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`],
  ['application/json', '"just a string"'],
  ['application/json', 'null'],
  ['application/json', '\u00ff\u00fe'],
  ['text/plain', 'designation=livre'],
  ['application/x-www-form-urlencoded', 'designation=livre&topK=abc&items[0]=1'],
  ['application/xml', '<designation>livre</designation>'],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="designation"\r\n\r\nlivre\r\n--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="other"; filename="a.bin"\r\n\r\n1234\r\n--xyz--',
  ],
  ['multipart/form-data', 'no boundary at all'],
];

describe('malformed requests get a 4xx, never a 5xx (e2e fuzz)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ MAX_BODY_BYTES: '200000' });
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
  });

  afterAll(() => api?.app.close());

  const failures: string[] = [];
  const check = (what: string, status: number) => {
    if (status >= 500) failures.push(`${what} -> ${status}`);
  };

  it.each(ROUTES)('%s %s survives random JSON bodies and hostile path values', async (method, route) => {
    const rng = new SeededRandom(route.length * 7919 + (method === 'get' ? 1 : 2));
    const paths = route.includes('{') ? PATH_VALUES.map((v) => route.replace(/\{\w+\}/, v)) : [route];
    for (const path of paths) {
      for (let i = 0; i < 25; i++) {
        const body = randomValue(rng);
        const res =
          method === 'post'
            ? await api
                .as('admin')
                .post(path)
                .set('Content-Type', 'application/json')
                .send(Buffer.from(JSON.stringify(body)))
            : await api.as('admin').get(`${path}?limit=${encodeURIComponent(JSON.stringify(body))}`);
        check(`${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`, res.status);
      }
      if (method === 'post') {
        for (const [type, raw] of RAW_BODIES) {
          const res = await api.as('admin').post(path).set('Content-Type', type).send(Buffer.from(raw));
          check(`${method} ${path} ${type} ${raw.slice(0, 40)}`, res.status);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
