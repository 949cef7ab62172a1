import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';

/** An answer, or the connection error that took its place (ECONNRESET, ...). */
export type Exchange = { status: number; ms: number } | { error: string; ms: number };

/**
 * An HTTP client over a fixed pool of keep-alive connections, as a load balancer or a busy consumer holds them: a
 * request that finds its connection reset comes back as an error instead of being retried on a new one, so that
 * a test sees every reset the server causes.
 */
export class KeepAliveClient {
  private readonly agent: Agent;
  private readonly sockets = new Set<Socket>();
  private written = 0;

  constructor(
    private readonly base: string,
    private readonly headers: Record<string, string>,
    connections: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  /** Requests whose last byte has been handed to the operating system. */
  get sent(): number {
    return this.written;
  }

  /** Connections opened so far. */
  get connections(): number {
    return this.sockets.size;
  }

  post(path: string, body: unknown): Promise<Exchange> {
    const payload = JSON.stringify(body);
    const started = performance.now();
    return new Promise((done) => {
      const req = request(
        `${this.base}${path}`,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            ...this.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => done({ status: res.statusCode!, ms: performance.now() - started }));
          res.on('error', (error: NodeJS.ErrnoException) => done(failure(error, started)));
        },
      );
      req.on('socket', (socket) => this.sockets.add(socket));
      req.on('finish', () => this.written++);
      req.on('error', (error: NodeJS.ErrnoException) => done(failure(error, started)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function failure(error: NodeJS.ErrnoException, started: number): Exchange {
  return { error: `${error.code ?? ''} ${error.message}`.trim(), ms: performance.now() - started };
}
