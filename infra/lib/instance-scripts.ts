/**
 * Shell run on the instances. Values that only CloudFormation knows (ARNs, endpoints) are written to
 * /etc/product-classifier/settings by the user data; these scripts read that file, so they are plain text here.
 */

/** Starts one container of the image: `run.sh service` (systemd, foreground) or `run.sh migrate TAG`. */
export const RUN_SCRIPT = `#!/bin/bash
set -euo pipefail
# shellcheck disable=SC1091
source /etc/product-classifier/settings
secret() { aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; }
mode=$1
if [ "$mode" = migrate ]; then tag=$2; else
  tag=$(aws ssm get-parameter --region "$REGION" --name "$IMAGE_TAG_PARAMETER" --query Parameter.Value --output text)
fi
image="$REPOSITORY_URI:$tag"
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "\${REPOSITORY_URI%%/*}"
docker pull "$image"
db=$(secret "$DATABASE_SECRET_ARN")
db_password=$(jq -r '.password | @uri' <<<"$db")
env_file=/run/product-classifier/app.env
install -d -m 700 /run/product-classifier
umask 077
{
  echo "DATABASE_URL=postgres://$(jq -r .username <<<"$db"):$db_password@$(jq -r .host <<<"$db"):$(jq -r .port <<<"$db")/$(jq -r .dbname <<<"$db")?sslmode=verify-full&sslrootcert=/certs/rds-ca.pem"
  echo "REDIS_URL=rediss://:$(secret "$REDIS_SECRET_ARN")@$REDIS_HOST:$REDIS_PORT"
  echo "JWT_SECRET=$(secret "$JWT_SECRET_ARN")"
  echo "S3_BUCKET=$BUCKET"
  echo "S3_REGION=$REGION"
  echo "DATA_S3_PREFIX=data/rakuten/"
  echo "GIT_COMMIT=$tag"
  # The ALB keeps idle connections 60 s: the API must not close them first (README, slow clients).
  echo "HTTP_KEEP_ALIVE_TIMEOUT_MS=65000"
  echo "TRUST_PROXY=1"
  if [ "$ROLE" = api ]; then
    echo "ALERTMANAGER_WEBHOOK_TOKEN=$(secret "$WEBHOOK_SECRET_ARN")"
    if [ -n "$OIDC_ISSUERS" ]; then echo "OIDC_ISSUERS=$OIDC_ISSUERS"; fi
  fi
} >"$env_file"
logs=(--log-driver awslogs --log-opt "awslogs-region=$REGION" --log-opt "awslogs-group=$LOG_GROUP"
  --log-opt "awslogs-stream=$ROLE-$(cat /var/lib/cloud/data/instance-id)")
if [ "$mode" = migrate ]; then
  exec docker run --rm --env-file "$env_file" -v /etc/pki/rds:/certs:ro "\${logs[@]}" "$image" \\
    node dist/apps/worker/src/cli/migrate.cli.js
fi
docker rm -f product-classifier >/dev/null 2>&1 || true
if [ "$ROLE" = api ]; then
  exec docker run --name product-classifier --env-file "$env_file" -v /etc/pki/rds:/certs:ro "\${logs[@]}" \\
    -p 3000:3000 "$image"
fi
exec docker run --name product-classifier --env-file "$env_file" -v /etc/pki/rds:/certs:ro "\${logs[@]}" \\
  -p 3001:3001 "$image" node dist/apps/worker/src/main.js
`;

/**
 * The container as a systemd service: restarted when it dies; on shutdown (instance refresh, scale-in) docker stop
 * sends SIGTERM and waits 30 s, longer than the API's drain and WORKER_SHUTDOWN_MS (10 s).
 */
export const SERVICE_UNIT = `[Unit]
Description=product-classifier container
After=docker.service network-online.target
Requires=docker.service

[Service]
ExecStart=/opt/product-classifier/run.sh service
ExecStop=/usr/bin/docker stop -t 30 product-classifier
Restart=always
RestartSec=10
TimeoutStopSec=45

[Install]
WantedBy=multi-user.target
`;

/**
 * Publishes the retraining queue's backlog (waiting + active + delayed jobs, from the API's own /metrics) to
 * CloudWatch every minute: the worker group scales on it. Every API replica reports the same queue; the alarm
 * reads the Maximum.
 */
export const QUEUE_METRIC_SCRIPT = `#!/bin/bash
set -euo pipefail
# shellcheck disable=SC1091
source /etc/product-classifier/settings
backlog=$(curl -sf http://127.0.0.1:3000/metrics | awk '
  /^retraining_queue_jobs\\{/ && /state="(waiting|active|delayed)"/ { sum += $NF }
  END { print sum + 0 }')
aws cloudwatch put-metric-data --region "$REGION" --namespace ProductClassifier \\
  --metric-name RetrainingQueueBacklog --value "$backlog" --unit Count
`;

export const QUEUE_METRIC_TIMER = `[Unit]
Description=publish the retraining queue backlog to CloudWatch

[Timer]
OnBootSec=2min
OnUnitActiveSec=1min

[Install]
WantedBy=timers.target
`;

export const QUEUE_METRIC_SERVICE = `[Unit]
Description=publish the retraining queue backlog to CloudWatch

[Service]
Type=oneshot
ExecStart=/opt/product-classifier/queue-metric.sh
`;

/**
 * The monitoring instance: Prometheus, Alertmanager and Grafana from the configuration the deploy workflow copies
 * from docker/prometheus, docker/alertmanager and docker/grafana to s3://BUCKET/monitoring/. Prometheus uses
 * docker/prometheus/prometheus.aws.yml (EC2 service discovery on the Service and Role tags).
 */
export const MONITORING_SCRIPT = `#!/bin/bash
set -euo pipefail
# shellcheck disable=SC1091
source /etc/product-classifier/settings
conf=/opt/monitoring
aws s3 sync --region "$REGION" --delete "s3://$BUCKET/monitoring/" "$conf/"
install -d -m 700 "$conf/secrets"
aws secretsmanager get-secret-value --region "$REGION" --secret-id "$WEBHOOK_SECRET_ARN" \\
  --query SecretString --output text >"$conf/secrets/api-token"
chmod 644 "$conf/secrets/api-token"
# alertmanager.yml names the API by its compose service name: here it is reached at the public address.
sed -i "s#http://api:3000#$API_URL#" "$conf/alertmanager/alertmanager.yml"
install -d -o 65534 -g 65534 /var/lib/prometheus /var/lib/alertmanager
install -d -o 472 -g 472 /var/lib/grafana
docker rm -f prometheus alertmanager grafana >/dev/null 2>&1 || true
docker network create monitoring >/dev/null 2>&1 || true
docker run -d --name prometheus --restart unless-stopped --network monitoring -p 9090:9090 \\
  -v "$conf/prometheus:/etc/prometheus:ro" -v /var/lib/prometheus:/prometheus prom/prometheus:v2.53.0 \\
  --config.file=/etc/prometheus/prometheus.aws.yml --storage.tsdb.path=/prometheus --storage.tsdb.retention.time=15d
docker run -d --name alertmanager --restart unless-stopped --network monitoring -p 9093:9093 \\
  -v "$conf/alertmanager:/etc/alertmanager/config:ro" -v "$conf/secrets/api-token:/run/secrets/alertmanager_webhook_token:ro" \\
  -v /var/lib/alertmanager:/alertmanager prom/alertmanager:v0.27.0 \\
  --config.file=/etc/alertmanager/config/alertmanager.yml --storage.path=/alertmanager
docker run -d --name grafana --restart unless-stopped --network monitoring -p 3000:3000 \\
  -v "$conf/grafana:/etc/grafana/provisioning:ro" -v /var/lib/grafana:/var/lib/grafana grafana/grafana:11.1.0
`;
