/**
 * The estimated AWS bill per 1 million photos, from figures measured in the same bench run: the
 * stages' CPU time here, each function's configured memory and SQS event source (serverless.yml),
 * the requests a photo costs (counted on the embedded pipeline, bench/requestCounts.ts) and the
 * prices in bench/prices.json (each with its source and the date it was read).
 *
 * How AWS charges, as modelled:
 * - Lambda: one request per invocation. An SQS-triggered function is invoked once per batch, and
 *   a batch holds what its event source mapping gathers: up to `batchSize` messages, waiting up to
 *   `maximumBatchingWindow` seconds for them (serverless.yml; no window: it takes what is there).
 *   At a steady `photosPerSecond` a batch holds min(batchSize, max(1, rate x window)) messages.
 * - Lambda duration: each photo's CPU time measured here, divided by the function's share of a
 *   vCPU (memory / 1769 MB, at most one: the stages use one thread), plus IO_MS per store or queue
 *   call; times memory, in GB-s. Init (cold start) duration is billed since August 2025: cold
 *   starts x init time x memory, where an init time is given (see `InitTimes`).
 * - SQS: every API call is a request (each 64 KB of payload one more): a SendMessage per message
 *   sent (S3's notification and EventBridge's delivery to the sample queue included), one
 *   ReceiveMessage and one DeleteMessageBatch per batch. Idle long polls are a fixed monthly cost
 *   of the event source mappings, not a photo's: left out.
 * - S3: PUT-class (PUT, POST, COPY, LIST) and GET-class (GET, HEAD) requests as counted.
 * - API Gateway HTTP API: a request per call, each 512 KB of the request one more.
 * - EventBridge: one custom event a photo ("Image Tagged"). CloudWatch Logs: the bytes the
 *   functions log at level info (counted) and Lambda's START/END/REPORT lines per invocation.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT as REPO } from '../scripts/repoRoot';
import type { RequestCounts } from './requestCounts';

export interface Prices {
  region: string;
  as_of: string;
  lambda: { x86_64_per_gb_second: number; per_million_requests: number; mb_per_vcpu: number };
  sqs: { standard_per_million_requests: number; kb_per_request_chunk: number };
  s3: { put_per_thousand: number; get_per_thousand: number };
  api_gateway: { http_api_per_million: number; http_api_metered_kb: number };
  eventbridge: { custom_events_per_million: number };
  cloudwatch_logs: { ingestion_per_gb: number };
  rekognition: { detect_labels_per_image_first_million: number };
}

export function readPrices(): Prices {
  return JSON.parse(readFileSync(path.join(REPO, 'bench/prices.json'), 'utf8')) as Prices;
}

/** An SQS event source mapping as serverless.yml configures it (Lambda's defaults where it says nothing). */
export interface SqsEventSource {
  batchSize: number;
  batchingWindowSeconds: number;
}

export interface FunctionSettings {
  memoryMb: number;
  sqs?: SqsEventSource;
}

interface Stack {
  provider?: { memorySize?: number };
  functions?: Record<string, { memorySize?: number; events?: Array<{ sqs?: { batchSize?: number; maximumBatchingWindow?: number } }> }>;
}

/** Each function's memorySize and SQS event source, read from serverless.yml. */
export function functionSettings(text = readFileSync(path.join(REPO, 'serverless.yml'), 'utf8')): Record<string, FunctionSettings> {
  const stack = yaml.load(text) as Stack;
  const providerMemory = stack.provider?.memorySize ?? 1024;
  return Object.fromEntries(
    Object.entries(stack.functions ?? {}).map(([name, fn]) => {
      const sqs = fn.events?.find((e) => e.sqs)?.sqs;
      const settings: FunctionSettings = { memoryMb: fn.memorySize ?? providerMemory };
      // Lambda's defaults: a batch of 10, no batching window.
      if (sqs) settings.sqs = { batchSize: sqs.batchSize ?? 10, batchingWindowSeconds: sqs.maximumBatchingWindow ?? 0 };
      return [name, settings];
    }),
  );
}

/** Messages in one batch at a steady arrival rate (photos a second, one message each). */
export function messagesPerBatch(source: SqsEventSource, photosPerSecond: number): number {
  return Math.min(source.batchSize, Math.max(1, photosPerSecond * source.batchingWindowSeconds));
}

/** One million photos a month, evenly spread: 0.39 a second. */
export const MILLION_A_MONTH = 1e6 / (30 * 24 * 3600);

/**
 * A cold start's extra time per function, CPU ms on one core (import, app, model load and the first
 * invocation's extra work over a warm one), billed like the function's work (over its share of a
 * vCPU). Give what is measured; a function left out is billed none, and the bill says so. The
 * detect function's is measured by bench/lambdaInit.ts (the model load dominates it); the other
 * stages' init is a small part of theirs and is not measured.
 */
export type InitTimes = Partial<Record<string, number>>;

/**
 * Cold starts, billed since August 2025 (the INIT phase, and the first invocation's extra time). AWS
 * reports that in production workloads cold starts typically occur in under 1 % of invocations; a
 * million photos a month (about 0.4 a second) keeps a function warm, so 1 % of each function's
 * invocations is a cautious rate.
 */
export const COLD_START_RATE = 0.01;
/** In-region wait per store or queue call, ms. */
export const IO_MS = 20;
/** Lambda's own log lines per invocation (START, END, REPORT), bytes: an estimate, not counted. */
export const LAMBDA_LOG_BYTES_PER_INVOCATION = 400;

export interface BillInput {
  /** CPU ms each stage needs per photo, measured here (one at a time). */
  stageCpuMs: Record<string, number>;
  counts: RequestCounts;
  functions: Record<string, FunctionSettings>;
  prices: Prices;
  photosPerSecond: number;
  /** Bytes of one photo (median), for API Gateway's 512 KB metering of POST /upload. */
  photoBytes: number;
  init?: InitTimes;
}

export interface BillLine {
  item: string;
  usd: number;
}

export interface FunctionCost {
  memoryMb: number;
  /** The function's share of a vCPU (memory / 1769 MB, at most one). */
  cpuShare: number;
  /** Messages per invocation (1 for the HTTP functions). */
  batch: number;
  invocations: number;
  msPerPhoto: number;
  gbsPerPhoto: number;
  initMs?: number;
}

/** Cost of 1 million photos. */
export function bill(input: BillInput) {
  const { counts, functions, prices } = input;
  const million = 1e6;
  const perFunction: Record<string, FunctionCost> = {};
  // The functions a photo passes through on its way in, then the four stages of the queues.
  const wayIn = counts.wayIn === 'bucket' ? ['upload', 'ingest'] : ['upload'];
  for (const fn of [...wayIn, 'resize', 'grayscale', 'detect', 'tag']) {
    const settings = functions[fn];
    if (!settings) continue;
    const batch = settings.sqs ? messagesPerBatch(settings.sqs, input.photosPerSecond) : 1;
    const share = Math.min(1, settings.memoryMb / prices.lambda.mb_per_vcpu);
    const cpu = fn === 'ingest' ? 0 : (input.stageCpuMs[fn] ?? 0);
    // On the bucket's way in, POST /uploads only signs a form: no image work.
    const work = fn === 'upload' && counts.wayIn === 'bucket' ? 0 : cpu;
    // Lambda bills at least 1 ms an invocation.
    const ms = Math.max(1, work / share + (counts.callsPerFunction[fn] ?? 0) * IO_MS);
    const initMs = input.init?.[fn];
    perFunction[fn] = {
      memoryMb: settings.memoryMb,
      cpuShare: share,
      batch,
      invocations: 1 / batch,
      msPerPhoto: ms,
      gbsPerPhoto: (ms / 1000) * (settings.memoryMb / 1024),
      ...(initMs !== undefined ? { initMs } : {}),
    };
  }
  const fns = Object.values(perFunction);
  const invocations = fns.reduce((a, f) => a + f.invocations, 0);
  const gbs = fns.reduce((a, f) => a + f.gbsPerPhoto, 0);
  const initGbs = fns.reduce(
    (a, f) => a + ((f.initMs ?? 0) / f.cpuShare / 1000) * (f.memoryMb / 1024) * f.invocations * COLD_START_RATE,
    0,
  );
  const queueFns = Object.entries(perFunction).filter(([fn]) => functions[fn]?.sqs);
  const batchesPerPhoto = queueFns.reduce((a, [, f]) => a + f.invocations, 0);
  const sqsRequests = counts.sqsSends + 1 /* EventBridge's delivery to the sample queue */ + 2 * batchesPerPhoto;
  const apiRequests =
    counts.wayIn === 'upload' ? Math.max(1, Math.ceil(input.photoBytes / (prices.api_gateway.http_api_metered_kb * 1024))) : 1;
  const logGb = (counts.logBytes + invocations * LAMBDA_LOG_BYTES_PER_INVOCATION) / 1e9;
  const uninit = fns.length - fns.filter((f) => f.initMs !== undefined).length;
  const lines: BillLine[] = [
    { item: `Lambda duration (${(gbs * million).toExponential(2)} GB-s)`, usd: gbs * million * prices.lambda.x86_64_per_gb_second },
    {
      item: `Lambda init (${(COLD_START_RATE * 100).toFixed(0)} % cold starts${uninit ? `; ${uninit} of ${fns.length} functions without an init time` : ''})`,
      usd: initGbs * million * prices.lambda.x86_64_per_gb_second,
    },
    { item: `Lambda requests (${invocations.toFixed(2)} invocations a photo)`, usd: invocations * prices.lambda.per_million_requests },
    {
      item: `SQS (${counts.sqsSends.toFixed(0)} + 1 sends, ${batchesPerPhoto.toFixed(2)} receives and deletes of batches)`,
      usd: sqsRequests * prices.sqs.standard_per_million_requests,
    },
    { item: `S3 PUT, COPY, POST, LIST (${counts.s3Puts.toFixed(1)} a photo)`, usd: counts.s3Puts * 1000 * prices.s3.put_per_thousand },
    { item: `S3 GET, HEAD (${counts.s3Gets.toFixed(1)} a photo)`, usd: counts.s3Gets * 1000 * prices.s3.get_per_thousand },
    {
      item: `API Gateway HTTP API (${apiRequests} a photo: ${counts.wayIn === 'upload' ? 'POST /upload, per 512 KB' : 'POST /uploads'})`,
      usd: apiRequests * prices.api_gateway.http_api_per_million,
    },
    { item: `EventBridge (${counts.events} event a photo)`, usd: counts.events * prices.eventbridge.custom_events_per_million },
    {
      item: `CloudWatch Logs (${((logGb * 1e9) / 1000).toFixed(1)} KB a photo)`,
      usd: logGb * million * prices.cloudwatch_logs.ingestion_per_gb,
    },
  ];
  const total = lines.reduce((a, l) => a + l.usd, 0);
  const rekognition = million * prices.rekognition.detect_labels_per_image_first_million;
  return { lines, total, perFunction, rekognition, sqsRequests };
}

export function printBill(title: string, result: ReturnType<typeof bill>, input: BillInput): void {
  const { prices } = input;
  console.log(
    `\n### Estimated AWS bill per 1 million photos, ${title} (${prices.region}, prices read ${prices.as_of}; ${(input.photosPerSecond).toFixed(2)} photos/s)`,
  );
  for (const [fn, f] of Object.entries(result.perFunction)) {
    const settings = input.functions[fn]!;
    const batch = settings.sqs
      ? `batch ${f.batch.toFixed(1)} (batchSize ${settings.sqs.batchSize}, window ${settings.sqs.batchingWindowSeconds} s)`
      : 'one request each';
    console.log(
      `  ${fn.padEnd(10)} ${String(f.memoryMb).padStart(5)} MB  ${f.msPerPhoto.toFixed(0).padStart(6)} ms a photo  ${f.gbsPerPhoto.toFixed(4)} GB-s  ${batch}; init ${f.initMs !== undefined ? `${f.initMs.toFixed(0)} ms` : 'not measured'}`,
    );
  }
  for (const l of result.lines) console.log(`  ${l.item.padEnd(78)} $${l.usd.toFixed(2).padStart(9)}`);
  console.log(`  ${'total'.padEnd(78)} $${result.total.toFixed(2).padStart(9)}`);
  console.log(
    `  ${'Amazon Rekognition DetectLabels alone (first million images)'.padEnd(78)} $${result.rekognition.toFixed(2).padStart(9)}  (${(result.rekognition / result.total).toFixed(1)}x this pipeline)`,
  );
}
