/**
 * Sample events for `serverless invoke local` (events/*.json) and the objects they point at.
 *
 *   tsx scripts/dev/sample-events.ts write   regenerate events/*.json (committed; deterministic)
 *   tsx scripts/dev/sample-events.ts seed    put original/, resized/ and grayscale/ copies of the
 *                                            sample image id into the store the environment names
 *                                            (STORE=fs DATA_DIR=… or STORE=s3 S3_ENDPOINT=… BUCKET=…)
 *
 * Every SQS event refers to one fixed image id, SAMPLE_IMAGE_ID, a photo of AUTH=none's `local`
 * (messages of version 2 name it), so resize/grayscale/detect/tag can be invoked one by one once
 * `seed` has stored its copies and its record (local's index entry), and api answers for it; events/ingest.json is the bucket's notification
 * for the sample written under uploads/ (SAMPLE_UPLOAD_ID), which `seed` stores too. events/upload.json carries a small JPEG as a
 * base64 multipart body, exactly as API Gateway (and serverless offline) deliver it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createApp } from '../../src/app/createApp';
import { recordKey, uploadKey } from '../../src/domain/keys';
import { LOCAL_OWNER } from '../../src/domain/owners';
import { QUEUES } from '../../src/domain/stages';
import { toSqsEvent } from '../../src/runtime/sqsEvent';
import { writeUploadRecord } from '../../src/status/stageStatus';
import { parseCliArgs, usageError } from '../cliArgs';
import { REPO_ROOT } from '../repoRoot';

const EVENTS_DIR = path.join(REPO_ROOT, 'events');
export const SAMPLE_IMAGE_ID = '01900000-0000-7000-8000-000000000001';
const ORIGINAL = `original/${SAMPLE_IMAGE_ID}.jpg`;
const RESIZED = `resized/${SAMPLE_IMAGE_ID}.jpg`;
const GRAYSCALE = `grayscale/${SAMPLE_IMAGE_ID}.jpg`;
/** events/ingest.json's photo: another id, written under uploads/ as a presigned POST would. */
export const SAMPLE_UPLOAD_ID = '01900000-0000-7000-8000-000000000002';
const UPLOAD = uploadKey(SAMPLE_UPLOAD_ID, 'jpg', LOCAL_OWNER);
const BOUNDARY = '----sample-event-boundary';

/** A 384x288 copy of the dog fixture (events/sample.jpg is committed so events need no fixtures). */
async function sampleImage(): Promise<Buffer> {
  const committed = path.join(EVENTS_DIR, 'sample.jpg');
  try {
    return readFileSync(committed);
  } catch {
    const fixture = path.resolve(REPO_ROOT, 'samples/dog.jpg');
    const out = await sharp(fixture).resize(384, 288).jpeg({ quality: 80 }).toBuffer();
    mkdirSync(EVENTS_DIR, { recursive: true });
    writeFileSync(committed, out);
    return out;
  }
}

function sqs(queueName: string, body: object | string): object {
  const event = toSqsEvent(queueName, [
    {
      messageId: `sample-${queueName}`,
      receiptHandle: `sample-${queueName}-receipt`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      receiveCount: 1,
      sentTimestamp: 1_718_000_000_000,
    },
  ]);
  for (const r of event.Records) r.attributes.ApproximateFirstReceiveTimestamp = '1718000000000';
  return event;
}

function httpApi(method: string, rawPath: string, body?: Buffer, contentType?: string, pathParameters?: Record<string, string>): object {
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath.replace(SAMPLE_IMAGE_ID, '{id}')}`,
    rawPath,
    rawQueryString: '',
    headers: { host: 'localhost:3000', ...(contentType ? { 'content-type': contentType } : {}) },
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8' },
      requestId: `sample-${method.toLowerCase()}`,
      routeKey: `${method} ${rawPath}`,
      stage: '$default',
      time: '10/Jun/2024:06:13:20 +0000',
      timeEpoch: 1_718_000_000_000,
    },
    ...(body ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

export async function writeEvents(): Promise<string[]> {
  const image = await sampleImage();
  const meta = await sharp(image).metadata();
  const origin = { origin_h: meta.height!, origin_w: meta.width! };
  const base = { v: 2, owner: LOCAL_OWNER, image_id: SAMPLE_IMAGE_ID, original_path: ORIGINAL, request_id: 'sample-request' };
  const multipart = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="sample.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    image,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  const events: Record<string, object> = {
    upload: httpApi('POST', '/upload', multipart, `multipart/form-data; boundary=${BOUNDARY}`),
    resize: sqs(QUEUES.resize, base),
    grayscale: sqs(QUEUES.grayscale, { ...base, path: RESIZED, ...origin }),
    detect: sqs(QUEUES.detect, { ...base, path: GRAYSCALE, resized_path: RESIZED, ...origin }),
    tag: sqs(QUEUES.tag, {
      ...base,
      ...origin,
      detections: [{ label: 'dog', score: 0.9, box: { x: 60, y: 110, width: 120, height: 170 } }],
    }),
    api: httpApi('GET', `/images/${SAMPLE_IMAGE_ID}`, undefined, undefined, { id: SAMPLE_IMAGE_ID }),
    // The S3 event message S3 sends to ingest_queue for a photo written under uploads/.
    ingest: sqs(
      QUEUES.ingest,
      JSON.stringify({
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: 'us-east-1',
            eventTime: '2024-06-10T06:13:20.000Z',
            eventName: 'ObjectCreated:Post',
            s3: {
              s3SchemaVersion: '1.0',
              bucket: { name: 'images', arn: 'arn:aws:s3:::images' },
              object: { key: UPLOAD, size: image.length },
            },
          },
        ],
      }),
    ),
  };
  mkdirSync(EVENTS_DIR, { recursive: true });
  const written: string[] = [];
  for (const [name, event] of Object.entries(events)) {
    const file = path.join(EVENTS_DIR, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(event, null, 2)}\n`);
    written.push(path.relative(REPO_ROOT, file));
  }
  return written;
}

/** Stores the sample's original, resized and grayscale copies and its record where the environment's config points. */
export async function seed(): Promise<string[]> {
  const image = await sampleImage();
  const { config, store, close } = createApp({ persistQueues: false });
  try {
    await store.createBucket?.();
    const resized = await sharp(image).resize(96, 72).jpeg().toBuffer();
    const gray = await sharp(resized).grayscale().jpeg().toBuffer();
    await store.put(ORIGINAL, image, { contentType: 'image/jpeg' });
    await store.put(RESIZED, resized, { contentType: 'image/jpeg' });
    await store.put(GRAYSCALE, gray, { contentType: 'image/jpeg' });
    await store.put(UPLOAD, image, { contentType: 'image/jpeg' });
    // As POST /upload leaves it: the upload stage's record, local's index entry.
    const photo = { imageId: SAMPLE_IMAGE_ID, owner: LOCAL_OWNER };
    const record = { stage: 'upload', state: 'done', started_at: '2024-06-10T06:13:20.000Z', output_key: ORIGINAL } as const;
    await writeUploadRecord(store, photo, record);
    return [ORIGINAL, RESIZED, GRAYSCALE, UPLOAD, recordKey(photo, 'upload')].map(
      (k) => `${config.store === 's3' ? `s3://${config.bucket}` : `${config.dataDir}/images`}/${k}`,
    );
  } finally {
    await close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const usage = 'usage: tsx scripts/dev/sample-events.ts write|seed';
  const { positionals } = parseCliArgs(usage, { options: {}, allowPositionals: true });
  const [command, ...extra] = positionals;
  const run = command === 'write' ? writeEvents : command === 'seed' ? seed : undefined;
  if (!run || extra.length)
    usageError(usage, command === undefined ? 'no command given' : `unknown command ${JSON.stringify(positionals.join(' '))}`);
  run().then(
    (lines) => process.stdout.write(`${lines.join('\n')}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
