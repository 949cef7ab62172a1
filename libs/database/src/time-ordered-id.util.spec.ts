import { randomUUID } from 'node:crypto';
import { timeOrderedUuid, timeOrderedUuidTime } from './time-ordered-id.util';

describe('timeOrderedUuid', () => {
  it('is a version 7 UUID that carries its creation time', () => {
    const now = Date.UTC(2026, 10, 27, 6, 0, 0, 123);
    const id = timeOrderedUuid(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts as text in the order the ids were made, across milliseconds', () => {
    const start = Date.now();
    const ids = Array.from({ length: 1000 }, (_, i) => timeOrderedUuid(start + i));
    expect([...ids].sort()).toEqual(ids);
  });

  it('does not repeat, even within one millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 100_000 }, () => timeOrderedUuid(now)));
    expect(ids.size).toBe(100_000);
  });
});

describe('timeOrderedUuidTime', () => {
  it('reads the creation time of an id timeOrderedUuid made', () => {
    const now = Date.UTC(2026, 11, 6, 9, 30, 0, 456);
    expect(timeOrderedUuidTime(timeOrderedUuid(now))).toBe(now);
  });

  it('has no time for ids it could not have made', () => {
    const id = timeOrderedUuid();
    expect(timeOrderedUuidTime(id.toUpperCase())).toBeUndefined();
    expect(timeOrderedUuidTime(randomUUID())).toBeUndefined();
    // Version 7, but another variant.
    expect(timeOrderedUuidTime(`${id.slice(0, 19)}0${id.slice(20)}`)).toBeUndefined();
    expect(timeOrderedUuidTime('not-a-uuid')).toBeUndefined();
  });
});
