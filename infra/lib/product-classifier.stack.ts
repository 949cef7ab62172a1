import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct, IConstruct } from 'constructs';
import { GithubDeploy } from './github-deploy.construct';
import type { InfraSettings } from './infra-settings';
import {
  MONITORING_SCRIPT,
  QUEUE_METRIC_SCRIPT,
  QUEUE_METRIC_SERVICE,
  QUEUE_METRIC_TIMER,
  RUN_SCRIPT,
  SERVICE_UNIT,
} from './instance-scripts';

export interface ProductClassifierStackProps extends StackProps {
  settings: InfraSettings;
}

const API_PORT = 3000;
const WORKER_PORT = 3001;
const RDS_CA_BUNDLE = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';

/** Records why a cdk-nag finding does not apply, on the construct it was found on. */
function acknowledge(scope: IConstruct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason });
}

export class ProductClassifierStack extends Stack {
  constructor(scope: Construct, id: string, props: ProductClassifierStackProps) {
    super(scope, id, props);
    const { settings } = props;
    Tags.of(this).add('Service', 'product-classifier');

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: settings.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    // Security groups: the load balancer reaches the API, the monitoring instance scrapes both processes, and only
    // the application tier reaches the database and Redis.
    const albSg = new ec2.SecurityGroup(this, 'AlbSecurityGroup', { vpc, description: 'public HTTPS' });
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');
    acknowledge(albSg, {
      'AwsSolutions-EC23': 'The public load balancer answers HTTPS (and redirects HTTP) for anyone.',
    });
    const appSg = new ec2.SecurityGroup(this, 'AppSecurityGroup', {
      vpc,
      description: 'api and worker instances',
    });
    const monitoringSg = new ec2.SecurityGroup(this, 'MonitoringSecurityGroup', {
      vpc,
      description: 'Prometheus',
    });
    appSg.addIngressRule(albSg, ec2.Port.tcp(API_PORT), 'API from the load balancer');
    appSg.addIngressRule(monitoringSg, ec2.Port.tcp(API_PORT), 'Prometheus scrapes the API');
    appSg.addIngressRule(monitoringSg, ec2.Port.tcp(WORKER_PORT), 'Prometheus scrapes the worker');
    const dbSg = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', { vpc, description: 'PostgreSQL' });
    dbSg.addIngressRule(appSg, ec2.Port.tcp(5432), 'PostgreSQL from the application tier');
    const redisSg = new ec2.SecurityGroup(this, 'RedisSecurityGroup', { vpc, description: 'Redis' });
    redisSg.addIngressRule(appSg, ec2.Port.tcp(6379), 'Redis from the application tier');

    // Storage: models, training data and the photos kept with predictions, each under its own prefix.
    const logBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(logBucket, { 'AwsSolutions-S1': 'This is the access log bucket; logging it would recurse.' });
    const bucket = new s3.Bucket(this, 'ArtifactBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'prediction-images',
          prefix: 'prediction-images/',
          expiration: Duration.days(settings.predictionImageRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const repository = new ecr.Repository(this, 'Repository', {
      repositoryName: 'product-classifier',
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      lifecycleRules: [{ description: 'keep the last 30 images', maxImageCount: 30 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Secrets: generated by Secrets Manager, read by the instances at container start.
    const jwtSecret = new secretsmanager.Secret(this, 'JwtSecret', {
      description: 'JWT_SECRET of the API (HS256 key of access tokens)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const webhookToken = new secretsmanager.Secret(this, 'WebhookToken', {
      description: 'ALERTMANAGER_WEBHOOK_TOKEN: the API seeds it as a service token, Alertmanager sends it',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const redisToken = new secretsmanager.Secret(this, 'RedisAuthToken', {
      description: 'Redis AUTH token',
      // ElastiCache refuses @, " and / in tokens; letters and digits also need no escaping in REDIS_URL.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    for (const secret of [jwtSecret, webhookToken, redisToken]) {
      acknowledge(secret, {
        'AwsSolutions-SMG4':
          'Instances read this secret when their container starts: rotate it by hand and refresh the instances (docs/deploy.md).',
      });
    }

    const dbParameters = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      parameters: { 'rds.force_ssl': '1' },
    });
    const database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      instanceType: new ec2.InstanceType(settings.databaseInstanceType),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [dbSg],
      publiclyAccessible: false,
      credentials: rds.Credentials.fromGeneratedSecret('classifier'),
      databaseName: 'classifier',
      parameterGroup: dbParameters,
      storageType: rds.StorageType.GP3,
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      storageEncrypted: true,
      backupRetention: Duration.days(7),
      multiAz: settings.multiAz,
      deletionProtection: true,
      iamAuthentication: false,
      cloudwatchLogsExports: ['postgresql'],
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    const databaseSecret = database.secret!;
    acknowledge(database, {
      'AwsSolutions-RDS11': 'The default port is fine: only the application tier security group reaches it.',
      ...(!settings.multiAz && {
        'AwsSolutions-RDS3': 'Multi-AZ is a setting (multiAz=true); off by default for a small deployment.',
      }),
    });
    acknowledge(database.node.findChild('Secret'), {
      'AwsSolutions-SMG4':
        'Rotation is turned on by hand with the hosted rotation function (docs/deploy.md), then instances are refreshed.',
    });

    const redisSubnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'product-classifier Redis',
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    // BullMQ needs a Redis that never evicts keys (and not ElastiCache Serverless, which lacks commands it uses).
    const redisParameters = new elasticache.CfnParameterGroup(this, 'RedisParameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'BullMQ: noeviction',
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    const redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: 'product-classifier queue and model-swap notices',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: settings.redisNodeType,
      numCacheClusters: settings.multiAz ? 2 : 1,
      automaticFailoverEnabled: settings.multiAz,
      multiAzEnabled: settings.multiAz,
      cacheParameterGroupName: redisParameters.ref,
      cacheSubnetGroupName: redisSubnets.ref,
      securityGroupIds: [redisSg.securityGroupId],
      port: 6379,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      authToken: redisToken.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: 1,
    });
    acknowledge(redis, {
      'AwsSolutions-AEC5': 'The default port is fine: only the application tier security group reaches it.',
      ...(!settings.multiAz && {
        'AwsSolutions-AEC4': 'Multi-AZ is a setting (multiAz=true); off by default for a small deployment.',
      }),
    });

    const imageTag = new ssm.StringParameter(this, 'ImageTag', {
      description: 'Image tag the instances run; written by the deploy workflow',
      stringValue: settings.initialImageTag,
    });
    const logGroup = new logs.LogGroup(this, 'ContainerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Optional Cognito user pool: its access tokens reach the API through OIDC_ISSUERS (README, external issuers).
    let oidcIssuers = '';
    if (settings.enableCognito) {
      const pool = new cognito.UserPool(this, 'UserPool', {
        selfSignUpEnabled: false,
        signInAliases: { username: true, email: true },
        passwordPolicy: {
          minLength: 12,
          requireDigits: true,
          requireLowercase: true,
          requireUppercase: true,
        },
        mfa: cognito.Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(pool, {
        'AwsSolutions-COG2': 'MFA is optional so that machine clients work; administrators enrol TOTP.',
        'AwsSolutions-COG3':
          'Threat protection needs the Plus feature plan: a cost choice left to the operator.',
      });
      const api = new cognito.UserPoolResourceServer(this, 'ResourceServer', {
        userPool: pool,
        identifier: 'product-classifier',
        scopes: [{ scopeName: 'predict', scopeDescription: 'ask for predictions' }],
      });
      const client = pool.addClient('ApiClient', {
        authFlows: { userSrp: true },
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [
            cognito.OAuthScope.OPENID,
            cognito.OAuthScope.resourceServer(api, {
              scopeName: 'predict',
              scopeDescription: 'ask for predictions',
            }),
          ],
          callbackUrls: [`https://${settings.domainName ?? 'localhost'}/docs/oauth2-redirect.html`],
        },
      });
      // Cognito puts the pool's groups in cognito:groups; groups named like the roles grant those roles.
      oidcIssuers = Stack.of(this).toJsonString([
        {
          issuer: `https://cognito-idp.${this.region}.amazonaws.com/${pool.userPoolId}`,
          audience: client.userPoolClientId,
          rolesClaim: 'cognito:groups',
          tokenUse: 'access',
        },
      ]);
      new CfnOutput(this, 'UserPoolId', { value: pool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    }

    const settingsFile = (role: string, extra: string[] = []) =>
      [
        `REGION=${this.region}`,
        `ROLE=${role}`,
        `REPOSITORY_URI=${repository.repositoryUri}`,
        `IMAGE_TAG_PARAMETER=${imageTag.parameterName}`,
        `DATABASE_SECRET_ARN=${databaseSecret.secretArn}`,
        `JWT_SECRET_ARN=${jwtSecret.secretArn}`,
        `WEBHOOK_SECRET_ARN=${webhookToken.secretArn}`,
        `REDIS_SECRET_ARN=${redisToken.secretArn}`,
        `REDIS_HOST=${redis.attrPrimaryEndPointAddress}`,
        `REDIS_PORT=${redis.attrPrimaryEndPointPort}`,
        `BUCKET=${bucket.bucketName}`,
        `LOG_GROUP=${logGroup.logGroupName}`,
        `OIDC_ISSUERS='${oidcIssuers}'`,
        ...extra,
      ].join('\n');

    const writeFile = (path: string, content: string, mode: string) => [
      `install -d "$(dirname ${path})"`,
      `cat >${path} <<'EOF_FILE'\n${content}EOF_FILE`,
      `chmod ${mode} ${path}`,
    ];

    const appUserData = (role: 'api' | 'worker') => {
      const userData = ec2.UserData.forLinux();
      userData.addCommands(
        'set -euo pipefail',
        'dnf install -y docker jq',
        'systemctl enable --now docker',
        ...writeFile('/etc/product-classifier/settings', `${settingsFile(role)}\n`, '600'),
        'install -d /etc/pki/rds',
        `curl -sSf -o /etc/pki/rds/rds-ca.pem ${RDS_CA_BUNDLE}`,
        'chmod 644 /etc/pki/rds/rds-ca.pem',
        ...writeFile('/opt/product-classifier/run.sh', RUN_SCRIPT, '755'),
        ...writeFile('/etc/systemd/system/product-classifier.service', SERVICE_UNIT, '644'),
      );
      if (role === 'api') {
        userData.addCommands(
          ...writeFile('/opt/product-classifier/queue-metric.sh', QUEUE_METRIC_SCRIPT, '755'),
          ...writeFile('/etc/systemd/system/queue-metric.service', QUEUE_METRIC_SERVICE, '644'),
          ...writeFile('/etc/systemd/system/queue-metric.timer', QUEUE_METRIC_TIMER, '644'),
          'systemctl daemon-reload',
          'systemctl enable --now queue-metric.timer',
        );
      }
      userData.addCommands(
        'systemctl daemon-reload',
        'systemctl enable --now --no-block product-classifier.service',
      );
      return userData;
    };

    const instanceRole = (id: string) => {
      const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
      acknowledge(role, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]':
          'Session Manager access instead of SSH: the AWS policy is the documented minimum for the SSM agent.',
      });
      return role;
    };
    const allowAppBasics = (role: iam.Role, secrets: secretsmanager.ISecret[]) => {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: [repository.repositoryArn],
        }),
      );
      role.addToPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: secrets.map((secret) => secret.secretArn),
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [imageTag.parameterArn] }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
        }),
      );
      // HeadBucket (readiness) and listing a prefix (training data) are both s3:ListBucket on the bucket.
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      );
    };
    const objects = (prefix: string) => bucket.arnForObjects(`${prefix}/*`);
    // cdk-nag names a wildcard finding after the resource as written in the template.
    const objectsFinding = (prefix: string) =>
      `AwsSolutions-IAM5[Resource::<${this.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${prefix}/*]`;

    const apiRole = instanceRole('ApiRole');
    allowAppBasics(apiRole, [databaseSecret, jwtSecret, redisToken, webhookToken]);
    apiRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects('models')] }),
    );
    apiRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects('prediction-images')] }),
    );
    apiRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'ProductClassifier' } },
      }),
    );
    const workerRole = instanceRole('WorkerRole');
    allowAppBasics(workerRole, [databaseSecret, jwtSecret, redisToken]);
    workerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [objects('models'), objects('data'), objects('prediction-images')],
      }),
    );
    // A registration that fails halfway deletes the files it wrote under models/<version>/.
    workerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [objects('models')],
      }),
    );
    const wildcardReasons = {
      [`AwsSolutions-IAM5[Resource::<${this.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:log-stream:*]`]:
        'Each instance writes its own stream, named after its instance id.',
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken and cloudwatch:PutMetricData (namespace condition) have no resource-level permissions.',
      [objectsFinding('models')]: 'Model versions live under models/<version>/.',
      [objectsFinding('prediction-images')]:
        'Photos kept with predictions, content-addressed under prediction-images/.',
      [objectsFinding('data')]: 'Training data under data/ (DATA_S3_PREFIX).',
    };
    acknowledge(apiRole, wildcardReasons);
    acknowledge(workerRole, wildcardReasons);

    const launchTemplate = (id: string, role: iam.Role, instanceType: string, userData: ec2.UserData) =>
      new ec2.LaunchTemplate(this, id, {
        machineImage: ec2.MachineImage.latestAmazonLinux2023(),
        instanceType: new ec2.InstanceType(instanceType),
        role,
        securityGroup: appSg,
        userData,
        requireImdsv2: true,
        httpPutResponseHopLimit: 1,
        blockDevices: [
          {
            deviceName: '/dev/xvda',
            volume: ec2.BlockDeviceVolume.ebs(30, {
              volumeType: ec2.EbsDeviceVolumeType.GP3,
              encrypted: true,
            }),
          },
        ],
      });
    const asgNagReasons = {
      'AwsSolutions-AS3': 'Scaling activity is visible in the group history and the CloudWatch alarms.',
      'AwsSolutions-EC26': 'The launch template encrypts the root volume (gp3, encrypted: true).',
    };

    const api = new autoscaling.AutoScalingGroup(this, 'ApiGroup', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: launchTemplate(
        'ApiLaunchTemplate',
        apiRole,
        settings.apiInstanceType,
        appUserData('api'),
      ),
      minCapacity: settings.apiMinCapacity,
      maxCapacity: settings.apiMaxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10),
      }),
      defaultInstanceWarmup: Duration.minutes(3),
    });
    Tags.of(api).add('Role', 'api');
    acknowledge(api, asgNagReasons);

    const worker = new autoscaling.AutoScalingGroup(this, 'WorkerGroup', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: launchTemplate(
        'WorkerLaunchTemplate',
        workerRole,
        settings.workerInstanceType,
        appUserData('worker'),
      ),
      minCapacity: settings.workerMinCapacity,
      maxCapacity: settings.workerMaxCapacity,
    });
    Tags.of(worker).add('Role', 'worker');
    acknowledge(worker, asgNagReasons);

    const certificateArn = settings.certificateArn;
    const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSg,
      idleTimeout: Duration.seconds(60),
      dropInvalidHeaderFields: true,
    });
    acknowledge(alb, {
      'AwsSolutions-ELB2':
        'Access logs need the region-specific ELB account, unknown to an environment-agnostic stack; turn them on per region.',
    });
    alb.addListener('Http', {
      port: 80,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    const https = alb.addListener('Https', {
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    });
    const apiTargets = https.addTargets('Api', {
      port: API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [api],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: { path: '/health/ready', healthyThresholdCount: 2, interval: Duration.seconds(15) },
    });
    // Prometheus scrapes the instances inside the VPC; the public side has no business with /metrics.
    https.addAction('HideMetrics', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/metrics'])],
      action: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'text/plain',
        messageBody: 'Not Found',
      }),
    });
    api.scaleOnRequestCount('RequestsPerTarget', { targetRequestsPerMinute: 3000 });

    // The worker scales on the retraining queue's backlog (published by the API instances, see
    // QUEUE_METRIC_SCRIPT), not on CPU: one job runs at a time across all workers, so a job waiting is the reason
    // to start one, and an idle worker costs money for nothing.
    const backlog = new cloudwatch.Metric({
      namespace: 'ProductClassifier',
      metricName: 'RetrainingQueueBacklog',
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    worker.scaleOnMetric('QueueBacklog', {
      metric: backlog,
      adjustmentType: autoscaling.AdjustmentType.EXACT_CAPACITY,
      scalingSteps: [
        { upper: 0, change: settings.workerMinCapacity },
        { lower: 1, change: settings.workerMaxCapacity },
      ],
      // A finished job leaves the backlog at 0: the worker goes after 3 quiet minutes, never during a job (an
      // active job counts in the backlog).
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });

    // Migrations run once per deploy on one API instance, with the new image, before any instance is replaced.
    const migration = new ssm.CfnDocument(this, 'MigrationDocument', {
      documentType: 'Command',
      content: {
        schemaVersion: '2.2',
        description: 'Run the database migrations of an image tag',
        parameters: { ImageTag: { type: 'String', allowedPattern: '^[A-Za-z0-9._-]{1,128}$' } },
        mainSteps: [
          {
            action: 'aws:runShellScript',
            name: 'migrate',
            inputs: {
              runCommand: ['/opt/product-classifier/run.sh migrate {{ ImageTag }}'],
              timeoutSeconds: '900',
            },
          },
        ],
      },
    });

    // Monitoring: Prometheus (EC2 service discovery on the Service/Role tags), Alertmanager, Grafana.
    const monitoringRole = instanceRole('MonitoringRole');
    monitoringRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }),
    );
    monitoringRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects('monitoring')] }),
    );
    monitoringRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['monitoring/*'] } },
      }),
    );
    monitoringRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [webhookToken.secretArn],
      }),
    );
    acknowledge(monitoringRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'ec2:DescribeInstances (Prometheus EC2 service discovery) has no resource-level permissions.',
      [objectsFinding('monitoring')]:
        'The monitoring configuration the deploy workflow copies under monitoring/.',
    });
    const monitoringUserData = ec2.UserData.forLinux();
    monitoringUserData.addCommands(
      'set -euo pipefail',
      'dnf install -y docker',
      'systemctl enable --now docker',
      // Alertmanager calls the API where its clients do: the domain when one is set, else the load balancer.
      ...writeFile(
        '/etc/product-classifier/settings',
        `${settingsFile('monitoring', [`API_URL=https://${settings.domainName ?? alb.loadBalancerDnsName}`])}\n`,
        '600',
      ),
      ...writeFile('/opt/monitoring-start.sh', MONITORING_SCRIPT, '755'),
      '/opt/monitoring-start.sh',
    );
    const monitoring = new autoscaling.AutoScalingGroup(this, 'MonitoringGroup', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: new ec2.LaunchTemplate(this, 'MonitoringLaunchTemplate', {
        machineImage: ec2.MachineImage.latestAmazonLinux2023(),
        instanceType: new ec2.InstanceType(settings.monitoringInstanceType),
        role: monitoringRole,
        securityGroup: monitoringSg,
        userData: monitoringUserData,
        requireImdsv2: true,
        blockDevices: [
          {
            deviceName: '/dev/xvda',
            volume: ec2.BlockDeviceVolume.ebs(30, {
              volumeType: ec2.EbsDeviceVolumeType.GP3,
              encrypted: true,
            }),
          },
        ],
      }),
      minCapacity: 1,
      maxCapacity: 1,
    });
    Tags.of(monitoring).add('Role', 'monitoring');
    acknowledge(monitoring, asgNagReasons);

    // Alarms on the managed pieces, to an SNS topic.
    const topic = new sns.Topic(this, 'Alarms', { enforceSSL: true });
    acknowledge(topic, {
      'AwsSolutions-SNS2':
        'Alarm notifications carry no secrets; a KMS key would need a key policy for CloudWatch.',
    });
    if (settings.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));
    const notify = new actions.SnsAction(topic);
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      comparison: cloudwatch.ComparisonOperator,
    ) =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const below = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
    alarm(
      'Alb5xx',
      apiTargets.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
        period: Duration.minutes(1),
      }),
      10,
      above,
    );
    alarm('UnhealthyHosts', apiTargets.metrics.unhealthyHostCount({ period: Duration.minutes(1) }), 0, above);
    alarm('DatabaseCpu', database.metricCPUUtilization(), 80, above);
    alarm('DatabaseFreeStorage', database.metricFreeStorageSpace(), 2 * 1024 ** 3, below);
    alarm(
      'RedisMemory',
      new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName: 'DatabaseMemoryUsagePercentage',
        dimensionsMap: { ReplicationGroupId: redis.ref },
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      80,
      above,
    );

    const deploy = new GithubDeploy(this, 'GithubDeploy', {
      githubRepository: settings.githubRepository,
      githubOidcProviderArn: settings.githubOidcProviderArn,
      repository,
      groups: [api, worker],
      imageTag,
      migrationDocumentName: migration.ref,
      bucket,
      bucketObjectsFinding: objectsFinding('monitoring'),
    });

    new CfnOutput(this, 'LoadBalancerDnsName', { value: alb.loadBalancerDnsName });
    new CfnOutput(this, 'ApiDomainName', { value: settings.domainName ?? '' });
    new CfnOutput(this, 'ApiAsgName', { value: api.autoScalingGroupName });
    new CfnOutput(this, 'WorkerAsgName', { value: worker.autoScalingGroupName });
    new CfnOutput(this, 'EcrRepositoryUri', { value: repository.repositoryUri });
    new CfnOutput(this, 'ImageTagParameterName', { value: imageTag.parameterName });
    new CfnOutput(this, 'DeployRoleArn', { value: deploy.role.roleArn });
    new CfnOutput(this, 'MigrationDocumentName', {
      value: migration.ref,
      description:
        'aws ssm send-command --document-name <this> --parameters ImageTag=<tag> on one Role=api instance',
    });
    new CfnOutput(this, 'ArtifactBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
  }
}
