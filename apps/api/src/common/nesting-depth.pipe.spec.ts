import { BadRequestException } from '@nestjs/common';
import { MAX_NESTING_DEPTH, NestingDepthPipe, nestsDeeperThan } from './nesting-depth.pipe';

const nested = (levels: number, leaf: unknown = 1): unknown =>
  JSON.parse(`${'[{"a":'.repeat(levels / 2)}${JSON.stringify(leaf)}${'}]'.repeat(levels / 2)}`);

describe('nesting depth', () => {
  it('counts levels of objects and arrays, scalars being none', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({ items: [{ designation: 'x' }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ items: [{ designation: 'x' }] }, 2)).toBe(true);
    expect(nestsDeeperThan({ items: [{ designation: ['x'] }] }, 3)).toBe(true);
    expect(nestsDeeperThan(nested(32), 32)).toBe(false);
    expect(nestsDeeperThan(nested(34), 32)).toBe(true);
  });

  it('finds the one deep branch among wide shallow ones', () => {
    const wide = { a: Array.from({ length: 10_000 }, (_, i) => ({ i })), b: 'x', c: nested(40) };
    expect(nestsDeeperThan(wide, 32)).toBe(true);
    expect(nestsDeeperThan({ ...wide, c: nested(30) }, 32)).toBe(false);
  });

  it('walks a body nested a hundred thousand levels without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(100_000), 32)).toBe(true);
  });

  it('refuses deep bodies with 400 and leaves the rest alone', () => {
    const pipe = new NestingDepthPipe();
    const body = { items: [{ designation: 'x' }] };
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    expect(() => pipe.transform(nested(2000), { type: 'body' })).toThrow(BadRequestException);
    expect(() => pipe.transform(nested(2000), { type: 'body' })).toThrow(
      `the request body nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep`,
    );
    const param = nested(2000);
    expect(pipe.transform(param, { type: 'param' })).toBe(param);
  });
});
