import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** Where the first NUL character sits in `value` (a key or a string, at any depth), as a path; undefined if none. */
export function nulCharacterAt(value: unknown, root: string): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return path;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    for (const [key, child] of Object.entries(current)) {
      const childPath = Array.isArray(current) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return childPath;
      stack.push([child, childPath]);
    }
  }
  return undefined;
}

/**
 * Refuses a NUL character anywhere in a body, a path parameter or a query. PostgreSQL cannot store one in a text
 * column nor compare one in a query ("invalid byte sequence for encoding UTF8: 0x00"): without this, a NUL in a
 * product title would be answered and then fail to be stored, and one in a path would be a 500.
 */
@Injectable()
export class NulCharacterPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const path = nulCharacterAt(value, metadata.data ?? '');
    if (path !== undefined) {
      throw new BadRequestException(
        `${path || 'the request body'} must not contain the NUL character (\\u0000)`,
      );
    }
    return value;
  }
}
