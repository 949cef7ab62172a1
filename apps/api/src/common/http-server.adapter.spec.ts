import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { createHttpServer } from './http-server.adapter';

const KEEP_ALIVE_MS = 1000;
/** Node closes an idle connection this long after its keep-alive timeout (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER). */
const NODE_GRACE_MS = 1000;
const REQUEST = 'GET / HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n';

/** Holds the event loop, as a garbage collection or a busy machine does. */
function holdLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the API HTTP server and kept-alive connections', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    server = createHttpServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (_req, res) => res.end('ok'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  /** A raw connection that counts the responses it reads and notes how it ended. */
  async function client(): Promise<{ socket: Socket; responses: () => number; ended: Promise<string> }> {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await new Promise((done) => socket.once('connect', done));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    const ended = new Promise<string>((done) => {
      socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
      socket.once('close', () => done('closed'));
    });
    return { socket, responses: () => text.split('HTTP/1.1 200').length - 1, ended };
  }

  const until = async (check: () => boolean) => {
    const deadline = performance.now() + 5_000;
    while (!check()) {
      if (performance.now() > deadline) throw new Error('no answer within 5 s');
      await new Promise((done) => setTimeout(done, 5));
    }
  };

  it('answers a request that arrived while the event loop was held past the keep-alive timeout', async () => {
    const { socket, responses, ended } = await client();
    socket.write(REQUEST);
    await until(() => responses() === 1);
    await new Promise((done) => setTimeout(done, KEEP_ALIVE_MS + NODE_GRACE_MS - 200));
    // The request goes out as the loop is held past the connection's keep-alive timeout (outside the timers
    // phase, as a load's slices are); when the loop comes round, the expired timer runs before the request is read.
    await new Promise((done) => setImmediate(done));
    socket.write(REQUEST);
    holdLoop(500);
    const answered = until(() => responses() === 2).then(() => 'answered');
    answered.catch(() => undefined);
    const outcome = await Promise.race([answered, ended]);
    expect(outcome).toBe('answered');
    socket.end();
    expect(await ended).toBe('closed');
  });

  it('still closes a connection that stays idle past the keep-alive timeout', async () => {
    const { socket, responses, ended } = await client();
    socket.write(REQUEST);
    await until(() => responses() === 1);
    const answered = performance.now();
    expect(await ended).toBe('closed');
    expect(performance.now() - answered).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 100);
    expect(socket.destroyed).toBe(true);
  });
});
