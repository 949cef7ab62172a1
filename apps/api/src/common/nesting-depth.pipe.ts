import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/**
 * How deeply objects and arrays may nest in a request body. The deepest body any route takes is three
 * levels (a batch: object, items array, item); validation and transformation recurse, so a body nested a few
 * thousand levels would overflow the stack.
 */
export const MAX_NESTING_DEPTH = 32;

/** Whether objects and arrays nest more than `max` levels in `value` (a scalar is 0 levels), without recursing. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Refuses a body nested deeper than MAX_NESTING_DEPTH before validation sees it: registered before the
 * ValidationPipe, it covers JSON, form and multipart bodies alike (multer builds nested fields from names such as
 * `a[b][c]`). Query strings need no check: Express 5 parses them flat.
 */
@Injectable()
export class NestingDepthPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && nestsDeeperThan(value, MAX_NESTING_DEPTH)) {
      throw new BadRequestException(
        `the request body nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep ` +
          '(no request of this API needs more than 3)',
      );
    }
    return value;
  }
}
