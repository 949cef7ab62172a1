import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
/** Longer than the headers timeout, as behind a load balancer. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;
/** Node checks the timeouts every 500 ms with these settings; the rest is for a busy machine. */
const SLACK_MS = 1500;

/** A raw TCP client that records what the server sends and when it closes the connection. */
class RawClient {
  private readonly socket: Socket;
  received = '';
  closedAt?: number;
  readonly openedAt = Date.now();
  private readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => (this.received += chunk));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((done) =>
      this.socket.on('close', () => {
        this.closedAt = Date.now();
        done();
      }),
    );
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  write(text: string): void {
    if (!this.isClosed) this.socket.write(text);
  }

  /** Writes `text` one byte every `everyMs` until it is all sent or the server closes the connection. */
  async trickle(text: string, everyMs: number): Promise<void> {
    for (const byte of text) {
      if (this.isClosed) return;
      this.write(byte);
      await sleep(everyMs);
    }
  }

  async waitForResponses(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (responsesIn(this.received) < count) {
      if (Date.now() > deadline) throw new Error(`got ${JSON.stringify(this.received)}`);
      await sleep(20);
    }
  }

  async waitForClose(timeoutMs: number): Promise<void> {
    await Promise.race([this.closed, sleep(timeoutMs)]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const responsesIn = (text: string) => text.split('HTTP/1.1 ').length - 1;

/**
 * The real API process with short socket timeouts: a client that sends its headers or its body too slowly is cut
 * off within the configured timeout (a slow-loris client cannot hold connections), and a kept-alive client that
 * idles between requests is still served.
 */
describe('HTTP server timeouts of the API process (e2e)', () => {
  let child: ChildProcess;
  let port: number;
  let output = '';
  const clients: RawClient[] = [];
  const client = () => {
    const made = new RawClient(port);
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    port = 40_000 + Math.floor(Math.random() * 10_000);
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      VAR_DIR: mkdtempSync(join(tmpdir(), 'api-timeouts-')),
      PORT: String(port),
      BOOTSTRAP_MODEL: 'off',
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'timeouts-test-password',
      BCRYPT_COST: '4',
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    };
    child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 90_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/health/live`)
        .then((r) => r.ok)
        .catch(() => false))
    ) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`the API did not start:\n${output}`);
      }
      await sleep(200);
    }
  });

  afterEach(() => clients.splice(0).forEach((c) => c.destroy()));

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('cuts off a client trickling its headers once the headers timeout has passed', async () => {
    const slow = client();
    slow.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // 20 s worth of header bytes, one every 200 ms: served in full without a headers timeout.
    await slow.trickle(`X-Slow: ${'a'.repeat(95)}\r\n\r\n`, 200);
    await slow.waitForClose(1000);
    expect(slow.received).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(slow.isClosed).toBe(true);
    const heldMs = slow.closedAt! - slow.openedAt;
    expect(heldMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(heldMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('cuts off a client trickling its body once the request timeout has passed', async () => {
    const slow = client();
    const body = 'grant_type=password&username=admin&password=timeouts-test-password';
    slow.write(
      'POST /v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await slow.trickle(body, 250);
    await slow.waitForClose(1000);
    expect(slow.received).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(slow.isClosed).toBe(true);
    const heldMs = slow.closedAt! - slow.openedAt;
    expect(heldMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(heldMs).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });

  it('serves a kept-alive client that idles longer than the headers timeout, then closes the idle connection', async () => {
    const keptAlive = client();
    const get = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    keptAlive.write(get);
    await keptAlive.waitForResponses(1, 5000);
    await sleep(HEADERS_TIMEOUT_MS + 1000);
    keptAlive.write(get);
    await keptAlive.waitForResponses(2, 5000);
    expect(keptAlive.received.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    const answeredAt = Date.now();
    await keptAlive.waitForClose(KEEP_ALIVE_TIMEOUT_MS + SLACK_MS);
    expect(keptAlive.isClosed).toBe(true);
    expect(keptAlive.closedAt! - answeredAt).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 500);
  });

  it('answers normal requests on fresh connections meanwhile', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(res.status).toBe(200);
  });
});
