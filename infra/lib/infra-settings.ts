import type { Node } from 'constructs';

/** Everything a deployment chooses, read from CDK context (`cdk.json`, or `-c key=value` on the command line). */
export interface InfraSettings {
  /** ACM certificate for the HTTPS listener, in the stack's region. */
  certificateArn: string;
  /** The name the certificate is for (api.example.com): the smoke test and the Cognito issuer audience use it. */
  domainName?: string;
  /** `owner/repo` of the GitHub repository allowed to deploy (from its main branch only). */
  githubRepository: string;
  /** An existing GitHub OIDC provider of the account (there can be one per account); unset: the stack creates it. */
  githubOidcProviderArn?: string;
  /** RDS Multi-AZ and a Redis replica with automatic failover. */
  multiAz: boolean;
  natGateways: number;
  enableCognito: boolean;
  apiInstanceType: string;
  workerInstanceType: string;
  monitoringInstanceType: string;
  apiMinCapacity: number;
  apiMaxCapacity: number;
  workerMinCapacity: number;
  workerMaxCapacity: number;
  databaseInstanceType: string;
  redisNodeType: string;
  predictionImageRetentionDays: number;
  /** The image tag written to the SSM parameter when the stack creates it; the deploy workflow owns it afterwards. */
  initialImageTag: string;
  /** Subscribed to the alarm topic when set. */
  alarmEmail?: string;
}

type Context = Pick<Node, 'tryGetContext'>;

function text(node: Context, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function required(node: Context, key: string, example: string): string {
  const value = text(node, key);
  if (!value) throw new Error(`context "${key}" is required: cdk deploy -c ${key}=${example}`);
  return value;
}

function flag(node: Context, key: string, fallback: boolean): boolean {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context "${key}" must be true or false, got ${JSON.stringify(value)}`);
}

function whole(node: Context, key: string, fallback: number, min: number): number {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new Error(
      `context "${key}" must be a whole number of at least ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

export function readSettings(scope: { node: Context }): InfraSettings {
  const { node } = scope;
  const githubRepository = required(node, 'githubRepository', 'my-org/product-classifier');
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(githubRepository)) {
    throw new Error(`context "githubRepository" must be owner/repo, got "${githubRepository}"`);
  }
  const certificateArn = required(node, 'certificateArn', 'arn:aws:acm:REGION:ACCOUNT:certificate/ID');
  if (!certificateArn.startsWith('arn:aws:acm:')) {
    throw new Error(`context "certificateArn" must be an ACM certificate ARN, got "${certificateArn}"`);
  }
  const settings: InfraSettings = {
    certificateArn,
    domainName: text(node, 'domainName'),
    githubRepository,
    githubOidcProviderArn: text(node, 'githubOidcProviderArn'),
    multiAz: flag(node, 'multiAz', false),
    natGateways: whole(node, 'natGateways', 1, 1),
    enableCognito: flag(node, 'enableCognito', false),
    apiInstanceType: text(node, 'apiInstanceType') ?? 't3.medium',
    workerInstanceType: text(node, 'workerInstanceType') ?? 'm6i.large',
    monitoringInstanceType: text(node, 'monitoringInstanceType') ?? 't3.small',
    apiMinCapacity: whole(node, 'apiMinCapacity', 2, 1),
    apiMaxCapacity: whole(node, 'apiMaxCapacity', 6, 1),
    workerMinCapacity: whole(node, 'workerMinCapacity', 0, 0),
    workerMaxCapacity: whole(node, 'workerMaxCapacity', 1, 1),
    databaseInstanceType: text(node, 'databaseInstanceType') ?? 't4g.micro',
    redisNodeType: text(node, 'redisNodeType') ?? 'cache.t4g.micro',
    predictionImageRetentionDays: whole(node, 'predictionImageRetentionDays', 90, 1),
    initialImageTag: text(node, 'initialImageTag') ?? 'none',
    alarmEmail: text(node, 'alarmEmail'),
  };
  if (
    settings.apiMaxCapacity < settings.apiMinCapacity ||
    settings.workerMaxCapacity < settings.workerMinCapacity
  ) {
    throw new Error('context: each MaxCapacity must be at least its MinCapacity');
  }
  return settings;
}
