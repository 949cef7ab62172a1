import { ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SkipThrottle, Throttle, ThrottlerException } from '@nestjs/throttler';
import { AppConfig } from '@app/config';
import { MemoryRateLimitStorage } from './rate-limit.storage';
import { RateLimiter, TOKEN_ENDPOINT } from './rate-limit.guard';

class Routes {
  plain() {}
  @SetMetadata(TOKEN_ENDPOINT, true)
  token() {}
  @Throttle({ ip: { limit: 1, ttl: 60_000 } })
  strict() {}
  @SkipThrottle({ ip: true, user: true })
  unlimited() {}
}

function context(handler: keyof Routes, ip: string, user?: string) {
  const headers: Record<string, string> = {};
  const req = { ip, headers: {}, user: user ? { id: user } : undefined };
  const res = { setHeader: (name: string, value: string) => (headers[name] = value) };
  const ctx = {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
  return { ctx, headers };
}

describe('RateLimiter', () => {
  let storage: MemoryRateLimitStorage;
  let limiter: RateLimiter;

  beforeEach(async () => {
    storage = new MemoryRateLimitStorage();
    const reflector = new Reflector();
    const config = AppConfig.fromEnvironment({
      RATE_LIMIT_PER_MINUTE: '3',
      IP_RATE_LIMIT_PER_MINUTE: '5',
      TOKEN_RATE_LIMIT_PER_MINUTE: '2',
    });
    limiter = new RateLimiter(RateLimiter.options(config, storage, reflector), storage, reflector);
    await limiter.onModuleInit();
  });
  afterEach(() => storage.close());

  const hits = async (n: number, make: () => { ctx: ExecutionContext; headers: Record<string, string> }) => {
    const outcomes: (true | 429)[] = [];
    for (let i = 0; i < n; i++) {
      const { ctx, headers } = make();
      try {
        outcomes.push((await limiter.canActivate(ctx)) ? true : 429);
      } catch (error) {
        expect(error).toBeInstanceOf(ThrottlerException);
        expect(Number(headers['Retry-After'])).toBeGreaterThan(0);
        outcomes.push(429);
      }
    }
    return outcomes;
  };

  it('limits each principal, across routes', async () => {
    expect(await hits(4, () => context('plain', '10.0.0.1', 'u1'))).toEqual([true, true, true, 429]);
    expect(await hits(1, () => context('token', '10.0.0.2', 'u1'))).toEqual([429]);
    expect(await hits(1, () => context('plain', '10.0.0.1', 'u2'))).toEqual([true]);
  });

  it('limits each address, anonymous requests included', async () => {
    expect(await hits(6, () => context('plain', '10.0.0.3'))).toEqual([true, true, true, true, true, 429]);
  });

  it('limits the token endpoint more strictly', async () => {
    expect(await hits(3, () => context('token', '10.0.0.4'))).toEqual([true, true, 429]);
    expect(await hits(1, () => context('plain', '10.0.0.4'))).toEqual([true]);
  });

  it('honours @Throttle and @SkipThrottle on a route', async () => {
    expect(await hits(2, () => context('strict', '10.0.0.5'))).toEqual([true, 429]);
    expect(await hits(8, () => context('unlimited', '10.0.0.6', 'u3'))).not.toContain(429);
  });
});
