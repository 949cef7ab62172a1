import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { LogContext } from '@app/config';

/** A caller's (or a proxy's) request id is kept when it is a plain token, so that its logs and ours join up. */
const CALLER_REQUEST_ID = /^[\w.:-]{1,128}$/;

const logger = new Logger('HTTP');

/**
 * Gives every request an id, answered in X-Request-Id and carried by every log line written while the request
 * is served (LogContext). Each answered request is logged at debug level, with its status and duration.
 */
export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const offered = req.get('x-request-id');
  const requestId = offered && CALLER_REQUEST_ID.test(offered) ? offered : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const started = process.hrtime.bigint();
  LogContext.run({ requestId }, () => {
    const fields = LogContext.current();
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      LogContext.run(fields, () =>
        logger.debug(`${req.method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)} ms`),
      );
    });
    next();
  });
}
