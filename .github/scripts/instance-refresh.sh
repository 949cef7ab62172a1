#!/usr/bin/env bash
# Replaces every instance of an Auto Scaling group (new instances read the image tag from SSM at boot) and waits
# for the refresh to end. Usage: instance-refresh.sh GROUP MIN_HEALTHY_PERCENT MAX_HEALTHY_PERCENT
set -euo pipefail
group=$1
min_healthy=$2
max_healthy=$3
timeout_s=${REFRESH_TIMEOUT_S:-1800}

desired=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$group" \
  --query 'AutoScalingGroups[0].DesiredCapacity' --output text)
if [ "$desired" = 0 ]; then
  echo "$group has no instances: the next one to start reads the new tag"
  exit 0
fi

# A refresh still running (a cancelled deploy) would refuse a new one.
running=$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$group" \
  --query "InstanceRefreshes[?Status=='InProgress' || Status=='Pending'] | length(@)" --output text)
if [ "$running" != 0 ]; then
  aws autoscaling cancel-instance-refresh --auto-scaling-group-name "$group"
  sleep 30
fi

# SkipMatching stays off: the launch template does not change between deploys, the image tag does.
id=$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$group" \
  --preferences "{\"MinHealthyPercentage\": $min_healthy, \"MaxHealthyPercentage\": $max_healthy, \"InstanceWarmup\": 120, \"SkipMatching\": false}" \
  --query InstanceRefreshId --output text)
echo "$group: instance refresh $id"

deadline=$((SECONDS + timeout_s))
while [ "$SECONDS" -lt "$deadline" ]; do
  read -r status percent < <(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$group" \
    --instance-refresh-ids "$id" --query 'InstanceRefreshes[0].[Status, PercentageComplete]' --output text)
  echo "$group: $status ($percent %)"
  case "$status" in
    Successful) exit 0 ;;
    Failed | Cancelled | RollbackSuccessful | RollbackFailed) exit 1 ;;
  esac
  sleep 20
done
echo "$group: the refresh did not finish within $timeout_s s" >&2
aws autoscaling cancel-instance-refresh --auto-scaling-group-name "$group" || true
exit 1
