import path from 'node:path';
import { QUEUES, type QueueKey } from './domain/stages';
import { ConfigError } from './errors';

/**
 * All settings, read once from the environment with types and defaults, failing fast at start
 * with a message naming the variable, what it expects and what it got.
 */
export type DetectSource = 'original' | 'resized' | 'grayscale';

export interface Config {
  bucket: string;
  /** Every queue's name, by the function that consumes it (src/domain/stages.ts's QUEUES, whose defaults they are). */
  queues: Record<QueueKey, string>;
  /** `s3` talks to S3 or any S3-compatible server; `fs` keeps objects under dataDir. */
  store: 's3' | 'fs';
  /** `sqs` talks to SQS or ElasticMQ; `memory` is the in-process queue of the embedded default. */
  queue: 'sqs' | 'memory';
  dataDir: string;
  aws: { region: string; s3Endpoint?: string; sqsEndpoint?: string; forcePathStyle: boolean };
  limits: Limits;
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
  /** The label font file (FONT_PATH); default: the canvas layer's package, then the repository's (src/assets/labelFontPath.ts). */
  fontPath?: string;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  presignExpiresSeconds: number;
  /** Life of the upload forms POST /uploads hands out (UPLOAD_EXPIRES_SECONDS). */
  uploadExpiresSeconds: number;
  /** Who is calling (AUTH and its settings): src/auth/. */
  auth: AuthConfig;
  logLevel: LogLevel;
  /** The `service` key of every log line and the `service` metric dimension. */
  serviceName: string;
  /** `emf`: CloudWatch embedded metric format (Lambda); `prometheus`: text for GET /metrics (embedded). */
  metrics: 'emf' | 'prometheus';
  /** The CloudWatch namespace of the EMF metrics. */
  metricsNamespace: string;
  /** Where `npm start` serves the HTTP API, and how it holds up against slow, stalled or too many clients. */
  http: HttpConfig;
  /** Where `npm run dev` keeps MinIO's bucket between runs (DEV_DATA_DIR); unset: its default under .cache/. */
  devDataDir?: string;
  /** The completion event of each photo ("Image Tagged", "Image Failed"): see EventsConfig. */
  events: EventsConfig;
}

/** The embedded HTTP server (`npm start`); the request timeout also bounds a body read on Lambda. */
export interface HttpConfig {
  port: number;
  host: string;
  /**
   * The base URL clients reach this server at (PUBLIC_URL, no trailing slash): the embedded bucket's
   * forms point under it. Unset: the server's own bound address. Never taken from a request header.
   */
  publicUrl?: string;
  /** A client must send its request headers within this (slow-header attacks). */
  headersTimeoutSeconds: number;
  /** A client must send its whole request, body included, within this; then 408. */
  requestTimeoutSeconds: number;
  /** A connection with no bytes either way for this long is closed (a stalled client). */
  idleTimeoutSeconds: number;
  /** Connections held at once; more are refused at once (closed) until some end. */
  maxConnections: number;
}

/** The size limits of what comes in. */
export interface Limits {
  /**
   * The largest photo POST /upload takes in its body: MAX_UPLOAD_BYTES, and on Lambda no more
   * than LAMBDA_DIRECT_UPLOAD_BYTES (see there); larger photos go through POST /uploads.
   */
  maxUploadBytes: number;
  /** True when maxUploadBytes is Lambda's cap, not the configured value (the 413 says why). */
  maxUploadBytesIsLambdaCap: boolean;
  /** The largest photo POST /uploads lets into the bucket (MAX_BUCKET_UPLOAD_BYTES). */
  maxBucketUploadBytes: number;
  /** The most pixels of any photo, at every stage (decompression bombs). */
  maxInputPixels: number;
  /** The most scans of a JPEG, at every stage (MAX_JPEG_SCANS; see DEFAULT_MAX_JPEG_SCANS). */
  maxJpegScans: number;
  /** Seconds one decode or encode may take (IMAGE_TIMEOUT_SECONDS; 0: no budget). */
  imageTimeoutSeconds: number;
}

/**
 * 32 scans: the most a JPEG may have (MAX_JPEG_SCANS), checked by walking its markers before any
 * decode (src/image/decodeLimits.ts), because a progressive JPEG costs one pass over the whole
 * image per scan. What writes JPEGs: cameras and phones write baseline JPEGs (1 scan, or one per
 * component: at most 4); libjpeg, libjpeg-turbo and mozjpeg's progressive scripts write 10 scans
 * for colour, 6 for grey, 18 for CMYK (`jpeg_simple_progression`; mozjpeg's scan optimisation
 * 7 to 9); Photoshop's "progressive" 3 to 5. Where decoders stop: Chromium's JPEG decoders (Blink's
 * and Skia's) abort at the 100th scan, as libtiff does for JPEG in TIFF (100, its
 * LIBTIFF_JPEG_MAX_ALLOWED_SCAN_NUMBER); Firefox at the 1000th; libjpeg-turbo leaves the limit to
 * the application (djpeg -maxscans, TurboJPEG's TJPARAM_SCANLIMIT, 500 in its own fuzz targets).
 * 32 is nearly twice what any of those encoders writes and far below where browsers give up: at
 * 64 MP a scan costs about 17 ms, so 32 bound the extra to about half a second a decode, where 883
 * scans in 240 KB cost 15 s.
 */
export const DEFAULT_MAX_JPEG_SCANS = 32;

/**
 * 20 s: the budget of one decode or encode (sharp's `timeout`, IMAGE_TIMEOUT_SECONDS). The
 * costliest photo the limits let in (64 MP, 32 scans) takes about 1.4 s of CPU to decode and
 * encode (docs/security.md), about 2.4 s on a Lambda of 1024 MB (0.58 of a vCPU); the budget leaves
 * room for a loaded machine, and stays under the stages' Lambda timeout (30 s), so a stage that
 * hits it still records why. libvips checks the budget between regions, so it cannot cut a single long library
 * call short (the scans of a progressive JPEG: hence MAX_JPEG_SCANS).
 */
export const DEFAULT_IMAGE_TIMEOUT_SECONDS = 20;

/**
 * The largest photo a Lambda function can take in the body of POST /upload: 4,483,616 bytes.
 * A synchronous invocation carries at most 6 MB of request payload, read here as 6,000,000
 * bytes (the conservative reading of AWS's "6 MB"). API Gateway hands a binary body to the
 * function base64-encoded, 4 characters for 3 bytes, inside the event's JSON envelope (headers,
 * request context; a few KB) and, for a form, with its multipart framing. So: 6,000,000 × 3/4 =
 * 4,500,000 bytes, less 16 KiB (16,384 bytes, 21,846 base64 characters) kept for the envelope and
 * the framing = 4,483,616. A body whose event would pass 6 MB (about 4.5 MB of photo) never
 * reaches the function at all (API Gateway or Lambda answers with an error of its own, not our
 * JSON), so the limit sits below that, where the function can still refuse with its own JSON 413
 * that points to POST /uploads. Embedded and serverless offline have no such cap and keep
 * MAX_UPLOAD_BYTES.
 */
export const LAMBDA_DIRECT_UPLOAD_BYTES = (6_000_000 * 3) / 4 - 16 * 1024;

/** 50 MiB: the largest photo POST /uploads signs a form for (MAX_BUCKET_UPLOAD_BYTES). */
export const DEFAULT_BUCKET_UPLOAD_BYTES = 50 * 1024 * 1024;

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
  /** Where that key is read at init instead (WEBHOOK_SECRET_PARAMETER): an SSM parameter name or ARN, or a Secrets Manager secret ARN. */
  webhookSecretParameter?: string;
  /** How long a failed webhook delivery waits before it is tried again (the events queue's visibility timeout). */
  webhookRetrySeconds: number;
}

/**
 * Who may call the HTTP API, and so whose photos it sees (docs/security.md, "Sign-in and owners"):
 * - `none`: one person on their own machine; every caller is the owner `local`. Served on
 *   loopback only, unless `nonePublic` (AUTH_NONE_PUBLIC) says the address is private anyway.
 * - `api-key`: `x-api-key` against hashed keys, each naming its owner, from `apiKeys`.
 * - `jwt`: a bearer token (RS256 or ES256) from `jwt.issuer` for `jwt.audience`; the owner is its `sub`.
 */
export const AUTH_MODES = ['none', 'api-key', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * Where the API keys' hashes are read, once per process: a file off AWS (API_KEYS_FILE); on AWS an
 * SSM SecureString parameter or a Secrets Manager secret (API_KEYS_PARAMETER), read at init with
 * src/ports/secrets.ts like every other secret.
 */
export type ApiKeysSource = { kind: 'file'; path: string } | { kind: 'parameter'; reference: string };

export interface JwtConfig {
  /** JWT_ISSUER: the `iss` every token must carry, and where discovery starts. */
  issuer: string;
  /** JWT_AUDIENCE: the `aud` a token must name (or, without `aud`, its `client_id`: Cognito's access tokens). */
  audience: string;
  /** JWT_JWKS_URL: the issuer's keys; default the `jwks_uri` of its discovery document. */
  jwksUrl?: string;
  /** JWT_CLIENT_ID: the gallery's OAuth client (authorization code + PKCE); default the audience. */
  clientId: string;
}

export interface AuthConfig {
  mode: AuthMode;
  /** AUTH_NONE_PUBLIC: serve AUTH=none beyond loopback anyway (the network is private: say so explicitly). */
  nonePublic: boolean;
  /** Served by a real Lambda function behind API Gateway: no loopback to hide behind. */
  onLambda: boolean;
  jwt?: JwtConfig;
  apiKeys?: ApiKeysSource;
}

/** `raw` as a URL when it is an http or https one. */
function parseHttpUrl(raw: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

function httpUrl(name: string, raw: string): string {
  if (parseHttpUrl(raw) === undefined) {
    throw new ConfigError(`${name}: expected an http or https URL, got ${JSON.stringify(raw.slice(0, 120))}`);
  }
  return raw;
}

/**
 * `onLambda`: a real Lambda function (not serverless offline or `sls invoke local`), whose HTTP
 * routes anyone who reaches its API may call: src/auth/noneModeRule.ts holds AUTH=none to loopback.
 */
function authConfig(env: Env, onLambda: boolean): AuthConfig {
  // The single key of before (one key for everyone): refused, not ignored — a server its operator
  // thinks protected would otherwise be open.
  const retired = { API_KEY: optional(env, 'API_KEY'), API_KEY_PARAMETER: optional(env, 'API_KEY_PARAMETER') };
  for (const [variable, value] of Object.entries(retired)) {
    if (value !== undefined) {
      throw new ConfigError(
        `${variable}: no longer read (one key for everyone names no owner); set AUTH=api-key and API_KEYS_FILE, or API_KEYS_PARAMETER on AWS (hashed keys, each naming its owner: npm run api-key -- --owner <name>), see docs/security.md`,
      );
    }
  }
  const mode = oneOf(env, 'AUTH', AUTH_MODES, 'none');
  const nonePublic = bool(env, 'AUTH_NONE_PUBLIC', false);
  const auth: AuthConfig = { mode, nonePublic, onLambda };
  if (mode === 'jwt') {
    const issuer = optional(env, 'JWT_ISSUER');
    const audience = optional(env, 'JWT_AUDIENCE');
    if (issuer === undefined)
      throw new ConfigError("JWT_ISSUER: expected the issuer's URL (the tokens' iss) when AUTH is jwt, got nothing");
    if (audience === undefined) throw new ConfigError('JWT_AUDIENCE: expected the audience tokens must name when AUTH is jwt, got nothing');
    const jwksUrl = optional(env, 'JWT_JWKS_URL');
    auth.jwt = {
      issuer: httpUrl('JWT_ISSUER', issuer),
      audience,
      ...(jwksUrl !== undefined ? { jwksUrl: httpUrl('JWT_JWKS_URL', jwksUrl) } : {}),
      clientId: str(env, 'JWT_CLIENT_ID', audience),
    };
  }
  // Checked whatever the mode: a malformed reference, or both set, is a mistake either way.
  const reference = secretReference(env, 'API_KEYS_PARAMETER', 'API_KEYS_FILE');
  if (mode === 'api-key') {
    const file = optional(env, 'API_KEYS_FILE');
    if (reference !== undefined) auth.apiKeys = { kind: 'parameter', reference };
    else if (file !== undefined) auth.apiKeys = { kind: 'file', path: path.resolve(file) };
    else {
      throw new ConfigError(
        "AUTH: api-key expects API_KEYS_FILE (a file of the keys' hashes) or, on AWS, API_KEYS_PARAMETER (the SSM parameter or Secrets Manager secret holding them), got neither",
      );
    }
  }
  return auth;
}

/** At least this many characters of WEBHOOK_SECRET: an HMAC key a receiver cannot guess. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

function eventsConfig(env: Env): EventsConfig {
  const webhookUrl = optional(env, 'WEBHOOK_URL');
  const target = oneOf(env, 'EVENTS', ['eventbridge', 'webhook', 'off'] as const, webhookUrl !== undefined ? 'webhook' : 'off');
  const webhookSecret = optional(env, 'WEBHOOK_SECRET');
  const webhookSecretParameter = secretReference(env, 'WEBHOOK_SECRET_PARAMETER', 'WEBHOOK_SECRET');
  if (target === 'webhook') {
    if (webhookUrl === undefined) throw new ConfigError('WEBHOOK_URL: expected an http or https URL when EVENTS is webhook, got nothing');
    httpUrl('WEBHOOK_URL', webhookUrl);
    // The secret's length only, never the secret. One read from its parameter is checked once read.
    if (webhookSecretParameter === undefined) assertWebhookSecret(webhookSecret);
  }
  return {
    target,
    bus: str(env, 'EVENT_BUS', 'default'),
    queue: str(env, 'EVENTS_QUEUE', 'events_queue'),
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    ...(webhookSecretParameter !== undefined ? { webhookSecretParameter } : {}),
    webhookRetrySeconds: num(env, 'WEBHOOK_RETRY_SECONDS', 30, (n) => n > 0 && n <= 43_200, 'a number of seconds above 0, at most 43200'),
  };
}

/** The webhook's key is long enough to sign with (the message gives its length, never the key). */
export function assertWebhookSecret(secret: string | undefined, variable = 'WEBHOOK_SECRET'): void {
  if (secret === undefined || secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new ConfigError(
      `${variable}: expected at least ${MIN_WEBHOOK_SECRET_LENGTH} characters to sign webhook deliveries with, got ${secret?.length ?? 0}`,
    );
  }
}

/**
 * `<NAME>_PARAMETER`: where the secret NAME is read at init (src/ports/secrets.ts) — an SSM parameter
 * name (`/image-pipeline/prod/api-key`) or ARN, or a Secrets Manager secret ARN. Refused next to
 * NAME itself: one secret, one source.
 */
function secretReference(env: Env, variable: `${string}_PARAMETER`, name: string): string | undefined {
  const reference = optional(env, variable);
  if (reference === undefined) return undefined;
  if (optional(env, name) !== undefined) {
    throw new ConfigError(`${variable}: expected either ${name} or ${variable}, got both; set one`);
  }
  if (
    !/^(\/[A-Za-z0-9_.\-/]{1,2047}|arn:[a-z-]+:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter\/|secret:)[A-Za-z0-9_.\-/+=@!]+)$/.test(
      reference,
    )
  ) {
    throw new ConfigError(
      `${variable}: expected an SSM parameter name such as /image-pipeline/prod/secret, or an SSM parameter or Secrets Manager secret ARN, got ${JSON.stringify(reference.slice(0, 120))}`,
    );
  }
  return reference;
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

function resolved(dir: string | undefined): string | undefined {
  return dir === undefined ? undefined : path.resolve(dir);
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

/**
 * `cappedByLambda`: a real Lambda invocation (AWS_LAMBDA_FUNCTION_NAME set; serverless offline sets
 * it too but also IS_OFFLINE, and carries any size), where POST /upload is capped at
 * LAMBDA_DIRECT_UPLOAD_BYTES.
 */
function limitsConfig(env: Env, cappedByLambda: boolean): Limits {
  const configured = num(env, 'MAX_UPLOAD_BYTES', 10 * 1024 * 1024, positiveInt, 'a positive whole number of bytes');
  return {
    maxUploadBytes: cappedByLambda ? Math.min(configured, LAMBDA_DIRECT_UPLOAD_BYTES) : configured,
    maxUploadBytesIsLambdaCap: cappedByLambda && configured > LAMBDA_DIRECT_UPLOAD_BYTES,
    maxBucketUploadBytes: num(env, 'MAX_BUCKET_UPLOAD_BYTES', DEFAULT_BUCKET_UPLOAD_BYTES, positiveInt, 'a positive whole number of bytes'),
    // 2^26 = 67,108,864 pixels (64 MP): the largest phone photos are 48-50 MP; a decompression bomb is far beyond.
    maxInputPixels: num(env, 'MAX_INPUT_PIXELS', 2 ** 26, positiveInt, 'a positive whole number of pixels'),
    maxJpegScans: num(env, 'MAX_JPEG_SCANS', DEFAULT_MAX_JPEG_SCANS, positiveInt, 'a positive whole number of scans'),
    imageTimeoutSeconds: num(
      env,
      'IMAGE_TIMEOUT_SECONDS',
      DEFAULT_IMAGE_TIMEOUT_SECONDS,
      (n) => Number.isInteger(n) && n >= 0 && n <= 3600,
      'a whole number of seconds from 0 (no budget) to 3600',
    ),
  };
}

function publicUrl(env: Env): string | undefined {
  const raw = optional(env, 'PUBLIC_URL');
  if (raw === undefined) return undefined;
  const url = parseHttpUrl(raw);
  if (url === undefined || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(
      `PUBLIC_URL: expected the http or https URL clients reach this server at, such as https://photos.example.com (no query, fragment or credentials), got ${JSON.stringify(raw.slice(0, 80))}`,
    );
  }
  return url.toString().replace(/\/+$/, '');
}

function httpConfig(env: Env): HttpConfig {
  const seconds = (n: number) => n > 0 && n <= 86_400;
  const expect = 'a number of seconds above 0, at most 86400';
  const publicBase = publicUrl(env);
  return {
    port: num(env, 'PORT', 3000, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'a port from 0 to 65535'),
    host: str(env, 'HOST', '127.0.0.1'),
    ...(publicBase !== undefined ? { publicUrl: publicBase } : {}),
    headersTimeoutSeconds: num(env, 'HTTP_HEADERS_TIMEOUT_SECONDS', 20, seconds, expect),
    // Node's own default: a 50 MiB form at about 175 KB/s.
    requestTimeoutSeconds: num(env, 'HTTP_REQUEST_TIMEOUT_SECONDS', 300, seconds, expect),
    idleTimeoutSeconds: num(env, 'HTTP_IDLE_TIMEOUT_SECONDS', 30, seconds, expect),
    maxConnections: num(env, 'HTTP_MAX_CONNECTIONS', 256, positiveInt, 'a positive whole number'),
  };
}

/** The config from these variables (tests pass their own; processes use configFromEnvironment). */
export function loadConfig(env: Env = process.env): Config {
  // On Lambda (AWS_LAMBDA_FUNCTION_NAME set) the default adapters are the AWS ones.
  const onLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const s3Endpoint = optional(env, 'S3_ENDPOINT');
  return {
    bucket: str(env, 'BUCKET', 'images'),
    queues: {
      resize: str(env, 'RESIZE_QUEUE', QUEUES.resize),
      grayscale: str(env, 'GRAYSCALE_QUEUE', QUEUES.grayscale),
      detect: str(env, 'DETECT_QUEUE', QUEUES.detect),
      tag: str(env, 'TAG_QUEUE', QUEUES.tag),
      ingest: str(env, 'INGEST_QUEUE', QUEUES.ingest),
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
    limits: limitsConfig(env, onLambda && env.IS_OFFLINE !== 'true'),
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
    fontPath: optional(env, 'FONT_PATH'),
    maxReceiveCount: num(env, 'MAX_RECEIVE_COUNT', 3, positiveInt, 'a positive whole number'),
    visibilityTimeoutSeconds: num(env, 'VISIBILITY_TIMEOUT_SECONDS', 60, positiveInt, 'a positive whole number of seconds'),
    presignExpiresSeconds: num(env, 'PRESIGN_EXPIRES_SECONDS', 300, positiveInt, 'a positive whole number of seconds'),
    uploadExpiresSeconds: num(
      env,
      'UPLOAD_EXPIRES_SECONDS',
      900,
      (n) => positiveInt(n) && n <= 604_800,
      'a whole number of seconds from 1 to 604800 (7 days, the longest a signature lasts)',
    ),
    auth: authConfig(env, onLambda && env.IS_OFFLINE !== 'true'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    serviceName: str(env, 'POWERTOOLS_SERVICE_NAME', 'image-pipeline'),
    // EMF on Lambda (serverless-offline and `sls invoke local` set AWS_LAMBDA_FUNCTION_NAME too).
    metrics: oneOf(env, 'METRICS', ['emf', 'prometheus'] as const, onLambda ? 'emf' : 'prometheus'),
    metricsNamespace: str(env, 'POWERTOOLS_METRICS_NAMESPACE', 'ImagePipeline'),
    http: httpConfig(env),
    devDataDir: resolved(optional(env, 'DEV_DATA_DIR')),
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
