import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

export interface GithubDeployProps {
  /** owner/repo */
  githubRepository: string;
  githubOidcProviderArn?: string;
  repository: ecr.IRepository;
  groups: autoscaling.IAutoScalingGroup[];
  imageTag: ssm.IStringParameter;
  migrationDocumentName: string;
  bucket: s3.IBucket;
  /** The cdk-nag finding id of the bucket's monitoring/* objects, as the stack names it. */
  bucketObjectsFinding: string;
}

const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/**
 * The role .github/workflows/deploy.yml assumes through GitHub's OIDC tokens: only workflows of the main branch of
 * one repository, and only what a deploy does (push the image, migrate, move the image tag, refresh the groups).
 */
export class GithubDeploy extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GithubDeployProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const provider = props.githubOidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'Provider', props.githubOidcProviderArn)
      : new iam.OidcProviderNative(this, 'Provider', {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: ['sts.amazonaws.com'],
        });
    this.role = new iam.Role(this, 'Role', {
      description: `deploys product-classifier from ${props.githubRepository} (main)`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC_HOST}:sub`]: `repo:${props.githubRepository}:ref:refs/heads/main`,
        },
      }),
    });
    const role = this.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:DescribeImages',
          'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart',
          'ecr:CompleteLayerUpload',
          'ecr:PutImage',
        ],
        resources: [props.repository.repositoryArn],
      }),
    );
    const groupArns = props.groups.map(
      (group) =>
        `arn:${stack.partition}:autoscaling:${stack.region}:${stack.account}:autoScalingGroup:*:autoScalingGroupName/${group.autoScalingGroupName}`,
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['autoscaling:StartInstanceRefresh', 'autoscaling:CancelInstanceRefresh'],
        resources: groupArns,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ecr:GetAuthorizationToken',
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeInstanceRefreshes',
          'ssm:GetCommandInvocation',
        ],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [
          `arn:${stack.partition}:ssm:${stack.region}:${stack.account}:document/${props.migrationDocumentName}`,
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:instance/*`],
        conditions: {
          StringEquals: { 'ssm:resourceTag/Service': 'product-classifier', 'ssm:resourceTag/Role': 'api' },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [props.imageTag.parameterArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:DescribeStacks'],
        resources: [
          stack.formatArn({
            service: 'cloudformation',
            resource: 'stack',
            resourceName: `${stack.stackName}/*`,
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [props.bucket.arnForObjects('monitoring/*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['monitoring/*'] } },
      }),
    );
    const groupFindings = props.groups.map(
      (group) =>
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<${stack.getLogicalId(group.node.defaultChild as CfnElement)}>]`,
    );
    const reasons: Record<string, string> = {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken, autoscaling:Describe* and ssm:GetCommandInvocation have no resource-level permissions.',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]':
        'SendCommand reaches instances tagged Service=product-classifier and Role=api only (condition); their ids change with every refresh.',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${stack.stackName}/*]`]:
        "The stack id suffix is only known after creation; the workflow reads this one stack's outputs.",
      [props.bucketObjectsFinding]: 'The workflow copies the monitoring configuration under monitoring/.',
      ...Object.fromEntries(
        groupFindings.map((finding) => [
          finding,
          'An Auto Scaling group ARN holds a generated id; the name pins the group.',
        ]),
      ),
    };
    for (const [id, reason] of Object.entries(reasons)) Validations.of(role).acknowledge({ id, reason });
  }
}
