import type { Test } from 'supertest';
import { gzipSync } from 'node:zlib';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { SeededRandom } from '@app/ml';
import { trainFixtureModel } from '@app/ml/testing';
import { appRoutes } from './support/app-routes';
import { startTestApi, type TestApi } from './support/test-api';

type Method = 'get' | 'post' | 'patch' | 'delete';

/** Every route of the API, with a path parameter filled in where it has one (routes added later: see the end). */
const ROUTES: [Method, string][] = [
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/metrics'],
  ['get', '/v1/categories'],
  ['post', '/v1/predictions'],
  ['post', '/v1/predictions/batch'],
  ['get', '/v1/predictions/{id}'],
  ['post', '/v1/predictions/{id}/feedback'],
  ['post', '/v1/feedback/batch'],
  ['get', '/v1/monitoring/live'],
  ['post', '/v1/retraining-jobs'],
  ['get', '/v1/retraining-jobs'],
  ['get', '/v1/retraining-jobs/{id}'],
  ['post', '/v1/retraining-jobs/{id}/cancel'],
  ['post', '/v1/webhooks/alertmanager'],
  ['get', '/v1/models'],
  ['get', '/v1/models/{version}'],
  ['post', '/v1/models/{version}/promote'],
  ['post', '/v1/models/rollback'],
  ['get', '/v1/promotions'],
  ['post', '/v1/auth/token'],
  ['get', '/v1/auth/me'],
  ['get', '/v1/users'],
  ['post', '/v1/users'],
  ['patch', '/v1/users/{username}'],
  ['get', '/v1/service-tokens'],
  ['post', '/v1/service-tokens'],
  ['delete', '/v1/service-tokens/{name}'],
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

const KEYS = [
  'designation',
  'description',
  'image',
  'items',
  'topK',
  'reason',
  'username',
  'password',
  'roles',
  'disabled',
  'name',
  'expiresInDays',
  'grant_type',
  'prdtypecode',
  'predictionId',
  'params',
  'force',
  'alerts',
  'labels',
  'startsAt',
  'fingerprint',
  '__proto__',
  'constructor',
  'prototype',
  'x',
  '',
  'désignation',
];

const STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202e\u0645',
  '🧪'.repeat(300),
  'é'.repeat(1000),
  '<script>alert(1)</script>',
  '{"a":',
  'NaN',
  '__proto__',
  '12',
  '1e400',
  '-0',
  '0x10',
  'Infinity',
  'true',
  'null',
  'client',
  'admin',
  'password',
  'data:image/png;base64,AAAA',
  Buffer.from('%PDF-1.4').toString('base64'),
];

const NUMBERS = [
  '0',
  '-0',
  '1',
  '27',
  '28',
  '-1',
  '1e400',
  '-1e400',
  '1.5',
  '1e-400',
  '9007199254740993',
  '1E2',
];

const pick = <T>(rng: SeededRandom, list: readonly T[]): T => list[Math.floor(rng.next() * list.length)];

/**
 * A JSON text (always well-formed, so that what is tested is the API's handling of its values) of any shape:
 * scalars, numbers beyond doubles, strings that are numbers, NUL and lone surrogates, duplicate keys and
 * `__proto__` / `constructor` keys (which JSON.stringify cannot produce), long strings, long arrays and deep
 * nesting. Drawn reproducibly from `rng`.
 */
function randomJson(rng: SeededRandom, depth = 0): string {
  const kind = Math.floor(rng.next() * (depth > 3 ? 7 : 11));
  switch (kind) {
    case 0:
      return 'null';
    case 1:
      return pick(rng, NUMBERS);
    case 2:
      return rng.next() < 0.5 ? 'true' : 'false';
    case 3:
    case 4:
      return JSON.stringify(pick(rng, STRINGS));
    case 5:
      return JSON.stringify('A'.repeat(Math.floor(rng.next() * 60_000)));
    case 6: {
      // Deep: a thousand levels or so, of arrays or of objects, around a random leaf.
      const levels = Math.floor(rng.next() * 3000);
      const [open, close] = rng.next() < 0.5 ? ['[', ']'] : [`{${JSON.stringify(pick(rng, KEYS))}:`, '}'];
      return `${open.repeat(levels)}${JSON.stringify(pick(rng, STRINGS))}${close.repeat(levels)}`;
    }
    case 7:
      // Long: tens of thousands of elements.
      return `[${Array.from({ length: Math.floor(rng.next() * 40_000) }, () => pick(rng, NUMBERS)).join(',')}]`;
    case 8:
      return `[${Array.from({ length: Math.floor(rng.next() * 5) }, () => randomJson(rng, depth + 1)).join(',')}]`;
    default: {
      const members = Array.from({ length: 1 + Math.floor(rng.next() * 5) }, () => {
        const key = pick(rng, KEYS);
        return `${JSON.stringify(key)}:${randomJson(rng, depth + 1)}`;
      });
      // Duplicate keys: the same member again, with another value.
      if (rng.next() < 0.3) members.push(`${members[0].split(':')[0]}:${randomJson(rng, depth + 1)}`);
      return `{${members.join(',')}}`;
    }
  }
}

const deep = (levels: number, open: string, close: string, leaf = '1') =>
  `${open.repeat(levels)}${leaf}${close.repeat(levels)}`;

/** Bodies that are not (only) well-formed JSON, or not JSON at all, with the content type they are sent with. */
const RAW_BODIES: [string, string | Buffer][] = [
  // Not JSON, or broken JSON
  ['application/json', ''],
  ['application/json', ' '],
  ['application/json', '{"designation": '],
  ['application/json', '{"designation": "livre"'],
  ['application/json', '{"designation": "livre",}'],
  ['application/json', "{'designation': 'livre'}"],
  ['application/json', '{"designation": NaN}'],
  ['application/json', '{"topK": 1e400}'],
  ['application/json', '{designation: "livre"}'],
  ['application/json', '// comment\n{"designation": "livre"}'],
  ['application/json', '{"designation": "\\ud800"}'],
  ['application/json', '{"designation": "\\u0000"}'],
  ['application/json', '\ufeff{"designation": "livre"}'],
  ['application/json', Buffer.from([0x7b, 0x22, 0x64, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d])],
  ['application/json', '\u00ff\u00fe'],
  // Top-level values that are not objects
  ['application/json', '"just a string"'],
  ['application/json', 'null'],
  ['application/json', 'true'],
  ['application/json', '0'],
  ['application/json', '[]'],
  ['application/json', '[{"designation": "livre"}]'],
  // Deep nesting, at the top and inside fields every route reads
  ['application/json', deep(70, '[', ']', '')],
  ['application/json', deep(5000, '{"a":', '}')],
  ['application/json', deep(2000, '[', ']')],
  ['application/json', `{"designation": ${deep(2000, '[', ']')}}`],
  ['application/json', `{"items": ${deep(2000, '[', ']')}}`],
  ['application/json', `{"items": [${deep(2000, '{"items":', '}')}]}`],
  ['application/json', `{"roles": ${deep(2000, '[', ']', '"admin"')}}`],
  ['application/json', `{"grant_type": ${deep(2000, '{"a":', '}')}}`],
  ['application/json', deep(60_000, '[', ']')],
  // Prototype pollution and duplicate keys
  ['application/json', '{"__proto__": {"admin": true}, "designation": "livre"}'],
  ['application/json', '{"constructor": {"prototype": {"admin": true}}}'],
  ['application/json', '{"items": [{"__proto__": {"designation": "x"}}]}'],
  ['application/json', '{"designation": "a", "designation": ["b"]}'],
  ['application/json', '{"roles": ["client"], "roles": {"0": "admin"}}'],
  // Sizes: many items, a long string
  ['application/json', `{"items": [${Array(20_000).fill('{}').join(',')}]}`],
  ['application/json', JSON.stringify({ designation: 'x'.repeat(150_000) })],
  ['application/json', 'x'.repeat(250_000)],
  // Content types and encodings the API does not take, or that do not match the body
  ['application/json; charset=utf-16', '{"designation": "livre"}'],
  ['application/json; charset=latin1', '{"designation": "livre"}'],
  ['text/plain', 'designation=livre'],
  ['text/plain', '{"designation": "livre"}'],
  ['application/xml', '<designation>livre</designation>'],
  ['application/octet-stream', Buffer.from([0, 1, 2, 3])],
  ['image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])],
  ['application/x-www-form-urlencoded', 'designation=livre&topK=abc&items[0]=1'],
  ['application/x-www-form-urlencoded', `${'a'.concat('[a]'.repeat(2000))}=1`],
  ['application/x-www-form-urlencoded', 'designation=a&designation=b&designation=c'],
  ['application/x-www-form-urlencoded', '%%%%=%zz'],
  ['application/x-www-form-urlencoded', '__proto__[admin]=1&constructor[prototype][admin]=1'],
  ['application/x-www-form-urlencoded', '{"designation": "livre"}'],
  // Multipart: well-formed, broken, deep or repeated field names, unexpected files
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="designation"\r\n\r\nlivre\r\n--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="other"; filename="a.bin"\r\n\r\n1234\r\n--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    `--xyz\r\nContent-Disposition: form-data; name="designation${'[a]'.repeat(30)}"\r\n\r\nlivre\r\n--xyz--`,
  ],
  [
    'multipart/form-data; boundary=xyz',
    `--xyz\r\nContent-Disposition: form-data; name="a${'[]'.repeat(2000)}"\r\n\r\nlivre\r\n--xyz--`,
  ],
  [
    'multipart/form-data; boundary=xyz',
    Array.from(
      { length: 30 },
      (_, i) => `--xyz\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nx\r\n`,
    ).join('') + '--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="designation"\r\n\r\na\r\n' +
      '--xyz\r\nContent-Disposition: form-data; name="designation"\r\n\r\nb\r\n--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n\xff\xd8\xff\r\n' +
      '--xyz\r\nContent-Disposition: form-data; name="image"; filename="b.jpg"\r\n\r\n\xff\xd8\xff\r\n--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\nx\r\n--xyz--',
  ],
  [
    'multipart/form-data; boundary=xyz',
    '--xyz\r\nContent-Disposition: form-data; name="designation"\r\n\r\nliv',
  ],
  ['multipart/form-data', 'no boundary at all'],
];

/** Query strings for GET routes, on top of the random JSON sent as `limit`. */
const RAW_QUERIES = [
  '',
  'limit=1&limit=2',
  'a[b][c][d]=1',
  `${'a'.concat('[a]'.repeat(2000))}=1`,
  '__proto__[admin]=1',
  '%%%',
  `x=${'y'.repeat(20_000)}`,
];

/** The embedded SQLite database, and PostgreSQL, which refuses what SQLite stores (NUL characters, long values). */
const DATABASES: [string, () => Promise<PostgresTestSchema | undefined>][] = [
  ['SQLite', async () => undefined],
  ['PostgreSQL', createPostgresTestSchema],
];

describe.each(DATABASES)('malformed requests get a 4xx, never a 5xx (e2e fuzz, %s)', (_name, database) => {
  let api: TestApi;
  let schema: PostgresTestSchema | undefined;

  beforeAll(async () => {
    schema = await database();
    api = await startTestApi({
      MAX_BODY_BYTES: '200000',
      TOKEN_RATE_LIMIT_PER_MINUTE: '0',
      ...(schema && { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema }),
    });
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
  });

  afterAll(async () => {
    await api?.app.close();
    await schema?.drop();
  });

  /** Sends the bytes as they are: superagent would serialise a Buffer as JSON otherwise. */
  const send = (method: Method, path: string, type: string, body: string | Buffer): Test =>
    api
      .as('admin')
      [method](path)
      .set('Content-Type', type)
      .serialize((raw: unknown) => raw as string)
      .send(body as string);

  const expectClientAnswer = (failures: string[], what: string, status: number) => {
    if (!((status >= 200 && status < 300) || (status >= 400 && status < 500))) {
      failures.push(`${what} -> ${status}`);
    }
  };

  /** Random JSON, raw bodies or queries and hostile path values on one route: the answers that are not 2xx or 4xx. */
  async function fuzz(method: Method, route: string): Promise<string[]> {
    const failures: string[] = [];
    const rng = new SeededRandom(route.length * 7919 + method.length);
    const paths = route.includes('{') ? PATH_VALUES.map((v) => route.replace(/\{\w+\}/, v)) : [route];
    for (const path of paths) {
      for (let i = 0; i < 25; i++) {
        const json = randomJson(rng);
        const res =
          method === 'get'
            ? await api.as('admin').get(`${path}?limit=${encodeURIComponent(json.slice(0, 4000))}`)
            : await send(method, path, 'application/json', json);
        expectClientAnswer(failures, `${method} ${path} ${json.slice(0, 80)}`, res.status);
      }
      if (method === 'get') {
        for (const query of RAW_QUERIES) {
          const res = await api.as('admin').get(`${path}?${query}`);
          expectClientAnswer(failures, `${method} ${path}?${query.slice(0, 40)}`, res.status);
        }
      } else {
        for (const [type, raw] of RAW_BODIES) {
          const res = await send(method, path, type, raw);
          expectClientAnswer(
            failures,
            `${method} ${path} ${type} ${raw.slice(0, 40).toString()}`,
            res.status,
          );
        }
      }
    }
    return failures;
  }

  it.each(ROUTES)('%s %s answers every hostile body and path with a 2xx or a 4xx', async (method, route) => {
    expect(await fuzz(method, route)).toEqual([]);
  });

  it('fuzzes every other route the app serves the same way', async () => {
    const listed = new Set(ROUTES.map(([method, route]) => `${method} ${route}`));
    const others = appRoutes(api.app).filter((route) => !listed.has(route.key));
    const failures: string[] = [];
    for (const route of others) failures.push(...(await fuzz(route.method as Method, route.path)));
    expect(failures).toEqual([]);
  });

  it('answers compressed bodies, broken ones and a small one that inflates past the body limit, with a 2xx or a 4xx', async () => {
    const failures: string[] = [];
    const bodies: [string, Buffer][] = [
      ['gzip', gzipSync('{"designation": "livre"}')],
      ['gzip', Buffer.from('not gzip at all')],
      ['deflate', Buffer.from([0x78, 0x9c, 0xff, 0xff])],
      ['br', Buffer.from([0x1b, 0x03])],
      ['compress', Buffer.from('x')],
      ['gzip, gzip', gzipSync(gzipSync('{}'))],
      // 10 MB of spaces in about 10 KB: the limit applies to the inflated body.
      ['gzip', gzipSync(Buffer.concat([Buffer.from('{"designation": "'), Buffer.alloc(10_000_000, 32)]))],
    ];
    for (const [method, route] of ROUTES.filter(([m]) => m === 'post' || m === 'patch')) {
      const path = route.replace(/\{\w+\}/, 'v1');
      for (const [encoding, body] of bodies) {
        const res = await send(method, path, 'application/json', body).set('Content-Encoding', encoding);
        expectClientAnswer(failures, `${method} ${path} Content-Encoding: ${encoding}`, res.status);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses a body nested deeper than 32 levels with 400 and says so, on every route that reads a body', async () => {
    // Cancelling a job is a POST without a body: its id is checked and the body never read.
    const readsBody = ([method, route]: (typeof ROUTES)[number]) =>
      (method === 'post' || method === 'patch') && !route.endsWith('/cancel');
    for (const [method, route] of ROUTES.filter(readsBody)) {
      const path = route.replace(/\{\w+\}/, 'v1');
      for (const body of [deep(2000, '[', ']'), `{"items": [${deep(40, '{"a":', '}')}]}`]) {
        const res = await send(method, path, 'application/json', body);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(res.body.message).toBe(
          'the request body nests objects and arrays more than 32 levels deep (no request of this API needs more than 3)',
        );
      }
    }
    const multipart = await api
      .as('admin')
      .post('/v1/predictions')
      .field(`a${'[a]'.repeat(40)}`, 'x')
      .field('designation', 'livre');
    expect(multipart.status).toBe(400);
    expect(multipart.body.message).toMatch(/more than 32 levels deep/);
    const form = await send(
      'post',
      '/v1/auth/token',
      'application/x-www-form-urlencoded',
      'grant_type[a][b]=x',
    );
    expect(form.status).toBe(400);
  });

  it('takes a body nested as deep as a batch is, and deeper bodies up to the limit get the usual validation', async () => {
    const batch = await api
      .as('admin')
      .post('/v1/predictions/batch')
      .send({ items: [{ designation: 'piscine' }] });
    expect(batch.status).toBe(200);
    const res = await send(
      'post',
      '/v1/predictions',
      'application/json',
      `{"designation": ${deep(31, '[', ']')}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(expect.arrayContaining(['designation must be a string']));
  });
});
