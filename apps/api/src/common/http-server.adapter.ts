import { ExpressAdapter } from '@nestjs/platform-express';
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { AppConfig } from '@app/config';

/** The HTTP server's socket timeouts (HTTP_*_TIMEOUT_MS). */
export function httpServerOptions(config: AppConfig): ServerOptions {
  const { HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS } = config.env;
  return {
    headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: HTTP_KEEP_ALIVE_TIMEOUT_MS,
    // Node enforces the headers and request timeouts only when it sweeps its connections, every 30 s by
    // default: a 10 s headers timeout would let a slow client hold its connection for up to 40 s.
    connectionsCheckingInterval: Math.min(1000, Math.floor(HTTP_HEADERS_TIMEOUT_MS / 4)),
  };
}

/**
 * Nest's Express adapter, creating its server with socket timeouts: Nest's own creates a plain
 * `http.createServer(app)`, and the interval at which Node checks the timeouts can only be given there.
 */
export class HttpServerAdapter extends ExpressAdapter {
  constructor(private readonly serverOptions: ServerOptions) {
    super();
  }

  /** Plain HTTP only (TLS ends at the load balancer); Nest's httpsOptions and forceCloseConnections are unused. */
  override initHttpServer(): void {
    this.setHttpServer(createHttpServer(this.serverOptions, this.getInstance()));
  }
}

/**
 * An HTTP server that closes an idle kept-alive connection only if no request came in on it. When the event loop
 * was held past a connection's keep-alive timeout (a garbage collection, a busy machine), Node runs the expired
 * timer before it reads what arrived meanwhile, and closing the socket then with a request unread in it resets the
 * connection (ECONNRESET for a client that reused it in good faith). The close waits one turn, in which that
 * request is read; a connection that received nothing is closed as Node would.
 */
export function createHttpServer(options: ServerOptions, handler: RequestListener): Server {
  const server = createServer(options, handler);
  // With a listener, the server no longer destroys a timed-out socket itself: the only socket timeout it sets is
  // the keep-alive one (the headers and request timeouts are checked apart, and server.timeout is 0).
  server.on('timeout', (socket: Socket) => {
    const bytesRead = socket.bytesRead;
    setImmediate(() => {
      if (socket.bytesRead === bytesRead) socket.destroy();
    });
  });
  return server;
}
