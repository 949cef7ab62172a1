import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { startTestApi, type TestApi } from './support/test-api';

jest.setTimeout(60_000);

interface Answer {
  status: number;
  retryAfter?: string;
  body: string;
}

function answerOf(req: ClientRequest): Promise<Answer> {
  return new Promise((done, fail) => {
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body }));
    });
  });
}

describe('load shedding of prediction requests (e2e)', () => {
  let api: TestApi;
  let port: number;

  beforeAll(async () => {
    api = await startTestApi({ MAX_IN_FLIGHT: '2', SHED_RETRY_AFTER_SECONDS: '7' });
    await api.app.listen(0, '127.0.0.1');
    port = ((api.app.getHttpServer() as Server).address() as AddressInfo).port;
  });

  afterAll(async () => {
    await api?.app.close();
  });

  /** A prediction request whose body is announced but not sent yet: the API holds it in flight until it ends. */
  function started(path = '/v1/predictions', body = '{"designation":""}') {
    const req = httpRequest({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path,
      agent: false,
      headers: {
        authorization: `Bearer ${api.tokenFor('client')}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.flushHeaders();
    return { answer: answerOf(req), finish: () => req.end(body) };
  }

  async function metric(name: string): Promise<string> {
    const page = (await api.as('admin').get('/metrics')).text;
    return page
      .split('\n')
      .filter((line) => line.startsWith(name))
      .join('\n');
  }

  async function until(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in 10 s');
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  it('answers 503 with Retry-After at once past MAX_IN_FLIGHT, counts it, and admits again once work ends', async () => {
    const first = started();
    const second = started('/v1/predictions/batch', '{"items":[]}');
    await until(async () => (await metric('prediction_requests_in_flight ')).endsWith(' 2'));

    const refused = started('/v1/predictions', '{"designation":"Piscine gonflable"}');
    refused.finish();
    const answer = await refused.answer;
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBe('7');
    expect(JSON.parse(answer.body)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringContaining('MAX_IN_FLIGHT'),
    });
    expect(await metric('prediction_requests_shed_total')).toContain(
      'prediction_requests_shed_total{reason="in_flight"} 1',
    );
    expect(await metric('prediction_requests_in_flight_limit')).toContain(
      'prediction_requests_in_flight_limit 2',
    );

    // Other routes are not limited.
    expect((await api.as('client').get('/v1/categories')).status).toBe(200);

    // The held requests go on to their own answers (400: an empty designation, an empty batch).
    first.finish();
    second.finish();
    expect((await first.answer).status).toBe(400);
    expect((await second.answer).status).toBe(400);
    await until(async () => (await metric('prediction_requests_in_flight ')).endsWith(' 0'));

    const admitted = started();
    admitted.finish();
    expect((await admitted.answer).status).toBe(400);
  });
});
