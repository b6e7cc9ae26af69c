#!/usr/bin/env bash
# Creates the pipeline's bucket and queues on an S3- and SQS-compatible endpoint, idempotently:
# bucket `images` (public access blocked where the server supports it) and resize_queue,
# grayscale_queue, objectdetect_queue, tag_queue, ingest_queue, each with <name>_dlq and a RedrivePolicy
# (maxReceiveCount 3) and VisibilityTimeout 6 x the consumer's timeout, as serverless.yml declares.
#
#   AWS_CMD="awslocal" create-resources.sh                          (inside LocalStack)
#   S3_URL=http://minio:9000 SQS_URL=http://elasticmq:9324 create-resources.sh   (aws-cli container)
set -euo pipefail
BUCKET="${BUCKET:-images}"
MAX_RECEIVE_COUNT="${MAX_RECEIVE_COUNT:-3}"
AWS_CMD="${AWS_CMD:-aws}"
s3()  { if [[ -n "${S3_URL:-}" ]];  then $AWS_CMD --endpoint-url "$S3_URL" "$@";  else $AWS_CMD "$@"; fi; }
sqs() { if [[ -n "${SQS_URL:-}" ]]; then $AWS_CMD --endpoint-url "$SQS_URL" "$@"; else $AWS_CMD "$@"; fi; }
log() { printf '[create-resources] %s\n' "$*"; }

if s3 s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1; then
  log "bucket $BUCKET exists"
else
  s3 s3api create-bucket --bucket "$BUCKET" >/dev/null
  log "bucket $BUCKET created"
fi
s3 s3api put-public-access-block --bucket "$BUCKET" \
  --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true \
  >/dev/null 2>&1 || log "public access block not supported by this server (MinIO buckets are private by default)"

# name:visibility timeout (6 x the function timeout in serverless.yml)
for entry in resize_queue:180 grayscale_queue:180 objectdetect_queue:360 tag_queue:180 ingest_queue:180; do
  name="${entry%%:*}"; visibility="${entry##*:}"
  dlq_url="$(sqs sqs create-queue --queue-name "${name}_dlq" --attributes MessageRetentionPeriod=1209600 --query QueueUrl --output text)"
  dlq_arn="$(sqs sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn --query Attributes.QueueArn --output text)"
  policy="{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":\"$MAX_RECEIVE_COUNT\"}"
  attributes="$(printf '{"VisibilityTimeout":"%s","RedrivePolicy":%s}' "$visibility" "$(printf '%s' "$policy" | sed 's/"/\\"/g; s/^/"/; s/$/"/')")"
  url="$(sqs sqs create-queue --queue-name "$name" --query QueueUrl --output text)"
  sqs sqs set-queue-attributes --queue-url "$url" --attributes "$attributes"
  log "queue $name (visibility ${visibility} s) -> ${name}_dlq after $MAX_RECEIVE_COUNT receives"
done
log "done"
