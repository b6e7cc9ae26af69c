import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { type LocalIssuer, startLocalIssuer } from '../../scripts/auth/localIssuer';
import { type DevStack, startDevStack } from '../../scripts/dev/devStack';
import { detect } from '../../src/detect/Detector';
import { newImageId } from '../../src/domain/imageId';
import type { Detection } from '../../src/domain/messages';
import { photoRecordKey } from '../../src/domain/owners';
import { SqsDeadLetters } from '../../src/ports/SqsDeadLetters';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { PhotoRecordSchema, StageStatusSchema } from '../../src/status/stageStatus';
import { FAILING_UPLOADS } from '../helpers/badInputCases';
import { assertSameDetections, iouXywh, xywh } from '../helpers/boxes';
import { keysNamingPhoto, refusedCallers } from '../helpers/callers';
import { createUpload } from '../helpers/createUpload';
import { fixtureNames, readFixture, referenceDetections } from '../helpers/fixtures';
import { BORDERLINE_SCORE, heicFixturePath, heicFixtures, heicReferenceDetections } from '../helpers/heicFixtures';
import { ispeBomb } from '../helpers/hostileHeic';
import { largePhoto } from '../helpers/largePhoto';
import { MALFORMED_FORMS, malformedUploadMessage } from '../helpers/malformedForms';
import { postForm } from '../helpers/postPolicyContract';
import { withDeadline } from '../helpers/rawHttp';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver';

/**
 * The emulated cloud as `npm run dev` starts it: MinIO + ElasticMQ + serverless offline running the
 * esbuild bundles + the SQS bridge. Photos go in as multipart POSTs to serverless-offline's HTTP API;
 * tagged/<id>.jpg must come out in MinIO (read with the AWS SDK).
 *
 * "None written twice" is counted two ways, both reported: the tag function's own log line
 * `stage done` (one per successful tag run, printed by the handler inside serverless offline, right
 * after its PUT of tagged/<id>.jpg), and the bridge's count of tag records the function reported as
 * handled. MinIO versioning is off, so the PUTs themselves are not counted.
 *
 * Who is calling: the stack runs with AUTH=jwt against a real OpenID Connect provider on 127.0.0.1
 * (scripts/auth/localIssuer.ts) with two users; every request is alice's but where bob's is the
 * point. serverless offline skips the HTTP API's authorizers (`noAuth`): what is proven here is the
 * functions' own check (src/auth/jwtVerifier.ts), and the owners of photos on MinIO.
 *
 * Completion events: the stack runs with a webhook (EVENTS=webhook offline, the deliverer of
 * scripts/dev/webhookDeliverer.ts on ElasticMQ's events_queue) whose receiver, a node:http server
 * here, answers 500 to the first two tries of every event and then accepts (WEBHOOK_RETRY_SECONDS 3:
 * each try may take 1.5 s, half its lease; with 1 s, a try slowed by the 100 uploads' load timed out
 * after the receiver had taken it, and the event was dead-lettered).
 */
const WEBHOOK_SECRET = 'emulated-cloud-test-secret-0123456789';
const WEBHOOK_FAILS_PER_EVENT = 2;
const TAG_DONE = new Map<string, number>();
/** Each request's caller: set once the issuer has signed alice and bob in. */
const BEARER: Record<'alice' | 'bob', Record<string, string>> = { alice: {}, bob: {} };

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

/** POSTs a photo as the seed's curl does (multipart field `image`), or a form as it is; the image id. */
async function upload(url: string, name: string, photo: Buffer | FormData, who: 'alice' | 'bob' = 'alice'): Promise<string> {
  let form: FormData;
  if (photo instanceof FormData) form = photo;
  else {
    form = new FormData();
    form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), name);
  }
  const res = await fetch(url, { method: 'POST', body: form, headers: BEARER[who] });
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
  let receiver: WebhookReceiver;
  let issuer: LocalIssuer;
  const delivererLog: string[] = [];

  before(async () => {
    receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET, failsPerEvent: WEBHOOK_FAILS_PER_EVENT, failStatus: 500 });
    issuer = await startLocalIssuer();
    stack = await startDevStack({
      ports: { http: 0, lambda: 0, s3: 0, sqs: 0 },
      progress: () => undefined,
      onSlsLine,
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET, retrySeconds: 3, onLog: (line) => delivererLog.push(line) },
      auth: issuer.env,
    });
    for (const who of ['alice', 'bob'] as const) BEARER[who] = { authorization: `Bearer ${(await issuer.signIn(who)).accessToken}` };
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
    await receiver?.close();
    await issuer?.stop();
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
      // Detect's outcome is in the photo's record, alice's index entry (detect writes no image of its own).
      const stored = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: photoRecordKey('alice', id) }));
      const status = PhotoRecordSchema.parse(JSON.parse(await stored.Body!.transformToString())).stages?.detect;
      assert.equal(status?.state, 'done', name);
      const labels = (status?.detections ?? []).map((d) => d.label).sort();
      assert.deepEqual(labels, ref.detections.map((d) => d.label).sort(), `${name}: detect stage labels vs reference`);
      process.stderr.write(`# ${name}: upload -> tagged ${latency} ms (${labels.join(', ')})\n`);
    }
  });

  it('serverless offline: a malformed form is a 400 at once, deep JSON a 400, and each image a 302 to a presigned MinIO URL (the bucket streams it)', async () => {
    for (const { name, form, reason } of MALFORMED_FORMS) {
      const res = await withDeadline(
        fetch(stack.urls.upload, {
          method: 'POST',
          headers: { ...BEARER.alice, 'content-type': form.contentType },
          body: new Uint8Array(form.body),
        }),
        30_000,
        name,
      );
      const body = (await res.json()) as { error?: unknown };
      assert.deepEqual([res.status, body.error], [400, { code: 'bad_multipart', message: malformedUploadMessage(reason) }], name);
    }
    const deep = await fetch(`${stack.urls.http}/uploads`, {
      method: 'POST',
      headers: { ...BEARER.alice, 'content-type': 'application/json' },
      body: `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
    });
    assert.equal(deep.status, 400);
    assert.equal(((await deep.json()) as { error: { code: string } }).error.code, 'invalid_json');
    // An image is never read whole by a function here either: the answer is a redirect to the bucket.
    const id = await upload(stack.urls.upload, 'dog.jpg', readFixture('dog.jpg'));
    const key = `tagged/${id}.jpg`;
    assert.ok((await waitForKeys(s3, stack.s3.bucket, [key], 60_000)).has(key), `${key} (sls log: ${stack.slsLogFile})`);
    let res: Response;
    for (let i = 0; ; i++) {
      // The tag record follows the tagged image: until it is written the route says not ready (404).
      assert.ok(i < 600, `GET /images/${id}/tagged: not ready within a minute`);
      res = await fetch(`${stack.urls.http}/images/${id}/tagged`, { redirect: 'manual', headers: BEARER.alice });
      if (res.status !== 404) break;
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(res.status, 302);
    const location = res.headers.get('location') ?? '';
    assert.ok(location.startsWith(`${stack.s3.endpoint}/`), `a presigned URL on MinIO, got ${location}`);
    const image = await fetch(location);
    assert.equal(image.status, 200);
    const stored = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: key }));
    assert.ok(Buffer.from(await image.arrayBuffer()).equals(Buffer.from(await stored.Body!.transformToByteArray())));
  });

  it('POST /uploads: a 24 MP photo of more than 6 MB posted to MinIO with the signed form comes out tagged (webhook -> relay -> ingest_queue)', async () => {
    // Prepare
    const photo = await largePhoto('horses.jpg');
    assert.ok(photo.bytes.length > 6 * 1024 * 1024 && photo.width * photo.height >= 24e6, `${photo.bytes.length} bytes`);
    const relayBefore = stack.relayStats();
    const started = Date.now();
    // Act: the two steps, as docs/big-photos.md shows them; the form goes to MinIO, which checks its policy.
    const created = await createUpload(
      stack.urls.http,
      { content_type: 'image/jpeg', size: photo.bytes.length, file_name: 'horses.jpg' },
      BEARER.alice,
    );
    assert.ok(created.upload.url.startsWith(stack.urls.s3), `the form posts to MinIO: ${created.upload.url}`);
    const answer = await postForm(created.upload, photo.bytes);
    assert.equal(answer.status, 204, answer.body);
    const id = created.image_id;
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
    // The upload's record is its owner's index entry: alice's (the sub of her token).
    const record = await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: photoRecordKey('alice', id) }));
    const upload = StageStatusSchema.parse(JSON.parse(await record.Body!.transformToString()));
    assert.deepEqual([upload.state, upload.attempt, upload.output_key], ['done', 1, `original/${id}.jpg`]);
    const relay = stack.relayStats();
    assert.equal(relay.sent - relayBefore.sent, 1, `one event relayed: ${JSON.stringify(relay)}`);
    assert.equal(relay.refused, 0);
    process.stderr.write(
      `# ${photo.width}x${photo.height} ${(photo.bytes.length / 1e6).toFixed(1)} MB POST /uploads + form -> tagged in ${Date.now() - started} ms; relay ${JSON.stringify(relay)}\n`,
    );
  });

  it('100 uploads in quick succession: 100 tagged outputs, none lost, none written twice', async () => {
    const photos = fixtureNames()
      .filter((n) => n !== 'kite.jpg') // the 1.4 MB one; the others are 110-380 kB
      .map((n) => ({ name: n, bytes: readFixture(n) }));
    // The earlier tests' last tag invocations may still be returning (their tagged image is written
    // before the handler ends): count from when the bridge has nothing of the tag function in flight.
    const tagStats = () => stack.bridgeStats()[stack.functionName('tag')]!;
    for (const deadline = Date.now() + 60_000; ; ) {
      const t = tagStats();
      if (t.records === t.succeeded + t.failed) break;
      assert.ok(Date.now() < deadline, `tag records still in flight after 60 s: ${JSON.stringify(t)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const tagBefore = tagStats();
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
    const tagAfter = tagStats();
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

  it('completion events: a webhook that fails each event twice gets one signed event per photo, after three tries', async () => {
    // Prepare: every fixture, then one bad file (a PNG with damaged pixel data: fails for good at resize). The
    // photos of the tests above have events too (each counted the same way below).
    const reference = referenceDetections();
    const ids = new Map<string, string>(); // fixture name -> image id
    for (const name of fixtureNames()) ids.set(name, await upload(stack.urls.upload, name, readFixture(name)));
    const bad = FAILING_UPLOADS[0]!;
    const badId = await upload(stack.urls.upload, 'damaged.png', bad.request().body as FormData);
    const wanted = [...[...ids.values()].map((id) => `${id}:tagged`), `${badId}:failed`];
    const missing = () => wanted.filter((e) => !receiver.accepted.some((d) => d.id === e));

    // Act: wait for each of these events to be accepted, then for events_queue to hold nothing
    // (no delivery in flight or waiting for its retry): a repeat would have been delivered by then.
    await receiver.until(
      () => missing().length === 0,
      () => `events not accepted: ${missing().join(', ')} (deliverer log: ${delivererLog.slice(-5).join(' | ')})`,
      180_000,
    );
    const queue = new SqsQueue({
      region: 'us-east-1',
      endpoint: stack.urls.sqs,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const eventsQueue = stack.eventsQueue!;
      const url = await queue.urls.url(eventsQueue);
      const depth = async () => {
        const { Attributes = {} } = await queue.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
          }),
        );
        return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
      };
      const drainDeadline = Date.now() + 120_000;
      while ((await depth()) > 0) {
        assert.ok(Date.now() < drainDeadline, `${eventsQueue} still holds ${await depth()} events after 120 s`);
        await new Promise((r) => setTimeout(r, 250));
      }

      // Assess: every delivery signed (the project's check and the docs' snippet), each event of these
      // photos accepted once, after exactly three tries, with the detections or the failure's reason.
      assert.deepEqual(receiver.problems, [], 'every delivery verifies: HMAC-SHA256 of "<timestamp>.<raw body>" with the secret');
      for (const [name, id] of ids) {
        const got = receiver.accepted.filter((d) => d.body.detail.image_id === id);
        assert.equal(got.length, 1, `${name}: one accepted event, got ${got.map((d) => d.id).join(', ')}`);
        const { body, id: eventId } = got[0]!;
        assert.deepEqual(
          [body.source, body['detail-type'], eventId, body.detail.event_id],
          ['image-pipeline', 'Image Tagged', `${id}:tagged`, `${id}:tagged`],
          name,
        );
        const detections = body.detail.detections as Detection[];
        const ref = reference[name]!.detections;
        assert.deepEqual(detections.map((d) => d.label).sort(), ref.map((d) => d.label).sort(), `${name}: event labels vs reference`);
        const left = [...detections];
        for (const r of ref) {
          const k = left.findIndex((d) => d.label === r.label && iouXywh(xywh(d), r.bbox) >= 0.5);
          assert.ok(k >= 0, `${name}: a ${r.label} with IoU >= 0.5 to the reference box ${JSON.stringify(r.bbox)}`);
          left.splice(k, 1);
        }
        assert.equal(receiver.tries.get(eventId), WEBHOOK_FAILS_PER_EVENT + 1, `${name}: tried three times`);
      }
      const failed = receiver.accepted.filter((d) => d.body.detail.image_id === badId);
      assert.equal(failed.length, 1, 'one event for the bad file');
      assert.deepEqual(
        [failed[0]!.body['detail-type'], failed[0]!.id, failed[0]!.body.detail.stage, failed[0]!.body.detail.reason],
        ['Image Failed', `${badId}:failed`, bad.stage, bad.reason],
      );
      assert.equal(receiver.tries.get(`${badId}:failed`), WEBHOOK_FAILS_PER_EVENT + 1, 'the failure: tried three times');
      // Every event of this run (the photos above too): tried three times, accepted once, none dead-lettered.
      const triedOtherwise = [...receiver.tries].filter(([, n]) => n !== WEBHOOK_FAILS_PER_EVENT + 1);
      assert.deepEqual(triedOtherwise, [], 'every event tried exactly three times');
      assert.equal(new Set(receiver.accepted.map((d) => d.id)).size, receiver.accepted.length, 'no event accepted twice');
      assert.deepEqual(await new SqsDeadLetters(queue).listDeadLetters(eventsQueue), [], `${eventsQueue}_dlq is empty`);
      process.stderr.write(
        `# webhook: ${receiver.accepted.length} events accepted, ${[...receiver.tries.values()].reduce((a, b) => a + b, 0)} tries\n`,
      );
    } finally {
      queue.client.destroy();
    }
  });
  it('HEIC: each fixture through POST /upload, one through POST /uploads named .heic with no image type, tagged with what heif-dec decodes; a bomb refused at upload', async () => {
    const modelPath = await ensureModel();
    const read = async (key: string) =>
      Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: key }))).Body!.transformToByteArray());
    // The photo's record, alice's index entry: the upload's record, holding detect's outcome.
    const photoRecord = async (id: string) => PhotoRecordSchema.parse(JSON.parse((await read(photoRecordKey('alice', id))).toString()));
    const checkTagged = async (id: string, file: string, width: number, height: number, bytes: Buffer) => {
      const key = `tagged/${id}.jpg`;
      assert.ok(
        (await waitForKeys(s3, stack.s3.bucket, [key], 120_000)).has(key),
        `${file}: ${key} did not appear (sls log: ${stack.slsLogFile})`,
      );
      const meta = await sharp(await read(key)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', width, height], file);
      assert.ok((await read(`original/${id}.heic`)).equals(bytes), `${file}: the original is kept as sent`);
      const { expected, unsettled } = await heicReferenceDetections(heicFixturePath(file), (png) => detect(png, { modelPath }));
      assertSameDetections((await photoRecord(id)).stages?.detect?.detections ?? [], expected, file, {
        unsettled,
        borderline: BORDERLINE_SCORE,
      });
    };
    // Act and assess: each fixture, multipart as a phone's browser sends it (image/heic)
    for (const fixture of heicFixtures().filter((f) => !f.alpha)) {
      const bytes = readFileSync(heicFixturePath(fixture.file));
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/heic' }), fixture.file);
      await checkTagged(await upload(stack.urls.upload, fixture.file, form), fixture.file, fixture.width, fixture.height, bytes);
    }
    // POST /uploads with application/octet-stream and a .heic name: the form is typed image/heic, MinIO stores it, ingest takes it.
    const bytes = readFileSync(heicFixturePath('horses-grid.heic'));
    const created = await createUpload(
      stack.urls.http,
      { content_type: 'application/octet-stream', size: bytes.length, file_name: 'IMG_0001.HEIC' },
      BEARER.alice,
    );
    assert.equal(created.upload.fields['Content-Type'], 'image/heic');
    assert.equal((await postForm(created.upload, bytes)).status, 204);
    await checkTagged(created.image_id, 'horses-grid.heic', 773, 512, bytes);
    assert.equal((await photoRecord(created.image_id)).output_key, `original/${created.image_id}.heic`);
    // A bomb: refused by POST /upload before anything is decoded or stored.
    const bomb = new FormData();
    bomb.append(
      'image',
      new Blob([new Uint8Array(ispeBomb(readFileSync(heicFixturePath('dog.heic')), 40000, 40000))], { type: 'image/heic' }),
      'bomb.heic',
    );
    const refused = await fetch(stack.urls.upload, { method: 'POST', body: bomb, headers: BEARER.alice });
    assert.equal(refused.status, 413);
    assert.deepEqual(((await refused.json()) as { error: unknown }).error, {
      code: 'too_many_pixels',
      message: 'expected at most 67108864 pixels, got 40000x40000 = 1600000000',
    });
  });

  it("owners: alice's photo is invisible to bob on every route, the four 401s, and alice's DELETE leaves nothing of it in MinIO", async () => {
    // Prepare: alice's photo, tagged.
    const id = await upload(stack.urls.upload, 'dog.jpg', readFixture('dog.jpg'));
    assert.ok((await waitForKeys(s3, stack.s3.bucket, [`tagged/${id}.jpg`], 60_000)).has(`tagged/${id}.jpg`));
    const call = (who: 'alice' | 'bob' | null, route: string, init: RequestInit = {}) =>
      fetch(`${stack.urls.http}${route}`, { ...init, headers: who ? BEARER[who] : {} });
    // Tag's done record is written after its image: wait for the status to say done.
    const deadline = Date.now() + 30_000;
    while (((await (await call('alice', `/images/${id}`)).json()) as { state: string }).state !== 'done') {
      assert.ok(Date.now() < deadline, 'tagged');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Bob: 404 exactly as an unknown id, on every route; absent from his list, search and counts.
    const nobodys = newImageId();
    for (const route of ['', '/original', '/tagged']) {
      for (const method of route === '' ? ['GET', 'DELETE'] : ['GET']) {
        const hers = await call('bob', `/images/${id}${route}`, { method });
        const none = await call('bob', `/images/${nobodys}${route}`, { method });
        assert.deepEqual([hers.status, none.status], [404, 404], `${method} ${route}`);
        const a = (await hers.json()) as { error: { code: string; message: string } };
        const b = (await none.json()) as { error: { code: string; message: string } };
        assert.deepEqual([a.error.code, a.error.message.replace(id, '<id>')], [b.error.code, b.error.message.replace(nobodys, '<id>')]);
      }
    }
    const bobsList = (await (await call('bob', '/images?limit=100')).json()) as { images: Array<{ image_id: string }> };
    assert.ok(!bobsList.images.some((s) => s.image_id === id));
    assert.deepEqual(((await (await call('bob', '/images?label=dog')).json()) as { images: unknown[] }).images, []);
    assert.deepEqual(((await (await call('bob', '/labels')).json()) as { labels: unknown[] }).labels, []);
    // No token, an expired one, one for another audience or signed with another key: 401.
    for (const [what, headers] of await refusedCallers(issuer)) {
      for (const [method, route] of [
        ['GET', '/images'],
        ['GET', `/images/${id}`],
        ['POST', '/upload'],
        ['DELETE', `/images/${id}`],
      ]) {
        const res = await fetch(`${stack.urls.http}${route}`, { method, headers });
        assert.equal(res.status, 401, `${what}: ${method} ${route}`);
        await res.body?.cancel();
      }
    }
    // Alice deletes it: nothing of it is left in MinIO but its tombstone (no image, no owner's name).
    assert.equal((await call('alice', `/images/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call('alice', `/images/${id}`)).status, 404);
    assert.deepEqual(await keysNamingPhoto(s3, stack.s3.bucket, id), [`deleted/${id}`]);
  });
});
