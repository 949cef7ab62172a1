import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { ENVIRONMENT_KEYS, EnvironmentSchema } from './environment.schema';
import { parseOidcIssuers, type OidcIssuerSettings } from './oidc-issuers.config';

/** Usernames: what people type, and what appears in audit logs. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{0,127}$/;
export const USERNAME_RULE =
  'a username must be 1 to 128 lower-case letters, digits, dots, underscores, @ or dashes, starting with a letter or digit';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

export interface S3Settings {
  bucket: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Typed, validated view of the environment. Built once at boot; never reads process.env afterwards. */
export class AppConfig {
  private constructor(readonly env: Readonly<EnvironmentSchema>) {
    this.oidcIssuers = Object.freeze(parseOidcIssuers(env.OIDC_ISSUERS).issuers);
  }

  /** The promotion gate's rules (GATE_*). */
  get gate(): { tolerance: number; floor: number; maxClassDrop: number; minClassSupport: number } {
    const { GATE_TOLERANCE, GATE_FLOOR, GATE_MAX_CLASS_DROP, GATE_MIN_CLASS_SUPPORT } = this.env;
    return {
      tolerance: GATE_TOLERANCE,
      floor: GATE_FLOOR,
      maxClassDrop: GATE_MAX_CLASS_DROP,
      minClassSupport: GATE_MIN_CLASS_SUPPORT,
    };
  }

  /** The alert names of RETRAINING_ALERTS. */
  get retrainingAlerts(): string[] {
    return this.env.RETRAINING_ALERTS.split(',').map((name) => name.trim());
  }

  /** The alert names of DRIFT_ALERTS. */
  get driftAlerts(): string[] {
    return this.env.DRIFT_ALERTS.split(',').map((name) => name.trim());
  }

  /** The drift watch's window and thresholds (DRIFT_*). */
  get drift(): { window: number; minWindow: number; quantile: number; draws: number } {
    const { DRIFT_WINDOW, DRIFT_MIN_WINDOW, DRIFT_QUANTILE, DRIFT_BOOTSTRAP_DRAWS } = this.env;
    return {
      window: DRIFT_WINDOW,
      minWindow: DRIFT_MIN_WINDOW,
      quantile: DRIFT_QUANTILE,
      draws: DRIFT_BOOTSTRAP_DRAWS,
    };
  }

  /** The external OIDC issuers of OIDC_ISSUERS, validated. */
  readonly oidcIssuers: ReadonlyArray<OidcIssuerSettings>;

  static fromEnvironment(source: Record<string, string | undefined> = process.env): AppConfig {
    const relevant: Record<string, string> = {};
    for (const key of ENVIRONMENT_KEYS) {
      const value = source[key];
      if (value !== undefined) relevant[key] = value;
    }
    // The entry point validates before Nest starts and the ConfigModule asks again: the same environment gives
    // the same (immutable) config instead of a second validation.
    const key = JSON.stringify(relevant);
    if (AppConfig.last?.key === key) return AppConfig.last.config;
    const env = plainToInstance(EnvironmentSchema, relevant, { enableImplicitConversion: false });
    const problems = validateSync(env, { whitelist: true, stopAtFirstError: true }).flatMap(describe);
    problems.push(...crossFieldProblems(env));
    if (problems.length > 0) throw new ConfigValidationError(problems);
    const config = new AppConfig(Object.freeze(env));
    AppConfig.last = { key, config };
    return config;
  }

  private static last?: { key: string; config: AppConfig };

  /**
   * One setting, validated by the schema like the rest, for code that runs outside a Nest process (worker threads,
   * a library's own defaults) and needs only that setting: the other variables are not checked here.
   */
  static setting<K extends keyof EnvironmentSchema>(
    key: K,
    source: Record<string, string | undefined> = process.env,
  ): EnvironmentSchema[K] {
    const given = source[key];
    const env = plainToInstance(EnvironmentSchema, given === undefined ? {} : { [key]: given }, {
      enableImplicitConversion: false,
    });
    const problems = validateSync(env, { whitelist: true, stopAtFirstError: true })
      .filter((error) => error.property === key)
      .flatMap(describe);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return env[key];
  }

  /** CORS_ORIGINS as Express's cors `origin` option: false (no CORS), true (any origin) or the allowed origins. */
  get corsOrigins(): boolean | string[] {
    const raw = this.env.CORS_ORIGINS;
    if (!raw) return false;
    if (raw.trim() === '*') return true;
    return splitList(raw);
  }

  /** TRUST_PROXY as Express's `trust proxy` setting. */
  get trustProxy(): boolean | number | string[] {
    const raw = this.env.TRUST_PROXY;
    if (!raw || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d+$/.test(raw)) return Number(raw);
    return splitList(raw);
  }

  get s3(): S3Settings | undefined {
    const { S3_BUCKET, S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = this.env;
    if (!S3_BUCKET) return undefined;
    return {
      bucket: S3_BUCKET,
      endpoint: S3_ENDPOINT,
      region: S3_REGION ?? 'us-east-1',
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
    };
  }
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function describe(error: ValidationError): string[] {
  const own = Object.values(error.constraints ?? {}).map((message) =>
    message.startsWith(error.property) ? message : `${error.property}: ${message}`,
  );
  return [...own, ...(error.children ?? []).flatMap(describe)];
}

function crossFieldProblems(env: EnvironmentSchema): string[] {
  const problems: string[] = [];
  const s3Given = [env.S3_ENDPOINT, env.S3_REGION].some((v) => v !== undefined);
  if (s3Given && !env.S3_BUCKET) {
    problems.push(
      'S3_BUCKET must be set when S3_ENDPOINT or S3_REGION is set (unset all S3_* for local storage)',
    );
  }
  if (Boolean(env.AWS_ACCESS_KEY_ID) !== Boolean(env.AWS_SECRET_ACCESS_KEY)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  }
  if (Boolean(env.ADMIN_USERNAME) !== Boolean(env.ADMIN_PASSWORD)) {
    problems.push('ADMIN_USERNAME and ADMIN_PASSWORD must be set together');
  }
  if (env.ADMIN_USERNAME !== undefined && !USERNAME_PATTERN.test(env.ADMIN_USERNAME.toLowerCase())) {
    problems.push(USERNAME_RULE.replace('a username', 'ADMIN_USERNAME'));
  }
  // Node refuses a headers timeout longer than the request timeout. (An idle kept-alive connection is not timed by
  // the headers timeout on Node >= 18: measured, so the keep-alive timeout may exceed it, as behind a load balancer.)
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS (${env.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (env.DRIFT_MIN_WINDOW > env.DRIFT_WINDOW) {
    problems.push(
      `DRIFT_MIN_WINDOW (${env.DRIFT_MIN_WINDOW}) must not exceed DRIFT_WINDOW (${env.DRIFT_WINDOW})`,
    );
  }
  problems.push(...parseOidcIssuers(env.OIDC_ISSUERS).problems);
  if (parseOidcIssuers(env.OIDC_ISSUERS).issuers.some((i) => i.issuer === env.JWT_ISSUER)) {
    problems.push(
      'OIDC_ISSUERS must not list JWT_ISSUER, the issuer of the tokens this service signs itself',
    );
  }
  if (env.CORS_ORIGINS && env.CORS_ORIGINS.trim() !== '*') {
    for (const origin of splitList(env.CORS_ORIGINS)) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
        problems.push(
          `CORS_ORIGINS: "${origin}" is not an origin such as https://app.example.com (or use * for any origin)`,
        );
      }
    }
  }
  return problems;
}
