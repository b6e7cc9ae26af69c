import path from 'node:path';
import { ConfigError } from './errors';

/**
 * All settings, read once from the environment with types and defaults, failing fast at start
 * with a message naming the variable, what it expects and what it got.
 */
export type DetectSource = 'original' | 'resized' | 'grayscale';

export interface Config {
  bucket: string;
  /** The stages' queues, and `ingest`: the bucket's ObjectCreated notifications for `uploads/` (src/ingest/). */
  queues: { resize: string; grayscale: string; detect: string; tag: string; ingest: string };
  /** `s3` talks to S3 or any S3-compatible server; `fs` keeps objects under dataDir. */
  store: 's3' | 'fs';
  /** `sqs` talks to SQS or ElasticMQ; `memory` is the in-process queue of the embedded default. */
  queue: 'sqs' | 'memory';
  dataDir: string;
  aws: { region: string; s3Endpoint?: string; sqsEndpoint?: string; forcePathStyle: boolean };
  /** maxBucketUploadBytes: the largest object ingest accepts under uploads/ (the presigned POST's bound too). */
  limits: { maxUploadBytes: number; maxInputPixels: number; maxBucketUploadBytes: number };
  resizeScale: number;
  jpegQuality: number;
  detect: {
    source: DetectSource;
    scoreThreshold: number;
    iouThreshold: number;
    maxDetections: number;
    modelPath?: string;
    /** onnxruntime intra-op threads. 1: stages run side by side, and 1 thread measured faster here. */
    intraOpThreads: number;
  };
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  presignExpiresSeconds: number;
  apiKey?: string;
  logLevel: LogLevel;
  /** The `service` key of every log line and the `service` metric dimension. */
  serviceName: string;
  /** `emf`: CloudWatch embedded metric format (Lambda); `prometheus`: text for GET /metrics (embedded). */
  metrics: 'emf' | 'prometheus';
  /** The CloudWatch namespace of the EMF metrics. */
  metricsNamespace: string;
  /** Where `npm start` serves the HTTP API. */
  http: { port: number; host: string };
  /** The completion event of each photo ("Image Tagged", "Image Failed"): see EventsConfig. */
  events: EventsConfig;
}

/**
 * Where completion events go: `eventbridge` (PutEvents on `bus`; what serverless.yml sets on AWS and
 * on the stack deployed onto MiniStack), `webhook` (each event queued on `queue` and POSTed, signed,
 * to `webhookUrl` by a deliverer that retries like every stage; the embedded default), or `off`.
 */
export type EventsTarget = 'eventbridge' | 'webhook' | 'off';
export interface EventsConfig {
  target: EventsTarget;
  bus: string;
  queue: string;
  webhookUrl?: string;
  /** HMAC-SHA256 key of the webhook signature. Never logged. */
  webhookSecret?: string;
  /** How long a failed webhook delivery waits before it is tried again (the events queue's visibility timeout). */
  webhookRetrySeconds: number;
}

/** At least this many characters of WEBHOOK_SECRET: an HMAC key a receiver cannot guess. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

function eventsConfig(env: Env): EventsConfig {
  const webhookUrl = optional(env, 'WEBHOOK_URL');
  const target = oneOf(env, 'EVENTS', ['eventbridge', 'webhook', 'off'] as const, webhookUrl !== undefined ? 'webhook' : 'off');
  const webhookSecret = optional(env, 'WEBHOOK_SECRET');
  if (target === 'webhook') {
    if (webhookUrl === undefined) throw new ConfigError('WEBHOOK_URL: expected an http or https URL when EVENTS is webhook, got nothing');
    let url: URL | undefined;
    try {
      url = new URL(webhookUrl);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError(`WEBHOOK_URL: expected an http or https URL, got ${JSON.stringify(webhookUrl.slice(0, 80))}`);
    }
    // The secret's length only, never the secret.
    if (webhookSecret === undefined || webhookSecret.length < MIN_WEBHOOK_SECRET_LENGTH) {
      throw new ConfigError(
        `WEBHOOK_SECRET: expected at least ${MIN_WEBHOOK_SECRET_LENGTH} characters to sign webhook deliveries with, got ${webhookSecret?.length ?? 0}`,
      );
    }
  }
  return {
    target,
    bus: str(env, 'EVENT_BUS', 'default'),
    queue: str(env, 'EVENTS_QUEUE', 'events_queue'),
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    webhookRetrySeconds: num(env, 'WEBHOOK_RETRY_SECONDS', 30, (n) => n > 0 && n <= 43_200, 'a number of seconds above 0, at most 43200'),
  };
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function num(env: Env, name: string, fallback: number, check: (n: number) => boolean, expect: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) {
    throw new ConfigError(`${name}: expected ${expect}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}: expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
}

const positiveInt = (n: number) => Number.isInteger(n) && n > 0;

/** The config from these variables (tests pass their own; processes use configFromEnvironment). */
export function loadConfig(env: Env = process.env): Config {
  // On Lambda (AWS_LAMBDA_FUNCTION_NAME set) the default adapters are the AWS ones.
  const onLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const s3Endpoint = optional(env, 'S3_ENDPOINT');
  return {
    bucket: str(env, 'BUCKET', 'images'),
    queues: {
      resize: str(env, 'RESIZE_QUEUE', 'resize_queue'),
      grayscale: str(env, 'GRAYSCALE_QUEUE', 'grayscale_queue'),
      detect: str(env, 'DETECT_QUEUE', 'objectdetect_queue'),
      tag: str(env, 'TAG_QUEUE', 'tag_queue'),
      ingest: str(env, 'INGEST_QUEUE', 'ingest_queue'),
    },
    store: oneOf(env, 'STORE', ['s3', 'fs'] as const, onLambda ? 's3' : 'fs'),
    queue: oneOf(env, 'QUEUE', ['sqs', 'memory'] as const, onLambda ? 'sqs' : 'memory'),
    dataDir: path.resolve(str(env, 'DATA_DIR', 'data')),
    aws: {
      region: str(env, 'AWS_REGION', str(env, 'AWS_DEFAULT_REGION', 'us-east-1')),
      s3Endpoint,
      sqsEndpoint: optional(env, 'SQS_ENDPOINT'),
      // S3-compatible servers (MinIO, Versity, LocalStack) want path-style URLs.
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', s3Endpoint !== undefined),
    },
    limits: {
      // API Gateway refuses bodies over 10 MB anyway; keep the same limit everywhere.
      maxUploadBytes: num(env, 'MAX_UPLOAD_BYTES', 10 * 1024 * 1024, positiveInt, 'a positive whole number of bytes'),
      // 40 megapixels: a large phone photo is 12-50 MP; a decompression bomb is far beyond.
      maxInputPixels: num(env, 'MAX_INPUT_PIXELS', 40_000_000, positiveInt, 'a positive whole number of pixels'),
      // A direct-to-bucket upload (POST /uploads, then the bucket's notification): 50 MiB.
      maxBucketUploadBytes: num(env, 'MAX_BUCKET_UPLOAD_BYTES', 50 * 1024 * 1024, positiveInt, 'a positive whole number of bytes'),
    },
    resizeScale: num(env, 'RESIZE_SCALE', 0.25, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
    jpegQuality: num(env, 'JPEG_QUALITY', 85, (n) => positiveInt(n) && n <= 100, 'a whole number from 1 to 100'),
    detect: {
      source: oneOf(env, 'DETECT_SOURCE', ['original', 'resized', 'grayscale'] as const, 'original'),
      scoreThreshold: num(env, 'DETECT_SCORE_THRESHOLD', 0.5, (n) => n >= 0 && n <= 1, 'a number from 0 to 1'),
      iouThreshold: num(env, 'DETECT_IOU_THRESHOLD', 0.5, (n) => n >= 0 && n <= 1, 'a number from 0 to 1'),
      maxDetections: num(env, 'DETECT_MAX_DETECTIONS', 20, positiveInt, 'a positive whole number'),
      modelPath: optional(env, 'MODEL_PATH'),
      intraOpThreads: num(env, 'DETECT_THREADS', 1, positiveInt, 'a positive whole number'),
    },
    maxReceiveCount: num(env, 'MAX_RECEIVE_COUNT', 3, positiveInt, 'a positive whole number'),
    visibilityTimeoutSeconds: num(env, 'VISIBILITY_TIMEOUT_SECONDS', 60, positiveInt, 'a positive whole number of seconds'),
    presignExpiresSeconds: num(env, 'PRESIGN_EXPIRES_SECONDS', 300, positiveInt, 'a positive whole number of seconds'),
    apiKey: optional(env, 'API_KEY'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    serviceName: str(env, 'POWERTOOLS_SERVICE_NAME', 'image-pipeline'),
    // EMF on Lambda (serverless-offline and `sls invoke local` set AWS_LAMBDA_FUNCTION_NAME too).
    metrics: oneOf(env, 'METRICS', ['emf', 'prometheus'] as const, onLambda ? 'emf' : 'prometheus'),
    metricsNamespace: str(env, 'POWERTOOLS_METRICS_NAMESPACE', 'ImagePipeline'),
    http: {
      port: num(env, 'PORT', 3000, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'a port from 0 to 65535'),
      host: str(env, 'HOST', '127.0.0.1'),
    },
    events: eventsConfig(env),
  };
}

/**
 * The config of this process: its environment over a tool's own `defaults` (the pipeline CLI is
 * quiet unless LOG_LEVEL says otherwise), under `overrides` (what the tool's arguments say). The
 * one place that reads `process.env`; an empty or undefined value counts as unset.
 */
export function configFromEnvironment(options: { defaults?: Env; overrides?: Env } = {}): Config {
  const given = (env: Env = {}) => Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  return loadConfig({ ...given(options.defaults), ...given(process.env), ...given(options.overrides) });
}
