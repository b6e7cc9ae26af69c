#!/usr/bin/env bash
# LocalStack runs every script in /etc/localstack/init/ready.d once it is ready.
set -euo pipefail
AWS_CMD=awslocal bash /etc/localstack/init/create-resources.sh
