import { ExpressAdapter } from '@nestjs/platform-express';
import { createServer, type ServerOptions } from 'node:http';
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
    this.setHttpServer(createServer(this.serverOptions, this.getInstance()));
  }
}
