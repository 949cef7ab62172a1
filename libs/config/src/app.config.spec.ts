import { AppConfig, ConfigValidationError } from './app.config';
import { ENVIRONMENT_KEYS, EnvironmentSchema } from './environment.schema';

describe('AppConfig', () => {
  it('validates an environment once: asking again gives the same config, another environment a new one', () => {
    const first = AppConfig.fromEnvironment({ PORT: '4000', UNRELATED: 'x' });
    expect(AppConfig.fromEnvironment({ PORT: '4000', UNRELATED: 'y' })).toBe(first);
    const other = AppConfig.fromEnvironment({ PORT: '4001' });
    expect(other).not.toBe(first);
    expect(other.env.PORT).toBe(4001);
  });

  it('reads every variable the schema declares, and only those', () => {
    // With ES2022 class fields every declared setting is an own property of an instance, defaulted or not.
    expect([...ENVIRONMENT_KEYS].sort()).toEqual(Object.keys(new EnvironmentSchema()).sort());
    const source = { TFJS_BACKEND: 'wasm', RAKUTEN_DATA_DIR: '/data/rakuten', NOT_A_SETTING: 'x' };
    const { env } = AppConfig.fromEnvironment(source);
    expect(env.TFJS_BACKEND).toBe('wasm');
    expect(env.RAKUTEN_DATA_DIR).toBe('/data/rakuten');
    expect(env).not.toHaveProperty('NOT_A_SETTING');
  });

  it('validates one setting on its own, whatever the others hold', () => {
    expect(AppConfig.setting('TFJS_BACKEND', { TFJS_BACKEND: 'cpu', PORT: 'not a port' })).toBe('cpu');
    expect(AppConfig.setting('TFJS_BACKEND', {})).toBeUndefined();
    expect(AppConfig.setting('PORT', {})).toBe(3000);
    expect(() => AppConfig.setting('TFJS_BACKEND', { TFJS_BACKEND: 'gpu' })).toThrow(
      new ConfigValidationError(['TFJS_BACKEND must be tensorflow, wasm or cpu (unset: the fastest)']),
    );
  });

  it('boots on embedded defaults when nothing is set', () => {
    const config = AppConfig.fromEnvironment({});
    expect(config.env.PORT).toBe(3000);
    expect(config.env.DATABASE_URL).toBeUndefined();
    expect(config.env.REDIS_URL).toBeUndefined();
    expect(config.s3).toBeUndefined();
  });

  it('defaults image and HTTP limits for a server exposed to clients', () => {
    const { env } = AppConfig.fromEnvironment({});
    expect(env.MAX_IMAGE_PIXELS).toBe(50_000_000);
    expect(env.MAX_IMAGE_SIDE).toBe(12_000);
    expect(env.IMAGE_DECODE_CONCURRENCY).toBe(2);
    expect(env.HTTP_HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(env.HTTP_REQUEST_TIMEOUT_MS).toBe(60_000);
    expect(env.HTTP_KEEP_ALIVE_TIMEOUT_MS).toBe(5000);
    // Behind a load balancer the keep-alive timeout outlives its idle timeout, above the headers timeout.
    const behindLb = AppConfig.fromEnvironment({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000' });
    expect(behindLb.env.HTTP_KEEP_ALIVE_TIMEOUT_MS).toBe(65_000);
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
    [{ JWT_ACCESS_TTL_SECONDS: '10' }, /JWT_ACCESS_TTL_SECONDS must not be less than 30/],
    [{ JWT_CLOCK_SKEW_SECONDS: 'a lot' }, /JWT_CLOCK_SKEW_SECONDS must be a whole number/],
    [{ REFRESH_TOKEN_TTL_DAYS: '0' }, /REFRESH_TOKEN_TTL_DAYS must not be less than 1/],
    [{ BCRYPT_COST: '20' }, /BCRYPT_COST must not be greater than 15/],
    [{ SCORING_THREADS: 'all' }, /SCORING_THREADS must be a whole number of threads/],
    [{ WORKER_SHUTDOWN_MS: 'soon' }, /WORKER_SHUTDOWN_MS must be a whole number of milliseconds/],
    [{ QUEUE_PREFIX: 'a b' }, /QUEUE_PREFIX must be 1 to 64 letters/],
    [{ DATA_S3_PREFIX: 'data/../models/' }, /DATA_S3_PREFIX must be a key prefix/],
    [{ GATE_FLOOR: 'high' }, /GATE_FLOOR must be a number from 0 to 1/],
    [{ AUTO_ACCEPT_PRECISION: 'high' }, /AUTO_ACCEPT_PRECISION must be a number above 0 and at most 1/],
    [{ AUTO_ACCEPT_PRECISION: '95' }, /AUTO_ACCEPT_PRECISION must be a precision above 0 and at most 1/],
    [{ AUTO_ACCEPT_PRECISION: '0' }, /AUTO_ACCEPT_PRECISION must be a precision above 0 and at most 1/],
    [{ GATE_TOLERANCE: '2' }, /GATE_TOLERANCE must not be greater than 1/],
    [{ GATE_MIN_CLASS_SUPPORT: '0.5' }, /GATE_MIN_CLASS_SUPPORT must be a whole number/],
    [{ SCORING_THREADS: '-1' }, /SCORING_THREADS must not be less than 0/],
    [{ MAX_IN_FLIGHT: 'many' }, /MAX_IN_FLIGHT must be a whole number of requests/],
    [{ MAX_IN_FLIGHT: '-1' }, /MAX_IN_FLIGHT must not be less than 0/],
    [{ MAX_QUEUE_WAIT_MS: '0.5s' }, /MAX_QUEUE_WAIT_MS must be a whole number of milliseconds/],
    [{ SHED_RETRY_AFTER_SECONDS: '0' }, /SHED_RETRY_AFTER_SECONDS must not be less than 1/],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, /RATE_LIMIT_PER_MINUTE must not be less than 0/],
    [{ TOKEN_RATE_LIMIT_PER_MINUTE: 'ten' }, /TOKEN_RATE_LIMIT_PER_MINUTE must be a whole number/],
    [{ PUBLIC_METRICS: 'maybe' }, /PUBLIC_METRICS must be true or false/],
    [{ MAX_IMAGE_PIXELS: '50MP' }, /MAX_IMAGE_PIXELS must be a whole number of pixels/],
    [{ MAX_IMAGE_PIXELS: '300000000' }, /MAX_IMAGE_PIXELS must not be greater than 268402689/],
    [{ MAX_IMAGE_SIDE: '10' }, /MAX_IMAGE_SIDE must not be less than 64/],
    [{ IMAGE_DECODE_CONCURRENCY: '0' }, /IMAGE_DECODE_CONCURRENCY must not be less than 1/],
    [{ HTTP_HEADERS_TIMEOUT_MS: '10s' }, /HTTP_HEADERS_TIMEOUT_MS must be a whole number of milliseconds/],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '100' }, /HTTP_KEEP_ALIVE_TIMEOUT_MS must not be less than 1000/],
    [
      { HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' },
      /HTTP_HEADERS_TIMEOUT_MS \(20000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(10000\)/,
    ],
    [
      { DRIFT_WINDOW: '200', DRIFT_MIN_WINDOW: '300' },
      /DRIFT_MIN_WINDOW \(300\) must not exceed DRIFT_WINDOW \(200\)/,
    ],
    [{ DRIFT_QUANTILE: '1' }, /DRIFT_QUANTILE must not be greater than 0.9999/],
    [{ DRIFT_AUDIT_BOOST_RATE: 'lots' }, /DRIFT_AUDIT_BOOST_RATE must be a number from 0 to 1/],
    [{ DRIFT_ALERTS: 'Model Drift' }, /DRIFT_ALERTS must be alert names separated by commas/],
    [{ JWT_ISSUER: 'my issuer' }, /JWT_ISSUER must be one word/],
    [{ CORS_ORIGINS: 'https://ok.example.com, ftp://nope' }, /CORS_ORIGINS: "ftp:\/\/nope" is not an origin/],
    [{ TRUST_PROXY: 'a b' }, /TRUST_PROXY must be true, false/],
    [
      { ADMIN_USERNAME: 'root user', ADMIN_PASSWORD: 'long enough password' },
      /ADMIN_USERNAME must be 1 to 128/,
    ],
    [{ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' }, /ADMIN_PASSWORD must be at least 12/],
    [{ ALERTMANAGER_WEBHOOK_TOKEN: 'short' }, /ALERTMANAGER_WEBHOOK_TOKEN must be at least 16/],
    [{ OIDC_ISSUERS: '{not json' }, /OIDC_ISSUERS must be a JSON array/],
    [{ OIDC_ISSUERS: '{"issuer": "https://idp"}' }, /OIDC_ISSUERS must be a JSON array/],
    [{ OIDC_ISSUERS: '[{"issuer": "https://idp.example.com"}]' }, /OIDC_ISSUERS\[0\]\.audience is required/],
    [
      { OIDC_ISSUERS: '[{"issuer": "http://idp.example.com", "audience": "api"}]' },
      /OIDC_ISSUERS\[0\]\.issuer must be an https:\/\/ URL/,
    ],
    [
      { OIDC_ISSUERS: '[{"issuer": "https://idp.example.com", "audience": "api", "algorithms": ["HS256"]}]' },
      /OIDC_ISSUERS\[0\]\.algorithms must list asymmetric algorithms/,
    ],
    [
      {
        OIDC_ISSUERS:
          '[{"issuer": "https://idp.example.com", "audience": "api", "roleMap": {"ops": "root"}}]',
      },
      /OIDC_ISSUERS\[0\]\.roleMap\.ops must be one of admin, ml-engineer, client/,
    ],
    [
      { OIDC_ISSUERS: '[{"issuer": "https://idp.example.com", "audience": "api", "scopes": []}]' },
      /OIDC_ISSUERS\[0\]\.scopes is not a known setting/,
    ],
    [
      {
        JWT_ISSUER: 'https://me.example.com',
        OIDC_ISSUERS: '[{"issuer": "https://me.example.com", "audience": "a"}]',
      },
      /OIDC_ISSUERS must not list JWT_ISSUER/,
    ],
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

  describe('auth settings', () => {
    it('has safe defaults: 15-minute access tokens, bounded skew, open health and metrics, no CORS', () => {
      const { env, corsOrigins, trustProxy, oidcIssuers } = AppConfig.fromEnvironment({});
      expect(env).toMatchObject({
        JWT_ISSUER: 'product-classifier',
        JWT_AUDIENCE: 'product-classifier-api',
        JWT_ACCESS_TTL_SECONDS: 900,
        JWT_CLOCK_SKEW_SECONDS: 30,
        REFRESH_TOKEN_TTL_DAYS: 14,
        BCRYPT_COST: 12,
        PUBLIC_METRICS: true,
        PUBLIC_HEALTH: true,
        PUBLIC_DOCS: true,
        TOKEN_RATE_LIMIT_PER_MINUTE: 20,
      });
      expect(env.JWT_SECRET).toBeUndefined();
      expect(corsOrigins).toBe(false);
      expect(trustProxy).toBe(false);
      expect(oidcIssuers).toEqual([]);
    });

    it.each([
      ['false', false],
      ['0', false],
      ['no', false],
      ['TRUE', true],
      ['1', true],
    ])('reads PUBLIC_METRICS=%s as %s', (value, expected) => {
      expect(AppConfig.fromEnvironment({ PUBLIC_METRICS: value }).env.PUBLIC_METRICS).toBe(expected);
    });

    it('reads CORS origins and proxy trust as lists', () => {
      expect(AppConfig.fromEnvironment({ CORS_ORIGINS: '*' }).corsOrigins).toBe(true);
      expect(
        AppConfig.fromEnvironment({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' })
          .corsOrigins,
      ).toEqual(['https://a.example.com', 'http://localhost:5173']);
      expect(AppConfig.fromEnvironment({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
      expect(AppConfig.fromEnvironment({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
      expect(AppConfig.fromEnvironment({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual([
        'loopback',
        '10.0.0.0/8',
      ]);
    });

    it('parses OIDC issuers with their defaults (a Cognito user pool mapping groups to roles)', () => {
      const cognito = 'https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_AbCdEf123';
      const config = AppConfig.fromEnvironment({
        OIDC_ISSUERS: JSON.stringify([
          {
            issuer: cognito,
            audience: '5abc123clientid',
            rolesClaim: 'cognito:groups',
            roleMap: { 'mlops-admins': 'admin', engineers: ['ml-engineer', 'client'] },
            tokenUse: 'access',
          },
          { issuer: 'http://127.0.0.1:9999/realm', audience: ['a', 'b'], jwksUri: 'http://localhost:9999/k' },
        ]),
      });
      expect(config.oidcIssuers).toEqual([
        {
          issuer: cognito,
          audience: ['5abc123clientid'],
          jwksUri: undefined,
          rolesClaim: 'cognito:groups',
          roleMap: { 'mlops-admins': ['admin'], engineers: ['ml-engineer', 'client'] },
          usernameClaim: undefined,
          algorithms: ['RS256', 'ES256'],
          tokenUse: 'access',
        },
        expect.objectContaining({
          audience: ['a', 'b'],
          rolesClaim: 'roles',
          jwksUri: 'http://localhost:9999/k',
        }),
      ]);
    });

    it('names each broken OIDC issuer entry', () => {
      expect(() =>
        AppConfig.fromEnvironment({
          OIDC_ISSUERS: '[{"issuer": "https://a.example.com", "audience": "x"}, 42, {"audience": ""}]',
        }),
      ).toThrow(
        /OIDC_ISSUERS\[1\] must be an object[\s\S]*OIDC_ISSUERS\[2\]\.issuer[\s\S]*OIDC_ISSUERS\[2\]\.audience/,
      );
    });
  });
});
