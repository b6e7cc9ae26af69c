import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { type Config, loadConfig } from '../../src/config';
import type { RuntimeDeps } from '../../src/lambda/runtimeDeps';
import { createLogger, type LogLevel } from '../../src/log';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
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

export interface TestDeps extends RuntimeDeps {
  store: FsObjectStore;
  queue: MemoryQueue;
  logs: Array<Record<string, unknown>>;
  dir: string;
}

/** Real filesystem store and in-process queue in a temp folder; detection stubbed unless given. */
export function testDeps(options: { env?: Record<string, string>; detect?: DetectFn; logLevel?: LogLevel } = {}): TestDeps {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-test-'));
  const config: Config = loadConfig({ DATA_DIR: dir, VISIBILITY_TIMEOUT_SECONDS: '30', ...options.env });
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({}, options.logLevel ?? 'debug', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  return {
    config,
    log,
    logs,
    dir,
    store: new FsObjectStore({ root: path.join(dir, 'images') }),
    queue: new MemoryQueue({ maxReceiveCount: config.maxReceiveCount, visibilityTimeoutSeconds: 0.2 }),
    detect: options.detect ?? (async () => [{ label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 20, height: 20 } }]),
  };
}
