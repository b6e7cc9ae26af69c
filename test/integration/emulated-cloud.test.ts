import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { type DevStack, startDevStack } from '../../scripts/dev/devStack';
import { newImageId } from '../../src/imageId';
import { uploadKey } from '../../src/keys';
import { SqsDeadLetters } from '../../src/ports/SqsDeadLetters';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { StageStatusSchema } from '../../src/status/stageStatus';
import { fixtureNames, readFixture, referenceDetections } from '../helpers/fixtures';
import { largePhoto } from '../helpers/largePhoto';

/**
 * The emulated cloud as `npm run dev` starts it: MinIO + ElasticMQ + serverless offline running the
 * esbuild bundles + the SQS bridge. Photos go in as multipart POSTs to serverless-offline's HTTP API;
 * tagged/<id>.jpg must come out in MinIO (read with the AWS SDK).
 *
 * "None written twice" is counted two ways, both reported: the tag function's own log line
 * `stage done` (one per successful tag run, printed by the handler inside serverless offline, right
 * after its PUT of tagged/<id>.jpg), and the bridge's count of tag records the function reported as
 * handled. MinIO versioning is off, so the PUTs themselves are not counted.
 */
const TAG_DONE = new Map<string, number>();

function onSlsLine(line: string): void {
  if (!line.startsWith('{')) return;
  try {
    const entry = JSON.parse(line) as { message?: string; stage?: string; image_id?: string };
    if (entry.message === 'stage done' && entry.stage === 'tag' && entry.image_id) {
      TAG_DONE.set(entry.image_id, (TAG_DONE.get(entry.image_id) ?? 0) + 1);
    }
  } catch {
    // not a log line of ours
  }
}

async function upload(url: string, name: string, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), name);
  const res = await fetch(url, { method: 'POST', body: form });
  const text = await res.text();
  assert.equal(res.status, 202, `${name}: ${text}`);
  return (JSON.parse(text) as { image_id: string }).image_id;
}

async function waitForKeys(s3: S3Client, bucket: string, keys: readonly string[], timeoutMs: number): Promise<Set<string>> {
  const wanted = new Set(keys);
  const found = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (found.size < wanted.size && Date.now() < deadline) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tagged/', ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key && wanted.has(o.Key)) found.add(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    if (found.size < wanted.size) await new Promise((r) => setTimeout(r, 250));
  }
  return found;
}

describe('emulated cloud: serverless offline over MinIO and ElasticMQ with the SQS bridge', { timeout: 600_000 }, () => {
  let stack: DevStack;
  let s3: S3Client;

  before(async () => {
    stack = await startDevStack({ ports: { http: 0, lambda: 0, s3: 0, sqs: 0 }, progress: () => undefined, onSlsLine });
    s3 = new S3Client({
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
    });
    process.stderr.write(`# dev stack ready in ${stack.timings.total} ms ${JSON.stringify(stack.timings)}\n`);
  });
  after(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  it('tags every fixture, with the reference labels, through POST /upload', async () => {
    const reference = referenceDetections();
    const names = fixtureNames();
    for (const name of names) {
      // Act: one photo at a time, timed from POST to tagged/<id>.jpg in MinIO.
      const started = Date.now();
      const id = await upload(stack.urls.upload, name, readFixture(name));
      const key = `tagged/${id}.jpg`;
      const found = await waitForKeys(s3, stack.s3.bucket, [key], 60_000);
      const latency = Date.now() - started;
      // Assess
      assert.ok(found.has(key), `${name}: ${key} did not appear within 60 s (sls log: ${stack.slsLogFile})`);
      const tagged = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: key }));
      const meta = await sharp(Buffer.from(await tagged.Body!.transformToByteArray())).metadata();
      const ref = reference[name]!;
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', ref.width, ref.height], name);
      const detect = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: `status/${id}/detect.json` }));
      const status = StageStatusSchema.parse(JSON.parse(await detect.Body!.transformToString()));
      const labels = (status.detections ?? []).map((d) => d.label).sort();
      assert.deepEqual(labels, ref.detections.map((d) => d.label).sort(), `${name}: detect stage labels vs reference`);
      process.stderr.write(`# ${name}: upload -> tagged ${latency} ms (${labels.join(', ')})\n`);
    }
  });

  it('the bucket starts the pipeline: a 24 MP photo PutObject to MinIO under uploads/ comes out tagged (webhook -> relay -> ingest_queue)', async () => {
    // Prepare
    const photo = await largePhoto('horses.jpg');
    assert.ok(photo.bytes.length > 6 * 1024 * 1024 && photo.width * photo.height >= 24e6, `${photo.bytes.length} bytes`);
    const id = newImageId();
    const relayBefore = stack.relayStats();
    const started = Date.now();
    // Act
    await s3.send(
      new PutObjectCommand({ Bucket: stack.s3.bucket, Key: uploadKey(id, 'jpg'), Body: photo.bytes, ContentType: 'image/jpeg' }),
    );
    const key = `tagged/${id}.jpg`;
    const found = await waitForKeys(s3, stack.s3.bucket, [key], 180_000);
    // Assess
    assert.ok(
      found.has(key),
      `${key} did not appear within 180 s (sls log: ${stack.slsLogFile}; relay ${JSON.stringify(stack.relayStats())})`,
    );
    const tagged = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: key }));
    const meta = await sharp(Buffer.from(await tagged.Body!.transformToByteArray())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', photo.width, photo.height]);
    const record = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: `status/${id}/upload.json` }));
    const upload = StageStatusSchema.parse(JSON.parse(await record.Body!.transformToString()));
    assert.deepEqual([upload.state, upload.attempt, upload.output_key], ['done', 1, `original/${id}.jpg`]);
    const relay = stack.relayStats();
    assert.equal(relay.sent - relayBefore.sent, 1, `one event relayed: ${JSON.stringify(relay)}`);
    assert.equal(relay.refused, 0);
    process.stderr.write(
      `# ${photo.width}x${photo.height} ${(photo.bytes.length / 1e6).toFixed(1)} MB PutObject -> tagged in ${Date.now() - started} ms; relay ${JSON.stringify(relay)}\n`,
    );
  });

  it('100 uploads in quick succession: 100 tagged outputs, none lost, none written twice', async () => {
    const photos = fixtureNames()
      .filter((n) => n !== 'kite.jpg') // the 1.4 MB one; the others are 110-380 kB
      .map((n) => ({ name: n, bytes: readFixture(n) }));
    const tagBefore = stack.bridgeStats()[stack.functionName('tag')]!;
    const started = Date.now();
    // Act: 100 POSTs, 10 in flight at a time.
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < 100) {
          const i = next++;
          const photo = photos[i % photos.length]!;
          ids.push(await upload(stack.urls.upload, photo.name, photo.bytes));
        }
      }),
    );
    const uploadedMs = Date.now() - started;
    const keys = ids.map((id) => `tagged/${id}.jpg`);
    const found = await waitForKeys(s3, stack.s3.bucket, keys, 300_000);
    const doneMs = Date.now() - started;
    // Let any duplicate delivery show itself before counting.
    await new Promise((r) => setTimeout(r, 2_000));

    // Assess
    assert.equal(new Set(ids).size, 100, 'distinct image ids');
    const missing = keys.filter((k) => !found.has(k));
    assert.deepEqual(missing, [], `tagged outputs missing (sls log: ${stack.slsLogFile})`);
    for (const id of ids) await s3.send(new HeadObjectCommand({ Bucket: stack.s3.bucket, Key: `tagged/${id}.jpg` }));
    const twice = ids.filter((id) => (TAG_DONE.get(id) ?? 0) !== 1).map((id) => `${id}: ${TAG_DONE.get(id) ?? 0}`);
    assert.deepEqual(twice, [], 'each image tagged exactly once (tag handler "stage done" lines)');
    const tagAfter = stack.bridgeStats()[stack.functionName('tag')]!;
    assert.equal(tagAfter.succeeded - tagBefore.succeeded, 100, 'tag records handled, counted by the bridge');
    assert.equal(tagAfter.failed - tagBefore.failed, 0, 'tag records failed');
    const queue = new SqsQueue({
      region: 'us-east-1',
      endpoint: stack.urls.sqs,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const deadLetters = new SqsDeadLetters(queue);
    try {
      for (const q of Object.values(stack.queues)) assert.deepEqual(await deadLetters.listDeadLetters(q), [], `${q}_dlq is empty`);
    } finally {
      queue.client.destroy();
    }
    process.stderr.write(
      `# 100 uploads: accepted in ${uploadedMs} ms, all tagged after ${doneMs} ms; bridge ${JSON.stringify(stack.bridgeStats())}\n`,
    );
  });
});
