import { AppConfig, ConfigValidationError } from './app-config';

describe('AppConfig', () => {
  it('boots on embedded defaults when nothing is set', () => {
    const config = AppConfig.fromEnvironment({});
    expect(config.env.PORT).toBe(3000);
    expect(config.env.DATABASE_URL).toBeUndefined();
    expect(config.env.REDIS_URL).toBeUndefined();
    expect(config.s3).toBeUndefined();
  });

  it('reads numbers and service URLs from strings', () => {
    const config = AppConfig.fromEnvironment({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/test',
      REDIS_URL: 'redis://127.0.0.1:6379',
      S3_BUCKET: 'models',
      S3_ENDPOINT: 'http://127.0.0.1:4568',
    });
    expect(config.env.PORT).toBe(8080);
    expect(config.s3).toEqual(expect.objectContaining({ bucket: 'models', region: 'us-east-1' }));
  });

  it('treats blank values as unset', () => {
    expect(AppConfig.fromEnvironment({ DATABASE_URL: '  ' }).env.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must not be greater than 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be a redis:\/\//],
    [{ S3_ENDPOINT: 'http://127.0.0.1:4568' }, /S3_BUCKET must be set/],
    [{ AWS_ACCESS_KEY_ID: 'x' }, /must be set together/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => AppConfig.fromEnvironment(env)).toThrow(ConfigValidationError);
    expect(() => AppConfig.fromEnvironment(env)).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      AppConfig.fromEnvironment({ PORT: 'x', REDIS_URL: 'nope' });
      throw new Error('expected a validation error');
    } catch (error) {
      expect((error as ConfigValidationError).problems).toHaveLength(2);
    }
  });
});
