import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  getMetadataStorage,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const trimmedOrUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const blankAs =
  (fallback: string) =>
  ({ value }: { value: unknown }) =>
    typeof value === 'string' && value.trim() === '' ? fallback : value;

/** true/false, 1/0, yes/no, on/off; anything else is left as a string for IsBoolean to refuse. */
const booleanFlag = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return v === '' ? undefined : value;
};

/**
 * Every environment variable the processes read. Unset optional services select the embedded drivers
 * (SQLite, local artifact directory, in-process jobs). Documented in docs/configuration.md.
 */
export class EnvironmentSchema {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Type(() => Number)
  @Min(0)
  @Max(65535)
  // class-validator checks decorators bottom-up: the type check must come first.
  @IsInt({ message: 'PORT must be a whole number, e.g. PORT=3000' })
  PORT = 3000;

  @Type(() => Number)
  @Min(0)
  @Max(65535)
  // class-validator checks decorators bottom-up: the type check must come first.
  @IsInt({ message: 'WORKER_PORT must be a whole number, e.g. WORKER_PORT=3001' })
  WORKER_PORT = 3001;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// URL (leave it unset to use the embedded SQLite file)',
  })
  DATABASE_URL?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]*$/, {
    message: 'DATABASE_SCHEMA must be a lower-case PostgreSQL schema name such as public or mlops',
  })
  DATABASE_SCHEMA?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'REDIS_URL must be a redis:// or rediss:// URL (leave it unset to run jobs in-process)',
  })
  REDIS_URL?: string;

  /**
   * The deployment's namespace in Redis: the prefix of every key (queue, rate limits) and channel (production
   * changes) it uses, so that deployments (or test runs) sharing one Redis never see each other's.
   */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'QUEUE_PREFIX must be 1 to 64 letters, digits, dashes or underscores, e.g. QUEUE_PREFIX=bull',
  })
  QUEUE_PREFIX = 'bull';

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(3)
  S3_BUCKET?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'S3_ENDPOINT must be an http:// or https:// URL' })
  S3_ENDPOINT?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  S3_REGION?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  AWS_ACCESS_KEY_ID?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  AWS_SECRET_ACCESS_KEY?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  /**
   * Where the training data lives in the artifact store (the S3 bucket, or the local artifact directory), for
   * processes without DATA_DIR: a Rakuten-layout folder under this prefix, copied to VAR_DIR before training.
   */
  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^(?!.*\.\.)[A-Za-z0-9_.\-/]{1,200}$/, {
    message: 'DATA_S3_PREFIX must be a key prefix such as data/rakuten/ (letters, digits, _ . - /, no "..")',
  })
  DATA_S3_PREFIX?: string;

  /** Where tests and benchmarks find the Rakuten files; the services read DATA_DIR instead. */
  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  RAKUTEN_DATA_DIR?: string;

  /** Unset: the fastest TensorFlow.js backend that loads here. Tests pin `cpu` or `wasm`. */
  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsIn(['tensorflow', 'wasm', 'cpu'], {
    message: 'TFJS_BACKEND must be tensorflow, wasm or cpu (unset: the fastest)',
  })
  TFJS_BACKEND?: 'tensorflow' | 'wasm' | 'cpu';

  @IsString()
  VAR_DIR = './var';

  @Type(() => Number)
  @Min(1)
  @Max(10_000)
  @IsInt({ message: 'PREDICTION_BATCH_LIMIT must be a whole number of items, e.g. 256' })
  PREDICTION_BATCH_LIMIT = 256;

  /**
   * Worker threads that score text (0: the event loop's own thread). More threads use more cores for batches and
   * keep the event loop free; each holds its own copy of the text models.
   */
  @Type(() => Number)
  @Min(0)
  @Max(64)
  @IsInt({
    message: 'SCORING_THREADS must be a whole number of threads, e.g. 2 (0 scores on the main thread)',
  })
  SCORING_THREADS = 0;

  /**
   * Prediction requests (single or batch) the API works on at once. Past it, a new one is answered 503 with
   * Retry-After at once, before its body is read: under overload callers get a fast refusal rather than a wait that
   * grows without bound. 0: no limit.
   */
  @Type(() => Number)
  @Min(0)
  @Max(100_000)
  @IsInt({ message: 'MAX_IN_FLIGHT must be a whole number of requests, e.g. 64 (0: no limit)' })
  MAX_IN_FLIGHT = 64;

  /**
   * The longest a prediction request admitted under MAX_IN_FLIGHT may wait for the model; one that waited longer
   * is answered 503 with Retry-After instead of late. 0 (the default): no bound. Off by default because the wait
   * it sees is mostly a stall already over (a model swap, a starved CPU): measured, it refused half the batches and
   * requests during swaps that would have been answered a few milliseconds later.
   */
  @Type(() => Number)
  @Min(0)
  @Max(600_000)
  @IsInt({ message: 'MAX_QUEUE_WAIT_MS must be a whole number of milliseconds, e.g. 250 (0: no bound)' })
  MAX_QUEUE_WAIT_MS = 0;

  @Type(() => Number)
  @Min(1)
  @Max(3600)
  @IsInt({ message: 'SHED_RETRY_AFTER_SECONDS must be a whole number of seconds, e.g. 1' })
  SHED_RETRY_AFTER_SECONDS = 1;

  @Type(() => Number)
  @Min(1024)
  @IsInt({ message: 'MAX_IMAGE_BYTES must be a whole number of bytes, e.g. 5242880 (5 MiB)' })
  MAX_IMAGE_BYTES = 5 * 1024 * 1024;

  @Type(() => Number)
  @Min(1024)
  @IsInt({ message: 'MAX_BODY_BYTES must be a whole number of bytes, e.g. 10485760 (10 MiB)' })
  MAX_BODY_BYTES = 10 * 1024 * 1024;

  /**
   * Images are refused from their header, before decoding, past these dimensions: an image small on disk can
   * claim a size whose decoding takes gigabytes. 50 MP and 12,000 px a side hold every camera photo.
   */
  @Type(() => Number)
  @Min(4096)
  @Max(268_402_689)
  @IsInt({ message: 'MAX_IMAGE_PIXELS must be a whole number of pixels, e.g. 50000000 (50 megapixels)' })
  MAX_IMAGE_PIXELS = 50_000_000;

  @Type(() => Number)
  @Min(64)
  @Max(65_535)
  @IsInt({ message: 'MAX_IMAGE_SIDE must be a whole number of pixels, e.g. 12000' })
  MAX_IMAGE_SIDE = 12_000;

  /** Request images decoded at the same time; the others wait, so a burst of large photos cannot pile up. */
  @Type(() => Number)
  @Min(1)
  @Max(64)
  @IsInt({ message: 'IMAGE_DECODE_CONCURRENCY must be a whole number of decodes at a time, e.g. 2' })
  IMAGE_DECODE_CONCURRENCY = 2;

  /**
   * Worker threads that extract image features with the pretrained backbone, off the event loop: at most this many
   * photos are extracted at once per process (about 0.1 s each on one core), the others wait their turn.
   */
  @Type(() => Number)
  @Min(1)
  @Max(64)
  @IsInt({ message: 'IMAGE_FEATURE_THREADS must be a whole number of threads, e.g. 1' })
  IMAGE_FEATURE_THREADS = 1;

  /**
   * Socket timeouts of the API's HTTP server: a client gets this long to send its headers, then its whole
   * request; an idle kept-alive connection is closed after the keep-alive timeout. Checked together in AppConfig.
   */
  @Type(() => Number)
  @Min(1000)
  @Max(600_000)
  @IsInt({ message: 'HTTP_HEADERS_TIMEOUT_MS must be a whole number of milliseconds, e.g. 10000' })
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  @Type(() => Number)
  @Min(1000)
  @Max(3_600_000)
  @IsInt({ message: 'HTTP_REQUEST_TIMEOUT_MS must be a whole number of milliseconds, e.g. 60000' })
  HTTP_REQUEST_TIMEOUT_MS = 60_000;

  @Type(() => Number)
  @Min(1000)
  @Max(600_000)
  @IsInt({ message: 'HTTP_KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds, e.g. 5000' })
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;

  @Type(() => Number)
  @Min(100)
  @IsInt({ message: 'MODEL_POLL_INTERVAL_MS must be a whole number of milliseconds, e.g. 5000' })
  MODEL_POLL_INTERVAL_MS = 5000;

  @Type(() => Number)
  @Min(0)
  @Max(600_000)
  @IsInt({ message: 'SHUTDOWN_GRACE_MS must be a whole number of milliseconds, e.g. 2000' })
  SHUTDOWN_GRACE_MS = 2000;

  /**
   * The worker, after SIGTERM or SIGINT: how long the running training job has to stop and be handed back to the
   * queue before the process exits anyway (the job is then recovered by the stalled-job check).
   */
  @Type(() => Number)
  @Min(0)
  @Max(600_000)
  @IsInt({ message: 'WORKER_SHUTDOWN_MS must be a whole number of milliseconds, e.g. 10000' })
  WORKER_SHUTDOWN_MS = 10_000;

  /**
   * The promotion gate (see README): a retrained candidate is promoted when its weighted F1 on the frozen evaluation
   * split is at least production's minus GATE_TOLERANCE and at least GATE_FLOOR, and no class with
   * GATE_MIN_CLASS_SUPPORT evaluation rows or more loses more than GATE_MAX_CLASS_DROP of its F1.
   */
  @Type(() => Number)
  @Min(0)
  @Max(1)
  @IsNumber({}, { message: 'GATE_TOLERANCE must be a number from 0 to 1, e.g. 0.005' })
  GATE_TOLERANCE = 0.005;

  @Type(() => Number)
  @Min(0)
  @Max(1)
  @IsNumber({}, { message: 'GATE_FLOOR must be a number from 0 to 1, e.g. 0.5' })
  GATE_FLOOR = 0.5;

  @Type(() => Number)
  @Min(0)
  @Max(1)
  @IsNumber({}, { message: 'GATE_MAX_CLASS_DROP must be a number from 0 to 1, e.g. 0.15' })
  GATE_MAX_CLASS_DROP = 0.15;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'GATE_MIN_CLASS_SUPPORT must be a whole number of rows, e.g. 10' })
  GATE_MIN_CLASS_SUPPORT = 10;

  /**
   * Live quality: each model version is scored on its most recent labelled predictions, at most
   * LIVE_WINDOW_SIZE of them and none labelled more than LIVE_WINDOW_MINUTES ago, refreshed every
   * LIVE_REFRESH_SECONDS. LIVE_F1_THRESHOLD and LIVE_MIN_SAMPLES are exported as metrics for the alert rule.
   */
  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'LIVE_WINDOW_MINUTES must be a whole number of minutes, e.g. 1440' })
  LIVE_WINDOW_MINUTES = 1440;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'LIVE_WINDOW_SIZE must be a whole number of labelled predictions, e.g. 1000' })
  LIVE_WINDOW_SIZE = 1000;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'LIVE_MIN_SAMPLES must be a whole number of labelled predictions, e.g. 200' })
  LIVE_MIN_SAMPLES = 200;

  @Type(() => Number)
  @Min(0)
  @Max(1)
  @IsNumber({}, { message: 'LIVE_F1_THRESHOLD must be a number from 0 to 1, e.g. 0.6' })
  LIVE_F1_THRESHOLD = 0.6;

  /**
   * Automatic acceptance: the precision an operator wants among the answers accepted without review. Each model
   * version derives its own threshold from its held-out coverage / precision curve (docs/calibration.md).
   */
  @Type(() => Number)
  @Max(1, { message: 'AUTO_ACCEPT_PRECISION must be a precision above 0 and at most 1, e.g. 0.95' })
  @IsPositive({ message: 'AUTO_ACCEPT_PRECISION must be a precision above 0 and at most 1, e.g. 0.95' })
  @IsNumber({}, { message: 'AUTO_ACCEPT_PRECISION must be a number above 0 and at most 1, e.g. 0.95' })
  AUTO_ACCEPT_PRECISION = 0.95;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'LIVE_REFRESH_SECONDS must be a whole number of seconds, e.g. 15' })
  LIVE_REFRESH_SECONDS = 15;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'FEEDBACK_BATCH_LIMIT must be a whole number of labels, e.g. 1000' })
  FEEDBACK_BATCH_LIMIT = 1000;

  /**
   * The share of all predictions drawn at random into the review queue's audit sample: their labels, with the
   * callers' own, are the only ones the live F1 reads (review labels come from the uncertain end). 0: no audit.
   */
  @Type(() => Number)
  @Min(0)
  @Max(1)
  @IsNumber({}, { message: 'AUDIT_SAMPLE_RATE must be a number from 0 to 1, e.g. 0.02' })
  AUDIT_SAMPLE_RATE = 0.02;

  /** How long a listing handed to a reviewer (GET /v1/review/next) stays theirs before another may get it. */
  @Type(() => Number)
  @Min(10)
  @Max(86_400)
  @IsInt({ message: 'REVIEW_LEASE_SECONDS must be a whole number of seconds from 10 to 86400, e.g. 300' })
  REVIEW_LEASE_SECONDS = 300;

  /**
   * Alerts one Alertmanager notification may carry (413 past it): each is recorded and acted on in turn. Match the
   * webhook receiver's `max_alerts`, so that Alertmanager truncates a larger group rather than sending it.
   */
  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'WEBHOOK_ALERT_LIMIT must be a whole number of alerts, e.g. 1000' })
  WEBHOOK_ALERT_LIMIT = 1000;

  /** After a retraining finishes, further triggers within this many minutes are recorded as skipped (0: off). */
  @Type(() => Number)
  @Min(0)
  @IsInt({
    message: 'RETRAINING_COOLDOWN_MINUTES must be a whole number of minutes (0 turns it off), e.g. 60',
  })
  RETRAINING_COOLDOWN_MINUTES = 60;

  /** Alert names that start a retraining when Alertmanager reports them firing (comma-separated). */
  @Transform(blankAs('ModelF1BelowThreshold'))
  @Matches(/^[A-Za-z_:][A-Za-z0-9_:]*(\s*,\s*[A-Za-z_:][A-Za-z0-9_:]*)*$/, {
    message: 'RETRAINING_ALERTS must be alert names separated by commas, e.g. ModelF1BelowThreshold',
  })
  RETRAINING_ALERTS = 'ModelF1BelowThreshold';

  /**
   * Drift watch (docs/drift.md): each API replica keeps the last DRIFT_WINDOW predictions of the version it serves
   * and compares them with the version's reference (drift-reference.json in its artifact). A signal is judged once
   * the window holds DRIFT_MIN_WINDOW predictions; its threshold is the DRIFT_QUANTILE quantile of the same signal
   * on DRIFT_BOOTSTRAP_DRAWS windows drawn from the reference. DRIFT_MONITORING=false turns the watch off.
   */
  @Transform(booleanFlag)
  @IsBoolean({ message: 'DRIFT_MONITORING must be true or false' })
  DRIFT_MONITORING = true;

  @Type(() => Number)
  @Min(10)
  @Max(100_000)
  @IsInt({ message: 'DRIFT_WINDOW must be a whole number of predictions, e.g. 1000' })
  DRIFT_WINDOW = 1000;

  @Type(() => Number)
  @Min(10)
  @IsInt({ message: 'DRIFT_MIN_WINDOW must be a whole number of predictions, e.g. 300' })
  DRIFT_MIN_WINDOW = 300;

  @Type(() => Number)
  @Min(0.5)
  @Max(0.9999)
  @IsNumber({}, { message: 'DRIFT_QUANTILE must be a number from 0.5 to 0.9999, e.g. 0.99' })
  DRIFT_QUANTILE = 0.99;

  @Type(() => Number)
  @Min(50)
  @Max(10_000)
  @IsInt({ message: 'DRIFT_BOOTSTRAP_DRAWS must be a whole number of windows, e.g. 400' })
  DRIFT_BOOTSTRAP_DRAWS = 400;

  /** Alert names that boost the audit sampling of the version they name (comma-separated). */
  @Transform(blankAs('ModelDrift'))
  @Matches(/^[A-Za-z_:][A-Za-z0-9_:]*(\s*,\s*[A-Za-z_:][A-Za-z0-9_:]*)*$/, {
    message: 'DRIFT_ALERTS must be alert names separated by commas, e.g. ModelDrift',
  })
  DRIFT_ALERTS = 'ModelDrift';

  /**
   * A firing drift alert raises the audit sampling rate of its version to DRIFT_AUDIT_BOOST_RATE for
   * DRIFT_AUDIT_BOOST_MINUTES, so that labels for the new traffic come sooner (0: no boost, the alert is only
   * recorded and logged).
   */
  @Type(() => Number)
  @Min(0)
  @Max(1)
  @IsNumber(
    {},
    { message: 'DRIFT_AUDIT_BOOST_RATE must be a number from 0 to 1 (0 turns the boost off), e.g. 0.2' },
  )
  DRIFT_AUDIT_BOOST_RATE = 0.2;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'DRIFT_AUDIT_BOOST_MINUTES must be a whole number of minutes, e.g. 720' })
  DRIFT_AUDIT_BOOST_MINUTES = 720;

  /**
   * Photos sent with predictions are kept in the artifact store (content-addressed, under prediction-images/), so
   * that labels reported later can train the image model; kept PREDICTION_IMAGE_RETENTION_DAYS days.
   */
  @Transform(booleanFlag)
  @IsBoolean({ message: 'KEEP_PREDICTION_IMAGES must be true or false' })
  KEEP_PREDICTION_IMAGES = true;

  @Type(() => Number)
  @Min(1)
  @IsInt({ message: 'PREDICTION_IMAGE_RETENTION_DAYS must be a whole number of days, e.g. 90' })
  PREDICTION_IMAGE_RETENTION_DAYS = 90;

  /**
   * The gate also scores both models on the most recent labelled predictions, which the candidate does not train
   * on: at most this many, and never more than a fifth of the labels (0: train on every label).
   */
  @Type(() => Number)
  @Min(0)
  @IsInt({ message: 'GATE_RECENT_FEEDBACK must be a whole number of labelled predictions, e.g. 200' })
  GATE_RECENT_FEEDBACK = 200;

  @IsOptional()
  @IsIn(['auto', 'off'], {
    message: 'BOOTSTRAP_MODEL must be auto (train a first model when the registry is empty) or off',
  })
  BOOTSTRAP_MODEL: 'auto' | 'off' = 'auto';

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters long' })
  JWT_SECRET?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  ADMIN_USERNAME?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'ADMIN_PASSWORD must be at least 12 characters long' })
  ADMIN_PASSWORD?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ALERTMANAGER_WEBHOOK_TOKEN must be at least 16 characters long' })
  ALERTMANAGER_WEBHOOK_TOKEN?: string;

  @Transform(blankAs('product-classifier'))
  @IsString()
  @Matches(/^\S+$/, { message: 'JWT_ISSUER must be one word or URL without spaces, e.g. product-classifier' })
  JWT_ISSUER = 'product-classifier';

  @Transform(blankAs('product-classifier-api'))
  @IsString()
  @Matches(/^\S+$/, {
    message: 'JWT_AUDIENCE must be one word or URL without spaces, e.g. product-classifier-api',
  })
  JWT_AUDIENCE = 'product-classifier-api';

  @Type(() => Number)
  @Min(30)
  @Max(86_400)
  @IsInt({ message: 'JWT_ACCESS_TTL_SECONDS must be a whole number of seconds, e.g. 900 (15 minutes)' })
  JWT_ACCESS_TTL_SECONDS = 900;

  @Type(() => Number)
  @Min(0)
  @Max(300)
  @IsInt({ message: 'JWT_CLOCK_SKEW_SECONDS must be a whole number of seconds between 0 and 300, e.g. 30' })
  JWT_CLOCK_SKEW_SECONDS = 30;

  @Type(() => Number)
  @Min(1)
  @Max(365)
  @IsInt({ message: 'REFRESH_TOKEN_TTL_DAYS must be a whole number of days, e.g. 14' })
  REFRESH_TOKEN_TTL_DAYS = 14;

  @Type(() => Number)
  @Min(4)
  @Max(15)
  @IsInt({ message: 'BCRYPT_COST must be a whole number between 4 and 15 (12 in production)' })
  BCRYPT_COST = 12;

  /** JSON array of external OIDC issuers; parsed and checked entry by entry in AppConfig. */
  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  OIDC_ISSUERS?: string;

  @Type(() => Number)
  @Min(10)
  @Max(86_400)
  @IsInt({ message: 'OIDC_JWKS_CACHE_SECONDS must be a whole number of seconds, e.g. 600' })
  OIDC_JWKS_CACHE_SECONDS = 600;

  @Type(() => Number)
  @Min(200)
  @Max(300_000)
  @IsInt({ message: 'AUTH_CACHE_REFRESH_MS must be a whole number of milliseconds, e.g. 5000' })
  AUTH_CACHE_REFRESH_MS = 5000;

  /** `*` or a comma-separated list of origins; unset: no CORS headers (browsers on other origins are refused). */
  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  /** Express "trust proxy": true, false, a number of hops, or a comma-separated list of addresses/subnets. */
  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^(true|false|\d+|[0-9A-Za-z.:/_-]+(\s*,\s*[0-9A-Za-z.:/_-]+)*)$/, {
    message:
      'TRUST_PROXY must be true, false, a number of proxy hops, or a comma-separated list of addresses',
  })
  TRUST_PROXY?: string;

  @Type(() => Number)
  @Min(0)
  @IsInt({
    message: 'RATE_LIMIT_PER_MINUTE must be a whole number of requests per principal and minute (0: off)',
  })
  RATE_LIMIT_PER_MINUTE = 6000;

  @Type(() => Number)
  @Min(0)
  @IsInt({
    message: 'IP_RATE_LIMIT_PER_MINUTE must be a whole number of requests per address and minute (0: off)',
  })
  IP_RATE_LIMIT_PER_MINUTE = 12_000;

  @Type(() => Number)
  @Min(0)
  @IsInt({
    message:
      'TOKEN_RATE_LIMIT_PER_MINUTE must be a whole number of token requests per address and minute (0: off)',
  })
  TOKEN_RATE_LIMIT_PER_MINUTE = 20;

  @Transform(booleanFlag)
  @IsBoolean({ message: 'PUBLIC_METRICS must be true or false' })
  PUBLIC_METRICS = true;

  @Transform(booleanFlag)
  @IsBoolean({ message: 'PUBLIC_HEALTH must be true or false' })
  PUBLIC_HEALTH = true;

  @Transform(booleanFlag)
  @IsBoolean({ message: 'PUBLIC_DOCS must be true or false (false: /docs is not served)' })
  PUBLIC_DOCS = true;
}

/**
 * The variables the schema declares, from its validation decorators (every setting has at least one), so that the
 * list of keys read from the environment cannot drift from the schema.
 */
export const ENVIRONMENT_KEYS: ReadonlyArray<keyof EnvironmentSchema> = [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(EnvironmentSchema, '', true, false)
      .map((metadata) => metadata.propertyName as keyof EnvironmentSchema),
  ),
];
