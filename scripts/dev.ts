// The emulated cloud in the foreground until Ctrl-C (`npm run dev`):
//
//   MinIO :9000 + ElasticMQ :9324 (built once, cached) -> bucket and queues -> serverless offline
//   (HTTP :3000, Lambda :3002) -> SQS bridge. Then:
//     curl -X POST -F "image=@dog.jpg" http://localhost:3000/upload
//   and tagged/<id>.jpg appears in MinIO (bucket `images`).
//
//   npm run dev -- --http-port 3100 --lambda-port 3102 --s3-port 9100 --sqs-port 9400 [--fresh] [--quiet]
//
// MinIO keeps objects in .cache/dev-data/minio-offline (DEV_DATA_DIR) between runs unless --fresh.
//
// Who may call it: AUTH=none by default (serverless offline listens on 127.0.0.1 only); AUTH=jwt
// with JWT_ISSUER and JWT_AUDIENCE, or AUTH=api-key with API_KEYS_FILE, from the environment
// (docs/security.md): `AUTH=jwt JWT_ISSUER=http://127.0.0.1:4000 JWT_AUDIENCE=image-pipeline npm run dev`.
//
// Completion events to a webhook of yours (docs/search-and-events.md, "Completion events"): --webhook-url (or WEBHOOK_URL)
// and WEBHOOK_SECRET (16+ characters; never a flag: a command line is visible to every user in ps),
// retried after WEBHOOK_RETRY_SECONDS (30):
//   WEBHOOK_SECRET=… npm run dev -- --webhook-url http://127.0.0.1:8080/hooks
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { configFromEnvironment } from '../src/config';
import { shownUrl } from '../src/ports/WebhookPublisher';
import { parseCliArgs, usageError } from './cliArgs';
import { type DevStack, startDevStack } from './dev/devStack';
import { devWebhookFrom } from './dev/webhookDeliverer';
import { REPO_ROOT } from './repoRoot';

const USAGE =
  'usage: npm run dev -- [--http-port 3000] [--lambda-port 3002] [--s3-port 9000] [--sqs-port 9324] [--webhook-url URL] [--fresh] [--quiet]';

function port(raw: string | undefined, fallback: number, flag: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65_535) usageError(USAGE, `${flag}: expected a port from 0 to 65535, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: {
      'http-port': { type: 'string' },
      'lambda-port': { type: 'string' },
      's3-port': { type: 'string' },
      'sqs-port': { type: 'string' },
      'webhook-url': { type: 'string' },
      fresh: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  // Checked before minutes of building: a bad URL, a short WEBHOOK_SECRET or AUTH without its settings stops here.
  let config: ReturnType<typeof configFromEnvironment>;
  let webhook: ReturnType<typeof devWebhookFrom>;
  try {
    config = configFromEnvironment({ overrides: { WEBHOOK_URL: values['webhook-url'] } });
    webhook = devWebhookFrom(config);
  } catch (error) {
    usageError(USAGE, (error as Error).message);
  }
  let dataDir: string | undefined;
  if (!values.fresh) {
    // DEV_DATA_DIR keeps a bucket apart from the one a developer has filled here: a test runs this
    // command exactly as the docs write it, so an environment variable is its only way in.
    dataDir = config.devDataDir ?? path.join(REPO_ROOT, '.cache', 'dev-data', 'minio-offline');
    mkdirSync(dataDir, { recursive: true });
  }
  let stack: DevStack | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\n[dev] stopping…\n');
    await stack?.stop();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  stack = await startDevStack({
    ports: {
      http: port(values['http-port'], 3000, '--http-port'),
      lambda: port(values['lambda-port'], 3002, '--lambda-port'),
      s3: port(values['s3-port'], 9000, '--s3-port'),
      sqs: port(values['sqs-port'], 9324, '--sqs-port'),
    },
    ...(dataDir ? { s3DataDir: dataDir } : {}),
    ...(webhook
      ? { webhook: { ...webhook, ...(values.quiet ? {} : { onLog: (line: string) => process.stdout.write(`[webhook] ${line}\n`) }) } }
      : {}),
    onSlsLine: values.quiet ? undefined : (line) => process.stdout.write(`[sls] ${line}\n`),
  });
  const { urls, s3 } = stack;
  process.stderr.write(
    [
      '',
      `[dev] ready in ${(stack.timings.total! / 1000).toFixed(1)} s`,
      `  auth      ${config.auth.mode}${config.auth.mode === 'none' ? ' (on 127.0.0.1 only)' : ''}`,
      `  upload    curl -X POST -F "image=@dog.jpg" ${urls.upload}`,
      `  api       ${urls.http}/  ${urls.http}/images  ${urls.http}/images/<id>`,
      `  lambda    ${urls.lambda}/2015-03-31/functions/<${stack.functionName('<fn>').replace('-<fn>', '')}-fn>/invocations`,
      `  s3        ${urls.s3}  bucket ${s3.bucket}  (access key ${s3.accessKeyId}, secret ${s3.secretAccessKey})`,
      `  sqs       ${urls.sqs}  queues ${[...Object.values(stack.queues), ...(stack.eventsQueue ? [stack.eventsQueue] : [])].join(', ')} (+ _dlq)`,
      ...(webhook
        ? [`  webhook   each event POSTed, signed, to ${shownUrl(webhook.url)} (retried; dead letters in ${stack.eventsQueue}_dlq)`]
        : []),
      `  logs      ${stack.slsLogFile}`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`[dev] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
