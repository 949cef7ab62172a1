import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import { AppConfig } from '@app/config';

/** Why a request was shed: too many at once, or it waited longer than MAX_QUEUE_WAIT_MS for the model. */
export type ShedReason = 'in_flight' | 'queue_wait';

/** A prediction request refused under overload: answered 503 with Retry-After. */
export class ShedError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ShedError';
  }
}

const ARRIVED_AT = Symbol('arrivedAt');
type Timed = Request & { [ARRIVED_AT]?: number };

/** The routes whose work is bounded: the ones that run the model. */
function isPrediction(req: Request): boolean {
  if (req.method !== 'POST') return false;
  // Express routes ignore a trailing slash: so does the limit.
  const path = req.path.replace(/\/+$/, '');
  return path === '/v1/predictions' || path === '/v1/predictions/batch';
}

/**
 * Bounds the prediction work in flight. It runs before the body is read, so a refusal costs next to nothing: past
 * MAX_IN_FLIGHT requests at once, the next is answered 503 with Retry-After right away. An admitted request that
 * then waits longer than MAX_QUEUE_WAIT_MS before the model scores it is refused the same way (`checkWait`), so that
 * no caller gets an answer later than the bound. Both refusals are counted by reason.
 */
@Injectable()
export class LoadShedder {
  private inFlight = 0;
  private readonly shed: Counter<'reason'>;

  constructor(
    private readonly config: AppConfig,
    registry: Registry,
  ) {
    const inFlight = () => this.inFlight;
    registry.registerMetric(
      new Gauge({
        name: 'prediction_requests_in_flight',
        help: 'Prediction requests being worked on (admitted, not yet answered); MAX_IN_FLIGHT bounds it',
        registers: [],
        collect() {
          this.set(inFlight());
        },
      }),
    );
    registry.registerMetric(
      new Gauge({
        name: 'prediction_requests_in_flight_limit',
        help: 'MAX_IN_FLIGHT: prediction requests at once before new ones are shed (0: no limit)',
        registers: [],
        collect() {
          this.set(config.env.MAX_IN_FLIGHT);
        },
      }),
    );
    this.shed = new Counter({
      name: 'prediction_requests_shed_total',
      help:
        'Prediction requests answered 503 under overload, by reason: in_flight (MAX_IN_FLIGHT reached) or ' +
        'queue_wait (waited past MAX_QUEUE_WAIT_MS)',
      labelNames: ['reason'] as const,
      registers: [],
    });
    this.shed.inc({ reason: 'in_flight' }, 0);
    this.shed.inc({ reason: 'queue_wait' }, 0);
    registry.registerMetric(this.shed);
  }

  /** Express middleware, mounted before the body parsers. */
  readonly admit = (req: Request, res: Response, next: NextFunction): void => {
    if (!isPrediction(req)) return next();
    const limit = this.config.env.MAX_IN_FLIGHT;
    if (limit > 0 && this.inFlight >= limit) {
      this.refuse(
        res,
        'in_flight',
        `The service is at its limit of ${limit} prediction requests at once (MAX_IN_FLIGHT); retry shortly`,
      );
      return;
    }
    this.inFlight++;
    (req as Timed)[ARRIVED_AT] = performance.now();
    res.once('close', () => this.inFlight--);
    next();
  };

  /**
   * The moment after which a request that has not reached the model is refused rather than answered late, or
   * undefined when there is no bound (or the request did not come through `admit`).
   */
  deadline(req: Request): number | undefined {
    const arrived = (req as Timed)[ARRIVED_AT];
    const bound = this.config.env.MAX_QUEUE_WAIT_MS;
    return arrived === undefined || bound === 0 ? undefined : arrived + bound;
  }

  /** The error for a request whose deadline passed before the model could score it; counts it. */
  waitedTooLong(): ShedError {
    this.shed.inc({ reason: 'queue_wait' });
    return new ShedError(
      `The request waited more than ${this.config.env.MAX_QUEUE_WAIT_MS} ms for the model (MAX_QUEUE_WAIT_MS); ` +
        'retry shortly',
      this.config.env.SHED_RETRY_AFTER_SECONDS,
    );
  }

  private refuse(res: Response, reason: ShedReason, message: string): void {
    this.shed.inc({ reason });
    res.setHeader('Retry-After', String(this.config.env.SHED_RETRY_AFTER_SECONDS));
    res.status(503).json({ statusCode: 503, error: 'Service Unavailable', message });
  }
}
