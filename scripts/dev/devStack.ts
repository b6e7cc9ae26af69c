/**
 * The emulated cloud on one machine, as a library (`npm run dev` and the emulated-cloud test use it):
 *
 *   MinIO (S3) + ElasticMQ (SQS) on 127.0.0.1, built on first use and cached in .bin/ and .cache/
 *   -> bucket `images` and the four queues with their `_dlq` and RedrivePolicy
 *   -> `serverless offline --stage local` (osls + serverless-offline) running the esbuild bundles of
 *      functions/<fn>/handler.ts: POST /upload and the read API on httpPort, the Lambda API on lambdaPort
 *   -> the SQS bridge (scripts/dev/sqsBridge.ts) carrying queue messages to the stage functions.
 *
 *   const stack = await startDevStack({ ports: { http: 3000, lambda: 3002 } });
 *   // curl -F image=@dog.jpg ${stack.urls.upload}
 *   await stack.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config';
import { createLogger, type Logger } from '../../src/log';
import { S3ObjectStore } from '../../src/ports/S3ObjectStore';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { buildFunctions } from '../package/build-functions';
import { SLS_BIN } from '../package/serverlessCli';
import { freePort, type LocalS3Server, type LocalServer, startElasticMq, startMinio } from '../servers/local-servers';
import { type BridgeCounts, SqsBridge } from './sqsBridge';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
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
}

export interface DevStack {
  urls: { http: string; upload: string; lambda: string; s3: string; sqs: string };
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string; forcePathStyle: true };
  queues: { resize: string; grayscale: string; detect: string; tag: string };
  /** Milliseconds per start step, and `total`. */
  timings: Record<string, number>;
  /** What the SQS bridge handed to each function, by function name. */
  bridgeStats(): Record<string, BridgeCounts>;
  functionName(key: string): string;
  slsLogFile: string;
  stop(): Promise<void>;
}

const QUEUE_ROUTES = [
  { key: 'resize', queue: 'resize' },
  { key: 'grayscale', queue: 'grayscale' },
  { key: 'detect', queue: 'detect' },
  { key: 'tag', queue: 'tag' },
] as const;

export function functionName(key: string, stage = STAGE): string {
  return `${SERVICE}-${stage}-${key}`;
}

async function pickPort(wanted: number | undefined, fallback: number): Promise<number> {
  if (wanted === 0) return freePort();
  return wanted ?? fallback;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
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
  for (const [name, port] of [
    ['http', httpPort],
    ['lambda', lambdaPort],
  ] as const) {
    if (await portOpen(port)) throw new Error(`[dev] port ${port} (${name}) on 127.0.0.1 is already in use: another dev stack running?`);
  }

  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };

  try {
    const model = path.join(REPO_ROOT, 'layers', 'model', 'ssdlite_mobilenet_v2_coco.onnx');
    if (!existsSync(model)) {
      await step('model', 'building the model (once)', async () => {
        const { ensureModel } = await import('../../models/ensure-model');
        await ensureModel();
      });
    }
    if (!options.skipBuild) {
      await step('build', 'bundling the functions with esbuild', () => buildFunctions({ layers: false, log: progress }));
    }

    const servers: LocalServer[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((s) => s.stop()));
    });
    const [minio, elasticmq] = await step('servers', `starting MinIO on :${s3Port} and ElasticMQ on :${sqsPort}`, () =>
      Promise.all([
        startMinio({ port: s3Port, log: progress, ...(options.s3DataDir ? { dataDir: options.s3DataDir } : {}) }).then((s) => {
          servers.push(s);
          return s;
        }),
        startElasticMq({ port: sqsPort, log: progress }).then((s) => {
          servers.push(s);
          return s;
        }),
      ]),
    );
    const s3 = minio as LocalS3Server;

    // The same names serverless.yml gives the `local` stage (BUCKET, *_QUEUE from the config defaults).
    const config = loadConfig({ ...process.env, BUCKET: 'images', RESIZE_QUEUE: '', GRAYSCALE_QUEUE: '', DETECT_QUEUE: '', TAG_QUEUE: '' });
    const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    const store = new S3ObjectStore({ bucket: config.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials });
    const queue = new SqsQueue({
      region: elasticmq.region,
      endpoint: elasticmq.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    cleanups.push(async () => queue.client.destroy());
    await step('resources', 'creating bucket and queues (with _dlq and RedrivePolicy)', async () => {
      await store.ensureBucket();
      await queue.ensureQueues(Object.values(config.queues), {
        maxReceiveCount: config.maxReceiveCount,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      });
    });

    const logDir = path.join(REPO_ROOT, '.cache', 'dev');
    mkdirSync(logDir, { recursive: true });
    const slsLogFile = path.join(logDir, `sls-offline-${httpPort}.log`);
    const sls = await step('offline', `starting serverless offline (HTTP :${httpPort}, Lambda :${lambdaPort})`, () =>
      startOffline({
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
        },
      }),
    );
    cleanups.push(() => sls.stop());

    const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`;
    const bridgeLog: Logger = createLogger({ component: 'sqs-bridge' }, 'warn');
    const bridge = new SqsBridge({
      queue,
      lambdaEndpoint,
      log: bridgeLog,
      concurrency: options.concurrency ?? 1,
      routes: QUEUE_ROUTES.map((r) => ({ queueName: config.queues[r.queue], functionName: functionName(r.key), batchSize: 5 })),
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
      timings,
      bridgeStats: () => bridge.stats(),
      functionName: (key) => functionName(key),
      slsLogFile,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

interface OfflineProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

const liveGroups = new Set<number>();
let exitHook = false;
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** `serverless offline --stage local` in its own process group; resolves when both ports answer. */
async function startOffline(o: {
  httpPort: number;
  lambdaPort: number;
  logFile: string;
  env: Record<string, string>;
  onLine?: (line: string) => void;
}): Promise<OfflineProcess> {
  const out: WriteStream = createWriteStream(o.logFile, { flags: 'w' });
  const child = spawn(
    process.execPath,
    [
      SLS_BIN,
      'offline',
      'start',
      '--stage',
      STAGE,
      '--httpPort',
      String(o.httpPort),
      '--lambdaPort',
      String(o.lambdaPort),
      '--host',
      '127.0.0.1',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const pid = child.pid!;
  liveGroups.add(pid);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const group of liveGroups) killGroup(group, 'SIGKILL');
    });
  }
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      out.write(`${line}\n`);
      lines.push(line);
      if (lines.length > 40) lines.shift();
      o.onLine?.(line);
    });
  }
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      liveGroups.delete(pid);
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) {
      killGroup(pid, 'SIGTERM');
      const timer = new AbortController();
      const timedOut = await Promise.race([
        exitedPromise.then(() => false),
        sleep(5_000, true, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      if (timedOut) {
        killGroup(pid, 'SIGKILL');
        await exitedPromise;
      }
    }
    await new Promise<void>((resolve) => out.end(resolve));
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`serverless offline exited before it was ready. Last lines (all in ${o.logFile}):\n${lines.join('\n')}`);
    }
    if ((await portOpen(o.httpPort)) && (await portOpen(o.lambdaPort))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `serverless offline was not ready on :${o.httpPort} and :${o.lambdaPort} within 60 s. Last lines:\n${lines.join('\n')}`,
      );
    }
    await sleep(100);
  }
  return { child, stop };
}
