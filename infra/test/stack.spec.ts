import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthesize } from './stack.fixture';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Actions that AWS only grants on Resource "*", each with the reason the stack needs it. */
const STAR_RESOURCE_ALLOWED: Record<string, string> = {
  'ecr:GetAuthorizationToken': 'docker login to ECR',
  'cloudwatch:PutMetricData': 'the queue backlog metric (limited by a namespace condition)',
  'ec2:DescribeInstances': 'Prometheus EC2 service discovery',
  'autoscaling:DescribeAutoScalingGroups': 'the deploy workflow finds instances',
  'autoscaling:DescribeInstanceRefreshes': 'the deploy workflow waits for refreshes',
  'ssm:GetCommandInvocation': 'the deploy workflow reads the migration result',
};

describe('AWS infrastructure', () => {
  let app: App;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ app, template } = synthesize());
    resources = template.toJSON().Resources as Resources;
  });

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const subnetIdsOf = (kind: string) =>
    ofType('AWS::EC2::Subnet')
      .filter(([, r]) =>
        (r.Properties.Tags as { Key: string; Value: string }[]).some(
          (t) => t.Key === 'aws-cdk:subnet-type' && t.Value === kind,
        ),
      )
      .map(([id]) => id);
  const statements = (): Statement[] =>
    ofType('AWS::IAM::Policy').flatMap(
      ([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
  const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const ingressOf = (groupId: string) =>
    ofType('AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId).includes(groupId));
  const groupId = (prefix: string) =>
    ofType('AWS::EC2::SecurityGroup').find(([id]) => id.startsWith(prefix))![0];

  it('keeps the database private, encrypted, backed up and protected, in the isolated subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^15'),
      PubliclyAccessible: false,
      StorageEncrypted: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 7,
    });
    const [, subnetGroup] = ofType('AWS::RDS::DBSubnetGroup')[0];
    const ids = (subnetGroup.Properties.SubnetIds as { Ref: string }[]).map((s) => s.Ref);
    expect(ids.length).toBe(2);
    expect(subnetIdsOf('Isolated')).toEqual(expect.arrayContaining(ids));
  });

  it('runs Redis as an encrypted replication group that never evicts (BullMQ)', () => {
    expect(ofType('AWS::ElastiCache::ServerlessCache')).toHaveLength(0);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      AuthToken: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      Properties: { 'maxmemory-policy': 'noeviction' },
    });
  });

  it('encrypts the artifact bucket, blocks public access, refuses plain HTTP and expires prediction images', () => {
    const [[bucketId, bucket]] = ofType('AWS::S3::Bucket').filter(([id]) => id.startsWith('ArtifactBucket'));
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: expect.anything() }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: expect.anything(),
    });
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: 'prediction-images/', ExpirationInDays: 90, Status: 'Enabled' }),
    );
    const policy = ofType('AWS::S3::BucketPolicy').find(([, r]) =>
      JSON.stringify(r.Properties.Bucket).includes(bucketId),
    );
    expect((policy![1].Properties.PolicyDocument as { Statement: unknown[] }).Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('takes the prediction image retention from context', () => {
    const { template: other } = synthesize({ predictionImageRetentionDays: 30 });
    other.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'prediction-images/', ExpirationInDays: 30 })]),
      },
    });
  });

  it('lets only the application tier reach PostgreSQL and Redis, and nobody outside reach the instances', () => {
    const app = groupId('AppSecurityGroup');
    for (const [group, port] of [
      ['DatabaseSecurityGroup', 5432],
      ['RedisSecurityGroup', 6379],
    ] as const) {
      const rules = ingressOf(groupId(group));
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ FromPort: port, ToPort: port });
      expect(JSON.stringify(rules[0].SourceSecurityGroupId)).toContain(app);
    }
    for (const [id, group] of ofType('AWS::EC2::SecurityGroup')) {
      if (id.startsWith('AlbSecurityGroup')) continue;
      expect(group.Properties.SecurityGroupIngress ?? []).toEqual([]);
      for (const rule of ingressOf(id)) {
        expect(rule.CidrIp).toBeUndefined();
        expect(rule.CidrIpv6).toBeUndefined();
      }
    }
    const appRules = ingressOf(app);
    expect(appRules.map((r) => r.FromPort).sort()).toEqual([3000, 3000, 3001]);
  });

  it('grants no IAM wildcard action, and Resource "*" only to the actions that need it', () => {
    for (const statement of statements()) {
      for (const action of actionsOf(statement)) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/:\*$/);
      }
      if (
        statement.Resource === '*' ||
        (Array.isArray(statement.Resource) && statement.Resource.includes('*'))
      ) {
        for (const action of actionsOf(statement)) {
          expect({ action, allowed: action in STAR_RESOURCE_ALLOWED }).toEqual({ action, allowed: true });
        }
      }
    }
  });

  it('lets only the main branch of the configured repository assume the deploy role', () => {
    const roles = ofType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('sts:AssumeRoleWithWebIdentity'),
    );
    expect(roles).toHaveLength(1);
    const [trust] = (
      roles[0][1].Properties.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] }
    ).Statement;
    expect(trust.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': 'repo:example-org/product-classifier:ref:refs/heads/main',
      },
    });
  });

  it('requires IMDSv2 and encrypted gp3 volumes in every launch template', () => {
    const templates = ofType('AWS::EC2::LaunchTemplate');
    expect(templates).toHaveLength(3);
    for (const [, lt] of templates) {
      const data = lt.Properties.LaunchTemplateData as Record<string, unknown>;
      expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required' });
      expect(data.BlockDeviceMappings).toEqual([
        expect.objectContaining({ Ebs: expect.objectContaining({ Encrypted: true, VolumeType: 'gp3' }) }),
      ]);
    }
  });

  it('tags the instances with their service and role', () => {
    for (const role of ['api', 'worker', 'monitoring']) {
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        Tags: Match.arrayWith([
          { Key: 'Role', Value: role, PropagateAtLaunch: true },
          { Key: 'Service', Value: 'product-classifier', PropagateAtLaunch: true },
        ]),
      });
    }
  });

  it('passes the cdk-nag AWS Solutions checks, every remaining finding acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });
});
