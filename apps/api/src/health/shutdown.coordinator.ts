import { Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';

/**
 * Graceful shutdown in three steps. Draining: readiness answers 503 so that the load balancer stops sending
 * traffic, and every response closes its connection; requests still arriving are served for the grace period.
 * Closing: the server stops accepting connections and waits for the requests in flight. Then the modules close
 * (the prediction store writes what it holds before the database connection goes).
 *
 * Closing at once instead would drop the requests whose bytes have arrived but are not parsed yet (Node closes
 * such connections as idle).
 */
@Injectable()
export class ShutdownCoordinator {
  private readonly logger = new Logger(ShutdownCoordinator.name);
  draining = false;

  /** Express middleware: once draining, no connection is kept alive for another request. */
  readonly closeConnectionsWhenDraining = (_req: Request, res: Response, next: NextFunction): void => {
    if (this.draining) res.setHeader('Connection', 'close');
    next();
  };

  async drain(server: Server, graceMs: number, timeoutMs: number): Promise<void> {
    this.draining = true;
    this.logger.log(`draining: serving for ${graceMs} ms more, then closing`);
    await new Promise((done) => setTimeout(done, graceMs));
    // A timer fires before the event loop reads the sockets: one turn first, so that requests that arrived in
    // the meantime are read (in flight, waited for) rather than closed with their connection as idle.
    await new Promise((done) => setImmediate(done));
    const closed = new Promise<void>((done) => server.close(() => done()));
    await Promise.race([closed, new Promise((done) => setTimeout(done, timeoutMs).unref())]);
  }
}
