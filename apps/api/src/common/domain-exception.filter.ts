import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { ArtifactError, ScoringUnavailableError } from '@app/ml';
import {
  AlreadyInProductionError,
  CorruptArtifactError,
  ModelVersionNotFoundError,
  NothingToRollBackError,
  RegistrationError,
} from '@app/registry';
import { QueueUnavailableError } from '@app/queue';
import { RetrainingJobNotCancellableError, RetrainingJobNotFoundError } from '@app/retraining';
import { ShedError } from '../admission/load.shedder';
import { RecorderBackpressureError } from '../prediction/prediction.recorder';
import { NoModelLoadedError } from '../serving/model-serving.service';

const STATUS_OF: [new (...args: never[]) => Error, HttpStatus][] = [
  [ModelVersionNotFoundError, HttpStatus.NOT_FOUND],
  [RetrainingJobNotFoundError, HttpStatus.NOT_FOUND],
  [RetrainingJobNotCancellableError, HttpStatus.CONFLICT],
  [QueueUnavailableError, HttpStatus.SERVICE_UNAVAILABLE],
  [AlreadyInProductionError, HttpStatus.CONFLICT],
  [NothingToRollBackError, HttpStatus.CONFLICT],
  [CorruptArtifactError, HttpStatus.UNPROCESSABLE_ENTITY],
  [ArtifactError, HttpStatus.UNPROCESSABLE_ENTITY],
  [RegistrationError, HttpStatus.BAD_REQUEST],
  [NoModelLoadedError, HttpStatus.SERVICE_UNAVAILABLE],
  [RecorderBackpressureError, HttpStatus.SERVICE_UNAVAILABLE],
  [ScoringUnavailableError, HttpStatus.SERVICE_UNAVAILABLE],
  [ShedError, HttpStatus.SERVICE_UNAVAILABLE],
];

/**
 * One JSON error shape for every failure: errors the caller can act on keep their message and status; anything
 * else is a 500 whose details stay in the log.
 */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      res
        .status(exception.getStatus())
        .json(typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body);
      return;
    }
    const known = STATUS_OF.find(([type]) => exception instanceof type);
    if (known) {
      const [, status] = known;
      if (status === HttpStatus.SERVICE_UNAVAILABLE) {
        res.setHeader(
          'Retry-After',
          String(exception instanceof ShedError ? exception.retryAfterSeconds : 5),
        );
      }
      res
        .status(status)
        .json({ statusCode: status, error: STATUS_CODES[status], message: (exception as Error).message });
      return;
    }
    const outage = dependencyOutage(exception);
    if (outage) {
      this.logger.warn(`answered 503, a dependency is unavailable: ${outage}`);
      res.setHeader('Retry-After', '5');
      res.status(503).json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `A service this request needs is unavailable (${outage}); retry shortly`,
      });
      return;
    }
    const status = httpStatusOf(exception);
    if (status) {
      // Errors raised before routing (body parser: bad JSON, too large, bad encoding) carry their own status.
      res
        .status(status)
        .json({ statusCode: status, error: STATUS_CODES[status], message: (exception as Error).message });
      return;
    }
    this.logger.error((exception as Error)?.stack ?? String(exception));
    res.status(500).json({ statusCode: 500, error: STATUS_CODES[500], message: 'Internal server error' });
  }
}

function httpStatusOf(exception: unknown): number | undefined {
  const status = (exception as { status?: unknown; expose?: unknown })?.status;
  const exposed = (exception as { expose?: unknown })?.expose === true;
  return exposed && typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
const NETWORK_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|socket hang up|Client has encountered a connection error/;

/**
 * A database, Redis or object store that cannot be reached is the service's problem, not the caller's, and it is
 * temporary: 503 with Retry-After rather than 500. Readiness and the logs say which dependency it is.
 */
export function dependencyOutage(exception: unknown): string | undefined {
  for (let error = exception, depth = 0; error && depth < 5; depth++) {
    const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (typeof message === 'string' && NETWORK_MESSAGES.test(message)) return message.split('\n')[0];
    error = cause;
  }
  return undefined;
}
