import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EnvironmentSchema } from './environment.schema';

const ENVIRONMENT_KEYS: ReadonlyArray<keyof EnvironmentSchema> = [
  'NODE_ENV',
  'PORT',
  'WORKER_PORT',
  'LOG_LEVEL',
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'REDIS_URL',
  'S3_BUCKET',
  'S3_ENDPOINT',
  'S3_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'DATA_DIR',
  'VAR_DIR',
  'PREDICTION_BATCH_LIMIT',
  'MAX_IMAGE_BYTES',
  'MAX_BODY_BYTES',
  'MODEL_POLL_INTERVAL_MS',
  'BOOTSTRAP_MODEL',
  'JWT_SECRET',
  'ADMIN_USERNAME',
  'ADMIN_PASSWORD',
  'ALERTMANAGER_WEBHOOK_TOKEN',
];

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
  private constructor(readonly env: Readonly<EnvironmentSchema>) {}

  static fromEnvironment(source: Record<string, string | undefined> = process.env): AppConfig {
    const relevant: Record<string, string> = {};
    for (const key of ENVIRONMENT_KEYS) {
      const value = source[key];
      if (value !== undefined) relevant[key] = value;
    }
    const env = plainToInstance(EnvironmentSchema, relevant, { enableImplicitConversion: false });
    const problems = validateSync(env, { whitelist: true, stopAtFirstError: true }).flatMap(describe);
    problems.push(...crossFieldProblems(env));
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return new AppConfig(Object.freeze(env));
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
  return problems;
}
