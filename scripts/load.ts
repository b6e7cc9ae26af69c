/**
 * npm run load -- [--n 200] [--concurrency 16] [--target embedded|URL] [--timeout SECONDS] [--token-file FILE] [--json]
 *
 * N concurrent multipart uploads (copies of the fixture photos, or --images DIR), then follows each
 * accepted image through the status API (`GET /images/{id}`) until it is tagged or failed for good.
 * Prints accepted, tagged, failed, dead-lettered and lost, and the upload-to-tagged latency
 * (p50/p95/p99; "tagged" is the tag stage's finished_at, so the poll interval does not count).
 *
 * --target embedded (default) starts the embedded default in this process on a fresh temp
 *   DATA_DIR (or --data-dir DIR), with the status API routes.
 * --target http://127.0.0.1:3000 drives a running deployment that serves POST /upload and
 *   GET /images/{id}: `npm start`, or the emulated cloud (`npm run dev`). Dead letters are then
 *   counted from the status API (images failed for good); `npm run dlq -- list` shows the queues.
 *   A deployment with AUTH=jwt or api-key wants the caller: --token-file FILE (a bearer token) or
 *   --api-key-file FILE (an API key), read from a file: a command line is visible to every user in ps.
 *
 * Exits 1 when anything accepted was lost or failed (not tagged), 2 on bad arguments.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type EmbeddedPipeline, startEmbedded } from '../src/runtime/startEmbedded';
import { parseCliArgs, usageError, wholeNumber } from './cliArgs';
import { embeddedApp } from './embeddedApp';
import { REPO_ROOT } from './repoRoot';

interface Args {
  n: number;
  concurrency: number;
  target: string;
  timeoutSeconds: number;
  json: boolean;
  images: string;
  dataDir?: string;
  tokenFile?: string;
  apiKeyFile?: string;
}

const USAGE =
  'usage: npm run load -- [--n 200] [--concurrency 16] [--target embedded|URL] [--timeout SECONDS] [--images DIR] [--data-dir DIR] [--token-file FILE | --api-key-file FILE] [--json]';

function usage(message?: string): never {
  return usageError(USAGE, message);
}

function readArgs(): Args {
  const { values } = parseCliArgs(USAGE, {
    options: {
      n: { type: 'string' },
      concurrency: { type: 'string' },
      target: { type: 'string', default: 'embedded' },
      timeout: { type: 'string' },
      images: { type: 'string' },
      'data-dir': { type: 'string' },
      'token-file': { type: 'string' },
      'api-key-file': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const args: Args = {
    n: wholeNumber(USAGE, '--n', values.n, 200, 1, 100_000),
    concurrency: wholeNumber(USAGE, '--concurrency', values.concurrency, 16, 1, 1000),
    target: values.target,
    timeoutSeconds: wholeNumber(USAGE, '--timeout', values.timeout, 600, 1, 86_400),
    json: values.json,
    images: values.images !== undefined ? path.resolve(values.images) : path.join(REPO_ROOT, 'samples'),
    ...(values['data-dir'] !== undefined ? { dataDir: path.resolve(values['data-dir']) } : {}),
    ...(values['token-file'] !== undefined ? { tokenFile: path.resolve(values['token-file']) } : {}),
    ...(values['api-key-file'] !== undefined ? { apiKeyFile: path.resolve(values['api-key-file']) } : {}),
  };
  if (args.tokenFile && args.apiKeyFile) usage('--token-file and --api-key-file: one or the other');
  if (args.target !== 'embedded' && !/^https?:\/\/[^/]+/.test(args.target))
    usage(`--target: expected embedded or an http(s) URL, got ${JSON.stringify(args.target)}`);
  return args;
}

interface Tracked {
  index: number;
  file: string;
  uploadStarted: number;
  uploadMs?: number;
  status?: number;
  imageId?: string;
  state?: 'done' | 'failed';
  taggedAt?: number;
  error?: string;
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const args = readArgs();
  const files = readdirSync(args.images)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .sort()
    .map((f) => path.join(args.images, f));
  if (files.length === 0) usage(`no images in ${args.images}`);
  const bytes = new Map(files.map((f) => [f, readFileSync(f)]));
  const say = (s: string) => process.stderr.write(s);

  let embedded: EmbeddedPipeline | undefined;
  let base = args.target.replace(/\/+$/, '');
  if (args.target === 'embedded') {
    const dataDir = args.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'pipeline-load-'));
    // The summary goes to stdout: log lines only from warnings up unless LOG_LEVEL asks for more.
    const app = await embeddedApp({ defaults: { LOG_LEVEL: 'warn' }, overrides: { DATA_DIR: dataDir } });
    embedded = await startEmbedded(app, { port: 0 });
    base = embedded.url!;
    say(`load: embedded default on ${base}, DATA_DIR ${dataDir}\n`);
  }
  say(`load: ${args.n} uploads, concurrency ${args.concurrency}, target ${base}\n`);
  const caller: Record<string, string> = args.tokenFile
    ? { authorization: `Bearer ${readFileSync(args.tokenFile, 'utf8').trim()}` }
    : args.apiKeyFile
      ? { 'x-api-key': readFileSync(args.apiKeyFile, 'utf8').trim() }
      : {};

  const t0 = Date.now();
  const tracked: Tracked[] = Array.from({ length: args.n }, (_, index) => ({
    index,
    file: files[index % files.length]!,
    uploadStarted: 0,
  }));
  await pool(tracked, args.concurrency, async (item) => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes.get(item.file)!)], { type: 'image/jpeg' }), path.basename(item.file));
    item.uploadStarted = Date.now();
    try {
      const res = await fetch(`${base}/upload`, { method: 'POST', body: form, headers: caller });
      item.status = res.status;
      const body = (await res.json()) as { image_id?: string; error?: { message: string } };
      if (res.status === 202 && body.image_id) item.imageId = body.image_id;
      else item.error = `upload ${res.status}: ${body.error?.message ?? JSON.stringify(body)}`;
    } catch (error) {
      item.error = `upload: ${(error as Error).message}`;
    }
    item.uploadMs = Date.now() - item.uploadStarted;
  });
  const accepted = tracked.filter((t) => t.imageId);
  say(`load: ${accepted.length} accepted in ${((Date.now() - t0) / 1000).toFixed(1)} s; following them…\n`);

  // Follow every accepted image through the status API, a bounded number of requests at a time.
  const deadline = Date.now() + args.timeoutSeconds * 1000;
  let pending = accepted;
  while (pending.length > 0 && Date.now() < deadline) {
    await pool(pending, 8, async (item) => {
      try {
        const res = await fetch(`${base}/images/${item.imageId}`, { headers: caller });
        if (res.status !== 200) return;
        const s = (await res.json()) as {
          state: string;
          stages: { tag: { finished_at?: string } };
          error?: { stage: string; reason: string };
        };
        if (s.state === 'done') {
          item.state = 'done';
          item.taggedAt = Date.parse(s.stages.tag.finished_at ?? '') || Date.now();
        } else if (s.state === 'failed') {
          item.state = 'failed';
          item.error = `${s.error?.stage}: ${s.error?.reason}`;
        }
      } catch {
        // unreachable for a moment: ask again next round
      }
    });
    pending = pending.filter((t) => !t.state);
    if (pending.length) await new Promise((r) => setTimeout(r, 250));
  }
  const wallSeconds = (Date.now() - t0) / 1000;

  let deadLettered: number | undefined;
  if (embedded) {
    deadLettered = 0;
    for (const q of Object.values(embedded.app.config.queues)) deadLettered += (await embedded.app.deadLetters.listDeadLetters(q)).length;
  }

  const tagged = accepted.filter((t) => t.state === 'done');
  const failed = accepted.filter((t) => t.state === 'failed');
  const lost = accepted.filter((t) => !t.state);
  const refused = tracked.filter((t) => !t.imageId);
  const latencies = tagged.map((t) => (t.taggedAt! - t.uploadStarted) / 1000).sort((a, b) => a - b);
  const uploads = tracked
    .filter((t) => t.uploadMs !== undefined)
    .map((t) => t.uploadMs! / 1000)
    .sort((a, b) => a - b);
  const summary = {
    target: args.target === 'embedded' ? 'embedded' : base,
    n: args.n,
    concurrency: args.concurrency,
    accepted: accepted.length,
    tagged: tagged.length,
    failed: failed.length + refused.length,
    refused_at_upload: refused.length,
    failed_after_accept: failed.length,
    dead_lettered: deadLettered ?? failed.length,
    lost: lost.length,
    latency_s: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) },
    upload_s: { p50: percentile(uploads, 50), p95: percentile(uploads, 95), p99: percentile(uploads, 99) },
    wall_s: Number(wallSeconds.toFixed(1)),
    throughput_per_s: Number((tagged.length / wallSeconds).toFixed(2)),
    errors: [...refused, ...failed, ...lost]
      .slice(0, 10)
      .map((t) => ({ image_id: t.imageId, file: path.basename(t.file), error: t.error ?? 'not tagged before the timeout' })),
  };
  await embedded?.stop();

  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const f = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(2)} s`);
    process.stdout.write(
      `accepted ${summary.accepted}  tagged ${summary.tagged}  failed ${summary.failed} (refused at upload ${summary.refused_at_upload}, after accept ${summary.failed_after_accept})  dead-lettered ${summary.dead_lettered}${deadLettered === undefined ? ' (failed images, from the status API)' : ''}  lost ${summary.lost}\n` +
        `upload-to-tagged latency: p50 ${f(summary.latency_s.p50)}  p95 ${f(summary.latency_s.p95)}  p99 ${f(summary.latency_s.p99)}  max ${f(summary.latency_s.max)}\n` +
        `upload request: p50 ${f(summary.upload_s.p50)}  p95 ${f(summary.upload_s.p95)}  p99 ${f(summary.upload_s.p99)}\n` +
        `wall ${summary.wall_s} s, ${summary.throughput_per_s} images tagged per second\n`,
    );
    for (const e of summary.errors) process.stdout.write(`  ${e.file} ${e.image_id ?? ''}: ${e.error}\n`);
  }
  process.exit(lost.length > 0 || failed.length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`load failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
