import { createServer, type Server } from 'node:net';

/**
 * TCP ports free on 127.0.0.1 now, for child processes to listen on. All are held open until every one is chosen,
 * so that the same port is never handed out twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((done, fail) => {
          const server = createServer().listen(0, '127.0.0.1', () => done(server));
          server.on('error', fail);
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** One TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
