import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/** What the common errors mean; a route passes its own words where it has more to say. */
export const ERROR_MEANING = {
  badBody:
    'The body is not valid JSON, or a field is unknown, missing or of the wrong type (the message names it)',
  bodyTooLarge: 'The body is larger than MAX_BODY_BYTES',
  rateLimited:
    'A rate limit is exceeded (IP_RATE_LIMIT_PER_MINUTE per address, RATE_LIMIT_PER_MINUTE per user); ' +
    'Retry-After says how many seconds to wait',
  unavailable:
    'A database, Redis or object store this needs is unreachable; Retry-After says when to try again',
} as const;

/** Documents the error answers of a route, each with the shared error body and what it means there. */
export const ApiErrors = (errors: Partial<Record<ErrorStatus, string>>) =>
  applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, type: ErrorResponseDto }),
    ),
  );
