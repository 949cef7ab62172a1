import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

export type RejectionReason =
  'missing_token' | 'invalid_token' | 'invalid_request' | 'forbidden' | 'rate_limited';

/** Auth counters on the API's metrics registry: refusals by reason, token grants by outcome, refresh-token reuse. */
@Injectable()
export class AuthMetrics {
  readonly rejections: Counter<'reason'>;
  readonly tokenRequests: Counter<'grant_type' | 'result'>;
  readonly refreshReuse: Counter;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.rejections = new Counter({
      name: 'auth_rejections_total',
      help: 'Requests refused by the access guard, by reason (401 reasons, forbidden: 403, rate_limited: 429)',
      labelNames: ['reason'],
      registers,
    });
    this.tokenRequests = new Counter({
      name: 'auth_token_requests_total',
      help: 'POST /v1/auth/token by grant type and result (issued or the OAuth error code)',
      labelNames: ['grant_type', 'result'],
      registers,
    });
    this.refreshReuse = new Counter({
      name: 'auth_refresh_token_reuse_total',
      help: 'Refresh tokens presented again after use: each revoked its whole family (a leaked token, or a client bug)',
      registers,
    });
  }
}
