/**
 * The emulated cloud on one machine, as a library (`npm run dev` and the emulated-cloud test use it):
 *
 *   MinIO (S3) + ElasticMQ (SQS) on 127.0.0.1, built on first use and cached in .bin/ and .cache/
 *   -> bucket `images` and the pipeline's queues (src/domain/stages.ts) with their `_dlq` and RedrivePolicy
 *   -> `serverless offline --stage local` (osls + serverless-offline) running the esbuild bundles of
 *      functions/<fn>/handler.ts: POST /upload and the read API on httpPort, the Lambda API on lambdaPort
 *   -> the SQS bridge (scripts/dev/sqsBridge.ts) carrying queue messages to the stage functions, and
 *      to the ingest function the bucket's notifications: MinIO's webhook target for ObjectCreated
 *      under uploads/ -> the relay (scripts/dev/minioWebhookRelay.ts) -> ingest_queue;
 *   -> with `webhook`: events_queue and the webhook's deliverer (scripts/dev/webhookDeliverer.ts).
 *
 *   const stack = await startDevStack({ ports: { http: 3000, lambda: 3002 } });
 *   // curl -F image=@dog.jpg ${stack.urls.upload}
 *   await stack.stop();
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { UPLOADS_FOLDER } from '../../src/domain/keys';
import { QUEUE_KEYS, type QueueKey } from '../../src/domain/stages';
import { childLogger, createLogger } from '../../src/logger/createLogger';
import { provisionBucket } from '../../src/ports/provisionBucket';
import { provisionQueues } from '../../src/ports/provisionQueues';
import { S3ObjectStore } from '../../src/ports/S3ObjectStore';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { buildFunctions, REPO_MODEL_FILE } from '../package/build-functions';
import { REPO_ROOT } from '../repoRoot';
import { assertPortFree, freePort, type LocalS3Server, type LocalServer, startElasticMq, startMinio } from '../servers/local-servers';
import { MINIO_INGEST_TARGET, MinioWebhookRelay, minioWebhookEnv, notifyCreatedObjects, type RelayCounts } from './minioWebhookRelay';
import { startSlsOffline } from './slsOffline';
import { type BridgeCounts, SqsBridge } from './sqsBridge';
import { type DevWebhook, startWebhookDeliverer, webhookEnvironment } from './webhookDeliverer';
export const SERVICE = 'image-pipeline';
export const STAGE = 'local';

export interface DevStackPorts {
  /** serverless-offline's HTTP API (POST /upload, GET /images…). Default 3000; 0 = any free port. */
  http?: number;
  /** serverless-offline's Lambda API (the bridge invokes here). Default 3002; 0 = any free port. */
  lambda?: number;
  /** MinIO. Default 9000; 0 = any free port. */
  s3?: number;
  /** ElasticMQ. Default 9324; 0 = any free port. */
  sqs?: number;
}

export interface DevStackOptions {
  ports?: DevStackPorts;
  /** Progress lines ("[dev] …"); stderr by default. */
  progress?: (line: string) => void;
  /** Each line serverless offline prints (handler logs included); to `.cache/dev/sls-offline.log` always. */
  onSlsLine?: (line: string) => void;
  /** Batches in flight per stage queue. Default 1 (serverless-offline starts a worker per concurrent call). */
  concurrency?: number;
  /** MinIO's data folder; a temp folder (removed on stop) by default. */
  s3DataDir?: string;
  /** Skip the esbuild step (bundles already in .build/functions). */
  skipBuild?: boolean;
  /** Completion events POSTed, signed and retried, to a webhook (EVENTS=webhook offline); none by default. */
  webhook?: DevWebhook;
  /**
   * Who may call the functions: AUTH and its settings (JWT_ISSUER, JWT_AUDIENCE, JWT_CLIENT_ID,
   * API_KEYS_FILE…), read by the `local` stage's params; else what this process's environment says
   * (AUTH=none by default: serverless offline serves on 127.0.0.1 only).
   */
  auth?: Record<string, string>;
}

export interface DevStack {
  urls: { http: string; upload: string; lambda: string; s3: string; sqs: string };
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string; forcePathStyle: true };
  queues: Record<QueueKey, string>;
  /** With `webhook`: the events queue the deliverer consumes (dead letters in `<name>_dlq`). */
  eventsQueue?: string;
  /** Milliseconds per start step, and `total`. */
  timings: Record<string, number>;
  /** What the SQS bridge handed to each function, by function name. */
  bridgeStats(): Record<string, BridgeCounts>;
  /** What MinIO's webhook relay took in and sent to ingest_queue. */
  relayStats(): RelayCounts;
  functionName(key: string): string;
  slsLogFile: string;
  stop(): Promise<void>;
}

export function functionName(key: string, stage = STAGE): string {
  return `${SERVICE}-${stage}-${key}`;
}

async function pickPort(wanted: number | undefined, fallback: number): Promise<number> {
  if (wanted === 0) return freePort();
  return wanted ?? fallback;
}

export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, what: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    progress(`[dev] ${what}…`);
    const out = await fn();
    timings[name] = Date.now() - started;
    progress(`[dev] ${what}: ${(timings[name] / 1000).toFixed(1)} s`);
    return out;
  };

  const [httpPort, lambdaPort, s3Port, sqsPort] = await Promise.all([
    pickPort(options.ports?.http, 3000),
    pickPort(options.ports?.lambda, 3002),
    pickPort(options.ports?.s3, 9000),
    pickPort(options.ports?.sqs, 9324),
  ]);
  // Before minutes of building: serverless offline's ports must be free (another dev stack running?).
  for (const port of [httpPort, lambdaPort]) await assertPortFree(port, 'serverless-offline');

  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };

  try {
    // The default model (MODEL_FILE_NAME: the float one), the file serverless offline's detect function finds.
    if (!existsSync(REPO_MODEL_FILE)) {
      await step('model', 'building the model (once)', async () => {
        const { ensureModel } = await import('../../models/ensure-model');
        await ensureModel();
      });
    }
    if (!options.skipBuild) {
      await step('build', 'bundling the functions with esbuild', () => buildFunctions({ layers: false, log: progress }));
    }

    // MinIO's webhook target for the bucket's notifications: the relay's port and token are chosen
    // now, as MinIO reads its targets from the environment at start; the relay starts once the queue exists.
    const relayPort = await freePort();
    const relayToken = randomBytes(16).toString('hex');
    const eventsDir = mkdtempSync(path.join(os.tmpdir(), 'minio-events-'));
    cleanups.push(async () => rmSync(eventsDir, { recursive: true, force: true }));
    const minioEnv = minioWebhookEnv(MINIO_INGEST_TARGET, `http://127.0.0.1:${relayPort}/minio-events`, relayToken, eventsDir);

    const servers: LocalServer[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((s) => s.stop()));
    });
    const [minio, elasticmq] = await step('servers', `starting MinIO on :${s3Port} and ElasticMQ on :${sqsPort}`, () =>
      Promise.all([
        startMinio({ port: s3Port, log: progress, env: minioEnv, ...(options.s3DataDir ? { dataDir: options.s3DataDir } : {}) }).then(
          (s) => {
            servers.push(s);
            return s;
          },
        ),
        startElasticMq({ port: sqsPort, log: progress }).then((s) => {
          servers.push(s);
          return s;
        }),
      ]),
    );
    const s3 = minio as LocalS3Server;

    // The same names serverless.yml gives the `local` stage (BUCKET, *_QUEUE from the config defaults).
    const config = loadConfig({
      ...process.env,
      BUCKET: 'images',
      RESIZE_QUEUE: '',
      GRAYSCALE_QUEUE: '',
      DETECT_QUEUE: '',
      TAG_QUEUE: '',
      ...webhookEnvironment(options.webhook),
      INGEST_QUEUE: '',
    });
    const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    const store = new S3ObjectStore({ bucket: config.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials });
    // The bridge reports only what goes wrong (its queue's warnings); the dev lines follow LOG_LEVEL.
    const bridgeLog = childLogger(createLogger({ level: 'warn', serviceName: config.serviceName }), { component: 'sqs-bridge' });
    const devLog = childLogger(createLogger({ level: config.logLevel, serviceName: config.serviceName }), { component: 'dev' });
    const queue = new SqsQueue({
      log: bridgeLog,
      region: elasticmq.region,
      endpoint: elasticmq.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    cleanups.push(async () => queue.client.destroy());
    await step('resources', 'creating bucket and queues (with _dlq and RedrivePolicy)', async () => {
      await provisionBucket(store, { log: devLog });
      await provisionQueues(queue, Object.values(config.queues), {
        maxReceiveCount: config.maxReceiveCount,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      });
    });

    const relay = await step('notifications', 'relaying MinIO ObjectCreated events under uploads/ to ingest_queue', async () => {
      const started = await MinioWebhookRelay.start({
        port: relayPort,
        token: relayToken,
        queue,
        queueName: config.queues.ingest,
        log: bridgeLog,
      });
      cleanups.push(() => started.stop());
      const arn = await notifyCreatedObjects(store.client, config.bucket, MINIO_INGEST_TARGET, `${UPLOADS_FOLDER}/`, s3.region);
      progress(
        `[dev] bucket ${config.bucket}: s3:ObjectCreated:* under ${UPLOADS_FOLDER}/ -> ${arn} -> ${started.url} -> ${config.queues.ingest}`,
      );
      return started;
    });
    // Before the functions start publishing to it (scripts/dev/webhookDeliverer.ts says why here, not offline).
    const deliverer = options.webhook
      ? await step('webhook', `creating ${config.events.queue} and starting the webhook deliverer`, () =>
          startWebhookDeliverer({ config, queue, store, ...(options.webhook?.onLog ? { onLog: options.webhook.onLog } : {}) }),
        )
      : undefined;
    if (deliverer) cleanups.push(() => deliverer.stop());

    const logDir = path.join(REPO_ROOT, '.cache', 'dev');
    mkdirSync(logDir, { recursive: true });
    const slsLogFile = path.join(logDir, `sls-offline-${httpPort}.log`);
    const sls = await step('offline', `starting serverless offline (HTTP :${httpPort}, Lambda :${lambdaPort})`, () =>
      startSlsOffline({
        stage: STAGE,
        httpPort,
        lambdaPort,
        logFile: slsLogFile,
        onLine: options.onSlsLine,
        env: {
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          // serverless-offline copies AWS_* into every handler: the MinIO credentials (ElasticMQ takes any).
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
          AWS_REGION: 'us-east-1',
          AWS_DEFAULT_REGION: 'us-east-1',
          S3_ENDPOINT: s3.endpoint,
          SQS_ENDPOINT: elasticmq.endpoint,
          ...webhookEnvironment(options.webhook),
          ...options.auth,
        },
      }),
    );
    cleanups.push(() => sls.stop());

    const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`;
    const bridge = new SqsBridge({
      queue,
      lambdaEndpoint,
      log: bridgeLog,
      concurrency: options.concurrency ?? 1,
      // Each queue to the function of its name (src/domain/stages.ts), as serverless.yml's SQS events do.
      routes: QUEUE_KEYS.map((fn) => ({ queueName: config.queues[fn], functionName: functionName(fn), batchSize: 5 })),
    }).start();
    cleanups.push(() => bridge.stop());
    timings.total = Date.now() - t0;

    const http = `http://127.0.0.1:${httpPort}`;
    return {
      urls: { http, upload: `${http}/upload`, lambda: lambdaEndpoint, s3: s3.endpoint, sqs: elasticmq.endpoint },
      s3: {
        endpoint: s3.endpoint,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        bucket: config.bucket,
        forcePathStyle: true,
      },
      queues: { ...config.queues },
      ...(deliverer ? { eventsQueue: deliverer.queue } : {}),
      timings,
      bridgeStats: () => bridge.stats(),
      relayStats: () => ({ ...relay.counts }),
      functionName: (key) => functionName(key),
      slsLogFile,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
