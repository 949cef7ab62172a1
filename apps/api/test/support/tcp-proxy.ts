import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service, which a test can cut (every connection dropped, new ones refused) and
 * restore on the same port: a dependency outage without stopping the shared server.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((done, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(this.port, '127.0.0.1', done);
    });
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Drops every open connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((done) => this.server?.close(() => done()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stops for good: drops every connection and stops listening. */
  close(): Promise<void> {
    return this.server?.listening ? this.cut() : Promise.resolve();
  }

  /** Accepts connections again, on the same port (no-op while it is accepting). */
  async restore(): Promise<this> {
    return this.server?.listening ? this : this.start();
  }
}
