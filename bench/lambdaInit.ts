/**
 * The detect function's cold start as Lambda would pay it (billed since August 2025): a fresh Node
 * process that requires the function's bundle (import of the handler's module graph and its app)
 * and invokes it once (model load and first detection), measured from the process start by
 * bench/detect-init-probe.mjs. As on Lambda, the app reads the photo from S3 and sends its message
 * to SQS — here MinIO and ElasticMQ on loopback, started by the project's scripts — so the SDK's
 * first requests (credentials, signing, connection) are in the figure; loopback has no network wait.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ensureModel } from '../models/ensure-model';
import { BUILD_DIR, buildFunctions } from '../scripts/package/build-functions';
import { REPO_ROOT } from '../scripts/repoRoot';
import { startElasticMq, startMinio } from '../scripts/servers/local-servers';
import { toSqsEvent } from '../src/runtime/sqsEvent';
import { fixturePath } from '../test/helpers/fixtures';

export interface InitRun {
  /** Process start to the probe's first line: Node's own boot. */
  boot: number;
  /** require() of the bundle: the handler's module graph and its app (Lambda's INIT phase). */
  importMs: number;
  /** The first invocation: model load, first detection, the message sent on. */
  firstInvokeMs: number;
  /** Process start to the end of the first invocation. */
  totalMs: number;
  /** A second invocation of the same process on the same photo: what a warm container pays. */
  warmInvokeMs: number;
  /** CPU ms (all threads) of the same parts: `boot` is Node's own start up to the probe. */
  cpu: { boot: number; import: number; firstInvoke: number; total: number; warmInvoke: number };
}

const PROBE = path.join(REPO_ROOT, 'bench', 'detect-init-probe.mjs');
const BUNDLE = path.join(BUILD_DIR, 'functions', 'detect', 'handler.js');
const IMAGE_ID = '0190a5d4-ac96-7f4b-bcce-b302099a8057';

/**
 * Runs the probe `runs` times (after building the bundles once), each in a fresh process, on one
 * photo (dog.jpg by default) stored as an original in a MinIO bucket. `extraArgs` go to node (say,
 * --cpu-prof --cpu-prof-dir=DIR). With `bundles`, each of them `runs` times, interleaved, in
 * that order (runs[i] is bundles[i % bundles.length]).
 */
/** What a cold start adds to the bill over a warm invocation: Lambda bills the init phase and the (slower) first invocation. */
export const coldExtraMs = (run: InitRun): number => run.totalMs - run.warmInvokeMs;

/**
 * The same in CPU time: what it takes on a core of its own, as the function's vCPU share is on
 * Lambda; a shared, loaded machine inflates wall time far more than CPU time.
 */
export const coldExtraCpuMs = (run: InitRun): number => run.cpu.total - run.cpu.warmInvoke;

export async function measureDetectInit(opts: {
  runs: number;
  extraArgs?: string[];
  photo?: string;
  /** Other builds of the detect bundle to run in turn with it, run by run (to compare a build change). */
  bundles?: string[];
}): Promise<InitRun[]> {
  await ensureModel();
  if (!opts.bundles) await buildFunctions({ layers: false, log: () => undefined });
  const bundles = opts.bundles ?? [BUNDLE];
  const [s3, sqs] = await Promise.all([startMinio({ log: () => undefined }), startElasticMq({ log: () => undefined })]);
  try {
    const region = 'us-east-1';
    const bucket = 'images';
    const s3Client = new S3Client({
      endpoint: s3.endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3Client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `original/${IMAGE_ID}.jpg`, Body: readFileSync(opts.photo ?? fixturePath('dog.jpg')) }),
    );
    await sqsClient.send(new CreateQueueCommand({ QueueName: 'tag_queue' }));
    s3Client.destroy();
    sqsClient.destroy();
    const body = JSON.stringify({
      v: 1,
      image_id: IMAGE_ID,
      original_path: `original/${IMAGE_ID}.jpg`,
      path: `grayscale/${IMAGE_ID}.jpg`,
      resized_path: `resized/${IMAGE_ID}.jpg`,
      origin_w: 768,
      origin_h: 576,
    });
    const event = toSqsEvent('objectdetect_queue', [
      { messageId: 'm0', receiptHandle: 'r0', body, receiveCount: 1, sentTimestamp: Date.now() },
    ]);
    const runs: InitRun[] = [];
    for (let i = 0; i < opts.runs * bundles.length; i++) {
      const child = spawnSync(process.execPath, [...(opts.extraArgs ?? []), PROBE, bundles[i % bundles.length]!, JSON.stringify(event)], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          // What Lambda sets (the defaults are then S3 and SQS), pointed at the local servers.
          AWS_LAMBDA_FUNCTION_NAME: 'detect',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
          AWS_REGION: region,
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
          S3_ENDPOINT: s3.endpoint,
          SQS_ENDPOINT: sqs.endpoint,
          BUCKET: bucket,
        },
      });
      const line = child.stdout.trim().split('\n').at(-1) ?? '';
      if (child.status !== 0 || !line.startsWith('{'))
        throw new Error(`detect init probe failed (${child.status}): ${child.stderr.slice(-2000)}`);
      const run = JSON.parse(line) as InitRun & { failures: number };
      if (run.failures !== 0) throw new Error(`detect init probe: the invocation failed its record: ${child.stdout.slice(-2000)}`);
      runs.push(run);
    }
    return runs;
  } finally {
    await Promise.all([s3.stop(), sqs.stop()]);
  }
}
