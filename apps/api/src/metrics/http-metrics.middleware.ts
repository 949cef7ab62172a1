import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service';

/** The methods a label keeps; Node accepts some thirty more (PROPFIND, MKCOL…), none of which this API serves. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Times every request, labelled by the route template (not the raw URL, which would create one series per
 * prediction id; `unmatched` for any path no route serves) so that the label set stays bounded whatever callers
 * send.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const template = (req.route as { path?: string } | undefined)?.path;
      const route = template ? `${req.baseUrl}${template}` : 'unmatched';
      this.metrics.httpDuration.observe(
        {
          method: METHODS.has(req.method) ? req.method : 'other',
          route,
          status_code: String(res.statusCode),
        },
        seconds,
      );
    });
    next();
  }
}
