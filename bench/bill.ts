/**
 * The estimated AWS bill per 1 million photos, from figures measured in the same bench run:
 * stage durations here, each function's configured memory (serverless.yml), the requests a photo
 * costs (counted on the embedded pipeline), and the prices in bench/prices.json (date, region).
 *
 * Assumptions, printed with the bill: one Lambda invocation per photo per stage (at a million
 * photos a month, about 0.4 a second, SQS batches hold one message); Lambda's CPU is a share of one
 * vCPU in proportion to memory (1769 MB = 1 vCPU), so single-threaded work measured on one core
 * here takes 1769/memory times longer below that; each store or queue call waits IO_MS in-region.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT as REPO } from '../scripts/repoRoot';

export interface Prices {
  region: string;
  as_of: string;
  lambda: { x86_64_per_gb_second: number; per_million_requests: number; mb_per_vcpu: number };
  sqs: { standard_per_million_requests: number };
  s3: { put_per_thousand: number; get_per_thousand: number };
  api_gateway: { http_api_per_million: number };
  rekognition: { detect_labels_per_image_first_million: number };
}

export function readPrices(): Prices {
  return JSON.parse(readFileSync(path.join(REPO, 'bench/prices.json'), 'utf8')) as Prices;
}

/**
 * memorySize of each function in serverless.yml (the provider's default where a function sets
 * none). A small reader for the two places memorySize appears, not a YAML parser.
 */
export function functionMemory(yaml = readFileSync(path.join(REPO, 'serverless.yml'), 'utf8')): Record<string, number> {
  const lines = yaml.split('\n');
  let section = '';
  let fn = '';
  let providerDefault = 1024;
  const own: Record<string, number | undefined> = {};
  for (const line of lines) {
    const top = /^([a-zA-Z]+):/.exec(line);
    if (top) {
      section = top[1]!;
      fn = '';
      continue;
    }
    const memory = /^\s+memorySize:\s*(\d+)/.exec(line);
    if (section === 'provider' && memory && /^ {2}memorySize/.test(line)) providerDefault = Number(memory[1]);
    if (section === 'functions') {
      const name = /^ {2}([a-zA-Z0-9_-]+):\s*$/.exec(line);
      if (name) {
        fn = name[1]!;
        own[fn] = undefined;
      } else if (memory && fn && /^ {4}memorySize/.test(line)) own[fn] = Number(memory[1]);
    }
  }
  return Object.fromEntries(Object.entries(own).map(([k, v]) => [k, v ?? providerDefault]));
}

/** Store and queue calls one photo costs, end to end (counted on the embedded pipeline). */
export interface RequestCounts {
  s3Puts: number;
  s3Gets: number;
  sqsSends: number;
  sqsReceives: number;
  sqsDeletes: number;
  lambdaInvocations: number;
  apiRequests: number;
  /** Store and queue calls each stage makes (for the I/O wait in its duration). */
  callsPerStage: Record<string, number>;
}

export interface BillLine {
  item: string;
  usd: number;
}

export const IO_MS = 20;

/**
 * Cold starts, billed since August 2025 (the INIT phase, and the first invocation's extra time). AWS
 * reports that in production workloads cold starts typically occur in under 1 % of invocations; a
 * million photos a month (about 0.4 a second) keeps a function warm, so 1 % of the detect function's
 * invocations is a cautious rate. Only detect is counted: it loads the model, the other stages' init
 * is a small part of theirs.
 */
export const COLD_START_RATE = 0.01;

/** A function's measured cold-start extra (process start to first answer, less a warm invocation), ms on one core. */
export interface ColdStart {
  stage: string;
  extraMs: number;
  rate: number;
}

/** Cost of 1 million photos of one size class. `stageMs` is measured here, per stage. */
export function bill(
  stageMs: Record<string, number>,
  counts: RequestCounts,
  memory: Record<string, number>,
  prices: Prices,
  coldStart?: ColdStart,
) {
  const million = 1e6;
  const lines: BillLine[] = [];
  let gbSeconds = 0;
  const perStage: Record<string, { ms: number; mb: number; gbs: number }> = {};
  for (const [stage, ms] of Object.entries(stageMs)) {
    const mb = memory[stage];
    if (mb === undefined) continue;
    const cpuShare = Math.min(1, mb / prices.lambda.mb_per_vcpu);
    const lambdaMs = ms / cpuShare + (counts.callsPerStage[stage] ?? 0) * IO_MS;
    const gbs = (lambdaMs / 1000) * (mb / 1024);
    perStage[stage] = { ms: lambdaMs, mb, gbs };
    gbSeconds += gbs;
  }
  lines.push({
    item: `Lambda compute (${(gbSeconds * million).toExponential(2)} GB-s)`,
    usd: gbSeconds * million * prices.lambda.x86_64_per_gb_second,
  });
  if (coldStart && memory[coldStart.stage] !== undefined) {
    const mb = memory[coldStart.stage]!;
    const cpuShare = Math.min(1, mb / prices.lambda.mb_per_vcpu);
    const gbs = coldStart.rate * (coldStart.extraMs / cpuShare / 1000) * (mb / 1024);
    lines.push({
      item: `Lambda init (${coldStart.stage}: ${(coldStart.rate * 100).toFixed(0)} % cold, +${coldStart.extraMs.toFixed(0)} ms each)`,
      usd: gbs * million * prices.lambda.x86_64_per_gb_second,
    });
  }
  lines.push({
    item: `Lambda requests (${counts.lambdaInvocations} a photo)`,
    usd: counts.lambdaInvocations * prices.lambda.per_million_requests,
  });
  const sqs = counts.sqsSends + counts.sqsReceives + counts.sqsDeletes;
  lines.push({
    item: `SQS requests (${counts.sqsSends} send, ${counts.sqsReceives} receive, ${counts.sqsDeletes} delete)`,
    usd: sqs * prices.sqs.standard_per_million_requests,
  });
  lines.push({ item: `S3 PUT (${counts.s3Puts} a photo)`, usd: ((counts.s3Puts * million) / 1000) * prices.s3.put_per_thousand });
  lines.push({ item: `S3 GET (${counts.s3Gets} a photo)`, usd: ((counts.s3Gets * million) / 1000) * prices.s3.get_per_thousand });
  lines.push({
    item: `API Gateway HTTP API (${counts.apiRequests} a photo)`,
    usd: counts.apiRequests * prices.api_gateway.http_api_per_million,
  });
  const total = lines.reduce((a, l) => a + l.usd, 0);
  const rekognition = million * prices.rekognition.detect_labels_per_image_first_million;
  return { lines, total, perStage, rekognition };
}

export function printBill(title: string, result: ReturnType<typeof bill>, prices: Prices): void {
  console.log(`\n### Estimated AWS bill per 1 million photos, ${title} (${prices.region}, prices ${prices.as_of}, to be checked)`);
  for (const [stage, s] of Object.entries(result.perStage)) {
    console.log(
      `  ${stage.padEnd(10)} ${String(s.mb).padStart(5)} MB  ${s.ms.toFixed(0).padStart(6)} ms on Lambda  ${s.gbs.toFixed(4)} GB-s a photo`,
    );
  }
  for (const l of result.lines) console.log(`  ${l.item.padEnd(66)} $${l.usd.toFixed(2).padStart(9)}`);
  console.log(`  ${'total'.padEnd(66)} $${result.total.toFixed(2).padStart(9)}`);
  console.log(
    `  ${'Amazon Rekognition DetectLabels alone (first million images)'.padEnd(66)} $${result.rekognition.toFixed(2).padStart(9)}  (${(result.rekognition / result.total).toFixed(1)}x this pipeline)`,
  );
}
