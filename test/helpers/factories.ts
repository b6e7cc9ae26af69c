import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type App, createApp } from '../../src/app/createApp';
import { hashApiKey } from '../../src/auth/apiKeys';
import { type Config, type LogLevel, loadConfig } from '../../src/config';
import type { PipelineEvent } from '../../src/domain/imageEvents';
import type { ApiRequest } from '../../src/http/ApiRequest';
import type { ApiEvent } from '../../src/lambda/apiEvent';
import { apiHandler } from '../../src/lambda/apiHandler';
import { detectHandler } from '../../src/lambda/detectHandler';
import { grayscaleHandler } from '../../src/lambda/grayscaleHandler';
import { httpMiddlewares, lambdaMiddlewares } from '../../src/lambda/middlewares';
import { resizeHandler } from '../../src/lambda/resizeHandler';
import { tagHandler } from '../../src/lambda/tagHandler';
import { uploadHandler } from '../../src/lambda/uploadHandler';
import type { StageMetrics } from '../../src/metrics/StageMetrics';
import type { EventPublisher } from '../../src/ports/EventPublisher';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
import type { SecretSource } from '../../src/ports/secrets';
import { localContext, toSqsEvent } from '../../src/runtime/sqsEvent';
import type { DetectFn } from '../../src/stages/Stage';

/** Factories for events, contexts and runtime deps, so each test states only what matters to it. */
export function lambdaContext(name = 'test'): Context {
  return localContext(name);
}

export function sqsEvent(queueName: string, bodies: string[], receiveCount = 1): SQSEvent {
  return toSqsEvent(
    queueName,
    bodies.map((body, i) => ({ messageId: `m${i}`, receiptHandle: `r${i}`, body, receiveCount, sentTimestamp: Date.now() })),
  );
}

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

export function multipartBody(parts: Part[], boundary = '----pipeline-test-boundary'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.contentType ? `Content-Type: ${p.contentType}\r\n` : ''}\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function httpApiEvent(options: {
  body?: Buffer;
  contentType?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
}): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const p = options.path ?? '/upload';
  return {
    version: '2.0',
    routeKey: `${method} ${p}`,
    rawPath: p,
    rawQueryString: '',
    headers: { ...(options.contentType ? { 'Content-Type': options.contentType } : {}), ...(options.headers ?? {}) },
    requestContext: {
      accountId: '1',
      apiId: 'api',
      domainName: 'localhost',
      domainPrefix: 'local',
      http: { method, path: p, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-test-1',
      routeKey: `${method} ${p}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: options.body?.toString('base64'),
    isBase64Encoded: options.body !== undefined,
  };
}

/** An ApiRequest as an adapter makes it: the body a stream of these bytes, a deadline of a minute. */
export function apiRequest(options: Partial<Omit<ApiRequest, 'body'>> & { body?: Buffer } = {}): ApiRequest {
  const { body = Buffer.alloc(0), ...rest } = options;
  return {
    method: 'GET',
    path: '/',
    headers: {},
    query: {},
    pathParameters: {},
    signal: AbortSignal.timeout(60_000),
    sourceIp: '127.0.0.1',
    ...rest,
    body: Readable.from(body.length ? [body] : [], { objectMode: false }),
    bodyLength: body.length,
  };
}

export function restApiEvent(options: { body?: Buffer; contentType?: string }): APIGatewayProxyEvent {
  return {
    resource: '/upload',
    path: '/upload',
    httpMethod: 'POST',
    headers: options.contentType ? { 'content-type': options.contentType } : {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-rest-1' } as APIGatewayProxyEvent['requestContext'],
    body: options.body?.toString('base64') ?? null,
    isBase64Encoded: options.body !== undefined,
  };
}

/** One log line, parsed (Powertools keys: `level` in capitals, `message`, `timestamp`, `service`, …). */
export type LogLine = Record<string, unknown>;

export interface TestApp extends App {
  store: FsObjectStore;
  queue: MemoryQueue;
  /** Every line the app logged, parsed, in order. */
  logs: LogLine[];
  dir: string;
}

/**
 * An app on a real folder store and in-process queue in a temp folder, its log lines collected,
 * detection stubbed unless given. The queue's visibility timeout is 0.2 s, so a test that receives
 * by hand sees a failed message again at once.
 */
export function testApp(
  options: { env?: Record<string, string>; detect?: DetectFn; logLevel?: LogLevel; metrics?: StageMetrics; secrets?: SecretSource } = {},
): TestApp {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-test-'));
  const config: Config = loadConfig({
    DATA_DIR: dir,
    VISIBILITY_TIMEOUT_SECONDS: '30',
    LOG_LEVEL: options.logLevel ?? 'debug',
    ...options.env,
  });
  const logs: LogLine[] = [];
  const store = new FsObjectStore({ root: path.join(dir, 'images') });
  const queue = new MemoryQueue({ maxReceiveCount: config.maxReceiveCount, visibilityTimeoutSeconds: 0.2 });
  const app = createApp({
    config,
    ports: { store, queue, deadLetters: queue, close: () => queue.close() },
    detector: options.detect ?? (async () => [{ label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 20, height: 20 } }]),
    logSink: (line) => logs.push(JSON.parse(line) as LogLine),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  return { ...app, store, queue, logs, dir };
}

/**
 * AUTH=api-key for a test app: a keys file in a temp folder holding the hashes of `keys` (owner ->
 * key), and the variables that point at it.
 */
export function apiKeysEnv(keys: Record<string, string>): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'api-keys-')), 'api-keys.json');
  writeFileSync(file, JSON.stringify({ keys: Object.entries(keys).map(([owner, key]) => ({ owner, sha256: hashApiKey(key) })) }));
  return { AUTH: 'api-key', API_KEYS_FILE: file };
}

type HttpFunction = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyResult>;
type SqsFunction = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** The six functions as functions/<name>/handler.ts builds them (same handlers, same middlewares), for this app. */
export function lambdaFunctions(app: App): {
  upload: HttpFunction;
  api: HttpFunction;
  resize: SqsFunction;
  grayscale: SqsFunction;
  detect: SqsFunction;
  tag: SqsFunction;
} {
  return {
    upload: middy(uploadHandler(app)).use(httpMiddlewares(app)),
    api: middy(apiHandler(app)).use(httpMiddlewares(app)),
    resize: middy(resizeHandler(app)).use(lambdaMiddlewares(app)),
    grayscale: middy(grayscaleHandler(app)).use(lambdaMiddlewares(app)),
    detect: middy(detectHandler(app)).use(lambdaMiddlewares(app)),
    tag: middy(tagHandler(app)).use(lambdaMiddlewares(app)),
  };
}

/** A publisher that keeps what it is given, and fails while `failing` is set. */
export function eventRecorder(): EventPublisher & { events: PipelineEvent[]; failing: boolean } {
  const r = {
    events: [] as PipelineEvent[],
    failing: false,
    async publish(event: PipelineEvent) {
      if (r.failing) throw new Error('PutEvents: AccessDeniedException (test)');
      r.events.push(event);
    },
  };
  return r;
}
