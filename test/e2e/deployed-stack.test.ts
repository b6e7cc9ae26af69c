import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { type LocalIssuer, startLocalIssuer } from '../../scripts/auth/localIssuer';
import { DEPLOYED_API_KEYS_PARAMETER, type DeployedStack, startDeployedStack } from '../../scripts/deploy/deployedStack';
import { buildFunctions, LAYERS_DIR } from '../../scripts/package/build-functions';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { MODEL_FILE_NAME, MODEL_PACKAGE } from '../../src/assets/modelPath';
import { hashApiKey, newApiKey } from '../../src/auth/apiKeys';
import { LAMBDA_DIRECT_UPLOAD_BYTES } from '../../src/config';
import { detect } from '../../src/detect/Detector';
import { newImageId } from '../../src/domain/imageId';
import { imageKey, uploadKey } from '../../src/domain/keys';
import type { Detection } from '../../src/domain/messages';
import type { PresignedPost } from '../../src/ports/ObjectStore';
import { readApiKeys } from '../../src/ports/readSecret';
import { AwsSecretSource } from '../../src/ports/secrets';
import { FAILING_UPLOADS, REFUSED_UPLOADS } from '../helpers/badInputCases';
import { assertSameDetections } from '../helpers/boxes';
import { keysNamingPhoto, refusedCallers } from '../helpers/callers';
import { fixtureNames, fixturePath, readFixture, referenceDetections } from '../helpers/fixtures';
import { replayForm } from '../helpers/formReplay';
import { BORDERLINE_SCORE, heicFixturePath, heicFixtures, heicReferenceDetections } from '../helpers/heicFixtures';
import { gridBomb } from '../helpers/hostileHeic';
import { largePhoto } from '../helpers/largePhoto';
import { MALFORMED_FORMS, malformedUploadMessage } from '../helpers/malformedForms';
import { postForm } from '../helpers/postPolicyContract';
import { withDeadline } from '../helpers/rawHttp';

/**
 * The real stack — CloudFormation from serverless.yml: seven Node 24 functions, four layers, the bucket
 * (its ObjectCreated notification for uploads/ to ingest_queue), twelve queues with their redrive policies, the events rule, SQS event source mappings, the HTTP API — deployed once
 * onto MiniStack by `startDeployedStack()` (what `npm run deploy:local` runs), and driven from outside
 * as a user would: curl, the status API, `npm run load`, `npm run dlq`.
 *
 * The label search (GET /images?label=…, GET /labels) and the completion events (the sample rule's
 * image_events queue) are checked on the photos of the first tests.
 *
 * The tests that exercise retries lower their queue's VisibilityTimeout to a few seconds first (the
 * template's 3 to 6 minutes would make each retry wait that long); maxReceiveCount and the DLQs stay
 * as deployed. Only theirs, and only then: at 3 s a batch slowed by a cold start is received twice,
 * which would publish a photo's event twice.
 */
const run = promisify(execFile);
const VISIBILITY_SECONDS = 3;
/**
 * The model test's detect queue: long enough that a detect function cold-starting on a loaded
 * machine (its worker boots, loads onnxruntime and sharp, then fails on the missing model) ends
 * before its batch is handed out again, so each photo is dead-lettered once, not once per overlap.
 */
const DETECT_VISIBILITY_SECONDS = 10;

/** The sample rule's queue (serverless.yml ImageEventsQueue, no prefix on the localstack stage). */
const EVENTS_QUEUE = 'image_events';

interface Status {
  image_id: string;
  state: 'pending' | 'running' | 'retrying' | 'done' | 'failed';
  stages: Record<string, { state: string; attempt?: number; error?: string; detections?: Detection[] }>;
  detections?: Detection[];
  error?: { stage: string; reason: string };
  images: Record<string, string | null>;
}

describe('the stack deployed onto MiniStack (serverless deploy --stage localstack)', { timeout: 900_000 }, () => {
  let stack: DeployedStack;
  /**
   * Who is calling: the stack is deployed with auth=jwt against a real OpenID Connect provider on
   * 127.0.0.1 (scripts/auth/localIssuer.ts), which MiniStack's JWT authorizer and the functions
   * both reach; every request is alice's but where another caller is the point.
   */
  let issuer: LocalIssuer;
  const bearer: Record<'alice' | 'bob', string> = { alice: '', bob: '' };
  /** A request to the API, as alice unless `as` says otherwise (null: no credentials). */
  const api = (route: string, init: RequestInit & { as?: 'alice' | 'bob' | null } = {}) => {
    const { as = 'alice', ...rest } = init;
    return fetch(`${stack.apiUrl}${route}`, {
      ...rest,
      headers: { ...(rest.headers as Record<string, string>), ...(as ? { authorization: `Bearer ${bearer[as]}` } : {}) },
    });
  };
  let sqs: SQSClient;
  let s3: S3Client;
  /**
   * Direct uploads the bucket refused (ingest's terminal failures): they have an id and a status
   * but no original/; their owner's GET /images lists them, failed with the reason (the record is
   * the owner's index entry); the events test looks for theirs too.
   */
  const refusedDirect: Array<{ id: string; reason: string }> = [];

  async function curlUpload(file: string): Promise<string> {
    // The seed's form, really with curl: curl -X POST -F "image=@photo.jpg" $API_URL/upload
    const { stdout } = await run('curl', [
      '-s',
      '-S',
      '-X',
      'POST',
      '-H',
      `Authorization: Bearer ${bearer.alice}`,
      '-F',
      `image=@${file}`,
      '-w',
      '\n%{http_code}',
      `${stack.apiUrl}/upload`,
    ]);
    const [body, code] = [stdout.slice(0, stdout.lastIndexOf('\n')), stdout.slice(stdout.lastIndexOf('\n') + 1)];
    assert.equal(code, '202', `${path.basename(file)}: ${body}`);
    return (JSON.parse(body) as { image_id: string }).image_id;
  }

  async function status(id: string): Promise<Status> {
    const res = await api(`/images/${id}`);
    assert.equal(res.status, 200, `GET /images/${id}`);
    return (await res.json()) as Status;
  }

  /** Polls the status API until `done(status)`; the deployed functions run asynchronously. */
  async function waitFor(id: string, done: (s: Status) => boolean, what: string, timeoutMs = 120_000): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await status(id);
      if (done(s)) return s;
      if (Date.now() > deadline)
        assert.fail(`${id}: not ${what} within ${timeoutMs} ms: ${JSON.stringify(s)} (log: ${stack.ministack.logFile})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const settled = (s: Status) => s.state === 'done' || s.state === 'failed';

  /** Alice's token in a file, for the CLIs that take one (npm run load -- --token-file). */
  const tokenFile = () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'deployed-token-')), 'token');
    writeFileSync(file, bearer.alice, { mode: 0o600 });
    return file;
  };

  /**
   * Like waitFor, for a photo written straight to the bucket: 404 until ingest has claimed it, then
   * its status until `until` holds (by default: settled).
   */
  async function waitForIngested(id: string, what: string, timeoutMs = 120_000, until: (s: Status) => boolean = settled): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api(`/images/${id}`);
      if (res.status === 200) {
        const s = (await res.json()) as Status;
        if (until(s)) return s;
      } else {
        assert.equal(res.status, 404, `GET /images/${id}`);
        await res.body?.cancel();
      }
      if (Date.now() > deadline) assert.fail(`${id}: not ${what} within ${timeoutMs} ms (log: ${stack.ministack.logFile})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Until the upload stage itself is done or failed (the later stages may still run). */
  const uploadSettled = (s: Status) => s.stages.upload?.state === 'done' || s.stages.upload?.state === 'failed';

  /** PutObject under uploads/, as the browser's presigned POST lands there. */
  async function putUpload(bytes: Buffer, contentType = 'image/jpeg'): Promise<{ id: string; key: string }> {
    const id = newImageId();
    const key = uploadKey(id, 'jpg', 'alice'); // as alice's form names it: hers
    await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: bytes, ContentType: contentType }));
    return { id, key };
  }

  async function exists(key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  async function queueDepth(name: string): Promise<number> {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  const dlqs = () => Object.values(stack.queues).map((q) => `${q}_dlq`);

  before(async () => {
    issuer = await startLocalIssuer();
    stack = await startDeployedStack({
      port: 0,
      progress: () => undefined,
      auth: { mode: 'jwt', issuer: issuer.url, audience: issuer.audience, clientId: issuer.galleryClientId },
    });
    for (const who of ['alice', 'bob'] as const) bearer[who] = (await issuer.signIn(who)).accessToken;
    const client = { endpoint: stack.endpoint, region: stack.region, credentials: stack.credentials };
    sqs = new SQSClient(client);
    s3 = new S3Client({ ...client, forcePathStyle: true });
    process.stderr.write(`# deployed stack ready: ${JSON.stringify(stack.timings)} ms; API_URL=${stack.apiUrl}\n`);
  });
  after(async () => {
    sqs?.destroy();
    s3?.destroy();
    await stack?.stop();
    await issuer?.stop();
  });

  it('every fixture sent with curl ends tagged with the reference labels', async () => {
    const reference = referenceDetections();
    const names = fixtureNames();
    const ids = await Promise.all(names.map((n) => curlUpload(fixturePath(n))));
    for (const [i, name] of names.entries()) {
      const s = await waitFor(ids[i]!, settled, 'settled');
      assert.equal(s.state, 'done', `${name}: ${JSON.stringify(s.error)}`);
      const labels = (s.detections ?? []).map((d) => d.label).sort();
      assert.deepEqual(labels, reference[name]!.detections.map((d) => d.label).sort(), `${name}: labels vs reference`);
      const tagged = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: imageKey('tagged', ids[i]!) }));
      const meta = await sharp(Buffer.from(await tagged.Body!.transformToByteArray())).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', reference[name]!.width, reference[name]!.height], name);
    }
  });

  it('GET /images?label=horse lists exactly the photos with a horse, in pages of 1; GET /labels counts them', async () => {
    // Every photo so far (the fixtures above) with its detections, newest first.
    const all = (await (await api(`/images?limit=100`)).json()) as { images: Status[] };
    assert.ok(all.images.length >= fixtureNames().length && all.images.length < 100);
    const withLabel = (label: string) =>
      all.images.filter((s) => (s.detections ?? []).some((d) => d.label === label)).map((s) => s.image_id);
    const horses = withLabel('horse');
    assert.ok(horses.length >= 1, 'horses.jpg has horses');
    const search = async (query: string) => {
      const res = await api(`/images?${query}`);
      const body = (await res.json()) as { images?: Status[]; next_cursor?: string | null; error?: { code: string; message: string } };
      return { status: res.status, body };
    };
    const one = await search('label=horse&limit=100');
    assert.equal(one.status, 200);
    assert.deepEqual(
      one.body.images?.map((s) => s.image_id),
      horses,
    );
    assert.equal(one.body.next_cursor, null);
    // Several labels mean all of them (repeated, as API Gateway joins them with commas).
    const both = await search('label=horse&label=cow');
    assert.deepEqual(
      both.body.images?.map((s) => s.image_id),
      horses.filter((id) => withLabel('cow').includes(id)),
    );
    // limit 1: each photo with a person once, in order, then no cursor.
    const people = withLabel('person');
    const walked: string[] = [];
    let cursor: string | null | undefined = null;
    do {
      const page = await search(`label=person&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200);
      walked.push(...(page.body.images ?? []).map((s) => s.image_id));
      cursor = page.body.next_cursor;
    } while (cursor && walked.length <= people.length);
    assert.deepEqual(walked, people);
    // An unknown or hostile label is a 400 with the usual JSON error.
    for (const bad of ['unicorn', '../../status', 'traffic_light']) {
      const refused = await search(`label=${encodeURIComponent(bad)}`);
      assert.equal(refused.status, 400, bad);
      assert.deepEqual(refused.body.error, {
        code: 'invalid_label',
        message: `expected each label to be a COCO name such as "dog", "person" or "traffic light" (GET /labels lists those found so far), got ${JSON.stringify(bad)}`,
      });
    }
    const counts = (await (await api(`/labels`)).json()) as { labels: Array<{ label: string; count: number }> };
    assert.equal(counts.labels.find((c) => c.label === 'horse')?.count, horses.length);
    assert.equal(counts.labels.find((c) => c.label === 'person')?.count, people.length);
  });

  it('status, gallery and the four image routes answer at API_URL', async () => {
    const id = await curlUpload(fixturePath('dog.jpg'));
    const s = await waitFor(id, settled, 'settled');
    assert.equal(s.state, 'done');
    // The gallery: an HTML page whose links are relative, so they work under the API's base path.
    const page = await api(`/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    // (the compiled script builds them as `images?limit=…` and `images?label=…`, and fetches "labels")
    for (const relative of ['`images?limit=', '`images?label=', '("labels"']) {
      assert.ok(html.includes(relative), `the gallery asks for images and labels relative to its own URL: ${relative}`);
    }
    // The recent list has it.
    const list = (await (await api(`/images?limit=20`)).json()) as { images: Array<{ image_id: string }> };
    assert.ok(list.images.some((i) => i.image_id === id));
    // The four image routes: a presigned redirect the browser can follow, to a JPEG of the expected size.
    const expected = { original: [768, 576, 3], resized: [192, 144, 3], grayscale: [192, 144, 1], tagged: [768, 576, 3] };
    for (const [kind, [w, h, channels]] of Object.entries(expected)) {
      const res = await api(`/images/${id}/${kind}`, { redirect: 'manual' });
      assert.equal(res.status, 302, kind);
      const location = res.headers.get('location') ?? '';
      assert.ok(location.startsWith(`${stack.endpoint}/`), `${kind}: presigned URL on the emulator's loopback endpoint, got ${location}`);
      const image = await fetch(location);
      assert.equal(image.status, 200, kind);
      const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', w, h, channels], kind);
    }
    assert.equal((await api(`/images/${newImageId()}`)).status, 404);
  });

  it('bad input ends in a 4xx or a terminal failure with its reason; a good photo beside it is tagged', async () => {
    const neighbours: string[] = [];
    for (const c of REFUSED_UPLOADS) {
      neighbours.push(await curlUpload(fixturePath('person.jpg')));
      const { body, headers } = c.request();
      const res = await api(`/upload`, {
        method: 'POST',
        body: body instanceof FormData ? body : new Uint8Array(body),
        ...(headers ? { headers } : {}),
      });
      const reply = (await res.json()) as { error?: { code: string; message: string } };
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(reply)}`);
      assert.equal(reply.error?.code, c.code, c.name);
      if (typeof c.message === 'string') assert.equal(reply.error?.message, c.message, c.name);
      else assert.match(reply.error?.message ?? '', c.message, c.name);
    }
    for (const c of FAILING_UPLOADS) {
      neighbours.push(await curlUpload(fixturePath('person.jpg')));
      const { body } = c.request();
      const res = await api(`/upload`, { method: 'POST', body: body as FormData });
      assert.equal(res.status, 202, c.name);
      const id = ((await res.json()) as { image_id: string }).image_id;
      const s = await waitFor(id, settled, 'settled');
      assert.equal(s.state, 'failed', c.name);
      assert.equal(s.error?.stage, c.stage, c.name);
      assert.equal(s.error?.reason, c.reason, c.name);
      assert.equal(s.stages[c.stage]?.attempt, 1, `${c.name}: bad input is not retried`);
    }
    for (const id of neighbours) assert.equal((await waitFor(id, settled, 'settled')).state, 'done', `neighbour ${id}`);
  });

  it('hostile HTTP through the HTTP API and Lambda: malformed forms and deep or large JSON are a 4xx at once, no header picks the form URL, /metrics is not here', async () => {
    /** Alice's request, its answer within a deadline that is a failure ("no answer"), never a wait. */
    const answer = async (what: string, init: RequestInit & { path: string }) => {
      const { path: route, ...rest } = init;
      const res = await withDeadline(api(route, rest), 60_000, what);
      const text = await res.text();
      return { status: res.status, error: (JSON.parse(text) as { error?: { code: string; message: string } }).error, text };
    };
    for (const { name, form, reason } of MALFORMED_FORMS) {
      const got = await answer(name, {
        path: '/upload',
        method: 'POST',
        headers: { 'content-type': form.contentType },
        body: new Uint8Array(form.body),
      });
      assert.deepEqual(
        [got.status, got.error],
        [400, { code: 'bad_multipart', message: malformedUploadMessage(reason) }],
        `${name}: ${got.text}`,
      );
    }
    const example = '{"content_type": "image/jpeg", "size": 5242880, "file_name": "photo.jpg"}';
    const json = (body: string, what: string) =>
      answer(what, { path: '/uploads', method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const deep = await json(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, 'JSON nested 200,000 deep');
    assert.deepEqual(
      [deep.status, deep.error],
      [400, { code: 'invalid_json', message: `expected a JSON body such as ${example}, got JSON nested more than 32 levels deep` }],
    );
    const large = await json(JSON.stringify({ content_type: 'image/jpeg', size: 10, file_name: 'x'.repeat(20_000) }), 'a 20 KB JSON body');
    assert.deepEqual([large.status, large.error?.code], [413, 'too_large']);
    // The form goes to the bucket's own URL whatever the request's Host and proxy headers say.
    const created = await withDeadline(
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(`${stack.apiUrl}/uploads`);
        const body = JSON.stringify({ content_type: 'image/jpeg', size: 10 });
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              host: 'evil.example',
              'x-forwarded-host': 'evil.example',
              'x-forwarded-proto': 'https',
              forwarded: 'host=evil.example',
              authorization: `Bearer ${bearer.alice}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
      60_000,
      'POST /uploads with hostile forwarding headers',
    );
    assert.equal(created.status, 201, created.body);
    assert.equal((JSON.parse(created.body) as { upload: PresignedPost }).upload.url, `${stack.endpoint}/${stack.bucket}`);
    const metrics = await answer('GET /metrics', { path: '/metrics' });
    assert.deepEqual([metrics.status, metrics.error?.code], [404, 'metrics_not_here']);
  });

  it('the bucket starts the pipeline: a 24 MP photo of more than 6 MB PutObject under uploads/ is tagged', async () => {
    // The s3:TestEvent S3 sent when the deploy configured the notification was ignored, not dead-lettered.
    assert.equal(await queueDepth(`${stack.queues.ingest}_dlq`), 0);
    const photo = await largePhoto('dog.jpg');
    assert.ok(photo.bytes.length > 6 * 1024 * 1024 && photo.width * photo.height >= 24e6, `${photo.bytes.length} bytes`);
    const { id, key } = await putUpload(photo.bytes);
    const s = await waitForIngested(id, 'tagged', 180_000);
    assert.equal(s.state, 'done', JSON.stringify(s.error));
    assert.equal(s.stages.upload?.attempt, 1);
    const original = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: imageKey('original', id) }));
    assert.ok(Buffer.from(await original.Body!.transformToByteArray()).equals(photo.bytes), 'original/ is the uploaded bytes');
    const tagged = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: imageKey('tagged', id) }));
    const meta = await sharp(Buffer.from(await tagged.Body!.transformToByteArray())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', photo.width, photo.height]);
    assert.ok(
      (s.detections ?? []).some((d) => d.label === 'dog'),
      JSON.stringify(s.detections),
    );
    assert.equal(await exists(key), false, 'ingest removed the upload');
    process.stderr.write(
      `# ingested ${photo.width}x${photo.height} ${(photo.bytes.length / 1e6).toFixed(1)} MB: ${JSON.stringify(s.stages.upload)}\n`,
    );
  });

  it('bytes that are not an image PutObject under uploads/ end as a terminal failure with the reason, not retried', async () => {
    const { id, key } = await putUpload(Buffer.from('%PDF-1.7 not a photo'), 'image/jpeg');
    const s = await waitForIngested(id, 'failed');
    assert.equal(s.state, 'failed');
    assert.deepEqual(s.error, {
      stage: 'upload',
      reason:
        'UnsupportedImageError: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got 20 bytes starting 25 50 44 46 2d 31 2e 37 that sharp cannot read',
    });
    assert.equal(s.stages.upload?.attempt, 1);
    assert.equal(s.stages.resize?.state, 'pending', 'nothing was queued');
    refusedDirect.push({ id, reason: s.error!.reason });
    assert.equal(await exists(key), false);
    assert.equal(await queueDepth(`${stack.queues.ingest}_dlq`), 0);
  });

  it('the same notification delivered three times (S3 once, then twice by hand, racing) processes the photo once', async () => {
    const bytes = readFixture('kite.jpg');
    const { id, key } = await putUpload(bytes);
    // The S3 event message as S3 sends it to SQS (the same object, the same key).
    const notification = JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: stack.region,
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: stack.bucket, arn: `arn:aws:s3:::${stack.bucket}` },
            object: { key, size: bytes.length },
          },
        },
      ],
    });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: stack.queues.ingest }));
    await Promise.all([1, 2].map(() => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: notification }))));
    const s = await waitForIngested(id, 'tagged');
    assert.equal(s.state, 'done', JSON.stringify(s.error));
    // All three consumed: then the records show one pass through each stage.
    const deadline = Date.now() + 60_000;
    while ((await queueDepth(stack.queues.ingest)) > 0) {
      assert.ok(Date.now() < deadline, 'ingest_queue drained within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    const again = await status(id);
    for (const stage of ['upload', 'resize', 'grayscale', 'detect', 'tag']) assert.equal(again.stages[stage]?.attempt, 1, stage);
    assert.deepEqual(again.stages, s.stages, 'no stage ran again after the photo was tagged');
    assert.equal(await queueDepth(`${stack.queues.ingest}_dlq`), 0);
    // (The events test below checks that this photo produced exactly one 'Image Tagged'.)
  });

  it("the sample rule's queue gets one 'Image Tagged' per photo with its detections and one 'Image Failed' per bad file", async () => {
    // Prepare: every photo so far has settled (the tests above waited for each).
    const all = ((await (await api(`/images?limit=100`)).json()) as { images: Status[] }).images;
    assert.ok(all.length > fixtureNames().length && all.length < 100);
    assert.ok(all.every(settled), 'all photos settled');
    assert.ok(
      all.some((s) => s.state === 'failed'),
      'a bad file failed',
    );
    // Act: read the queue until every photo's event is there (the tag function publishes right after
    // its done record), then once more: a repeat would show up there.
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: EVENTS_QUEUE }));
    type Delivered = {
      source: string;
      'detail-type': string;
      detail: { image_id: string; detections?: unknown; stage?: string; reason?: string };
    };
    const events: Delivered[] = [];
    const receive = async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of Messages) events.push(JSON.parse(m.Body ?? '{}') as Delivered);
      if (Messages.length)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      return Messages.length;
    };
    const deadline = Date.now() + 60_000;
    const ids = all.map((s) => s.image_id);
    for (const { id } of refusedDirect) assert.ok(ids.includes(id), `${id}: a refused direct upload is listed to its owner`);
    while (!ids.every((id) => events.some((e) => e.detail.image_id === id))) {
      assert.ok(
        Date.now() < deadline,
        `events for ${all.length} photos within 60 s, got ${events.length} (log: ${stack.ministack.logFile})`,
      );
      await receive();
    }
    while ((await receive()) > 0) {}
    // Assess: exactly one event per photo, of its outcome, with what its status says.
    for (const s of all) {
      const mine = events.filter((e) => e.detail.image_id === s.image_id);
      assert.equal(mine.length, 1, `${s.image_id}: ${JSON.stringify(mine.map((e) => e['detail-type']))}`);
      const [e] = mine;
      assert.equal(e!.source, 'image-pipeline');
      if (s.state === 'done') {
        assert.equal(e!['detail-type'], 'Image Tagged');
        assert.deepEqual(e!.detail.detections, s.detections);
      } else {
        assert.equal(e!['detail-type'], 'Image Failed');
        assert.deepEqual([e!.detail.stage, e!.detail.reason], [s.error?.stage, s.error?.reason]);
      }
    }
    // A refused direct upload has its one 'Image Failed', from ingest.
    for (const { id, reason } of refusedDirect) {
      const mine = events.filter((e) => e.detail.image_id === id);
      assert.deepEqual(
        mine.map((e) => [e['detail-type'], e.detail.stage, e.detail.reason]),
        [['Image Failed', 'upload', reason]],
        id,
      );
    }
    assert.equal(events.length, all.length);
    // Every event names its photo's owner: alice's, every one.
    assert.deepEqual([...new Set(events.map((e) => (e.detail as { owner?: string }).owner))], ['alice']);
  });

  it('npm run load -- --n 100 --target $API_URL: 100 tagged, 0 failed, 0 lost, no new dead letters', async () => {
    // The bad file of the test above waits in resize_queue_dlq: count what the load adds.
    const deadBefore = await Promise.all(dlqs().map(queueDepth));
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/load.ts', '--n', '100', '--target', stack.apiUrl, '--token-file', tokenFile(), '--json'],
      {
        cwd: REPO_ROOT,
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown> & {
      accepted: number;
      tagged: number;
      failed: number;
      lost: number;
      latency_ms?: Record<string, number>;
    };
    process.stderr.write(`# load on the deployed stack: ${JSON.stringify(report)}\n`);
    assert.equal(report.accepted, 100);
    assert.equal(report.tagged, 100);
    assert.equal(report.failed, 0);
    assert.equal(report.lost, 0);
    assert.deepEqual(await Promise.all(dlqs().map(queueDepth)), deadBefore, `no new messages in ${dlqs().join(', ')}`);
  });

  it('a poison message reaches its DLQ through the redrive policy after maxReceiveCount receives', async () => {
    // A well-formed resize message whose original never arrives: retried (an object not yet there),
    // until SQS's redrive policy (maxReceiveCount 3) moves it to resize_queue_dlq.
    await stack.setVisibilityTimeout(VISIBILITY_SECONDS, [stack.queues.resize]);
    const ghost = newImageId();
    const body = JSON.stringify({ v: 1, image_id: ghost, original_path: imageKey('original', ghost) });
    const before = await queueDepth('resize_queue_dlq');
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: stack.queues.resize }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    const deadline = Date.now() + 120_000;
    while ((await queueDepth('resize_queue_dlq')) === before) {
      assert.ok(Date.now() < deadline, 'the poison message did not reach resize_queue_dlq within 120 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    // Three receives: retrying, retrying, then failed on the last.
    const record = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: `status/${ghost}/resize.json` }));
    const last = JSON.parse(await record.Body!.transformToString()) as { state: string; attempt: number; error: string };
    assert.deepEqual([last.state, last.attempt], ['failed', 3]);
    assert.equal(last.error, `ObjectNotFoundError: object not found: ${imageKey('original', ghost)}`);
    assert.equal(await queueDepth(stack.queues.resize), 0);
    // Drained for the next test: the DLQ keeps it until redriven; list shows why.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'list', '--queue', 'resize', '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...stack.cliEnv },
    });
    assert.ok(
      stdout.split('\n').some((l) => l.includes(ghost)),
      `npm run dlq -- list shows the poison message: ${stdout}`,
    );
  });

  it('with the model unreachable: retrying with the reason, then restored, redriven with npm run dlq, and tagged', async () => {
    // Prepare: redeploy with a model layer whose package points at no file.
    const pkgDir = path.join(LAYERS_DIR, 'model', 'nodejs', 'node_modules', MODEL_PACKAGE);
    const model = path.join(pkgDir, MODEL_FILE_NAME);
    rmSync(model);
    writeFileSync(path.join(pkgDir, 'README'), 'model removed by deployed-stack.test.ts'); // a changed layer: a new version
    try {
      await stack.redeploy();
      await stack.setVisibilityTimeout(DETECT_VISIBILITY_SECONDS, [stack.queues.detect]);
      // Act: two photos; detect cannot load its model.
      const ids = await Promise.all(['dog.jpg', 'horses.jpg'].map((n) => curlUpload(fixturePath(n))));
      for (const id of ids) {
        const s = await waitFor(id, (x) => x.stages.detect?.state === 'retrying', 'retrying at detect');
        assert.equal(s.state, 'retrying');
        assert.match(s.stages.detect?.error ?? '', /^DetectorLoadError: model file not found: /);
      }
      // The redrive policy moves them to the DLQ after three receives.
      for (const id of ids)
        await waitFor(id, (x) => x.stages.detect?.state === 'failed' && x.stages.detect?.attempt === 3, 'failed at detect');
      const deadline = Date.now() + 60_000;
      while ((await queueDepth('objectdetect_queue_dlq')) < 2) {
        assert.ok(Date.now() < deadline, 'the two messages did not reach objectdetect_queue_dlq');
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      // Restore: the real model layer, deployed.
      await buildFunctions({ log: () => undefined });
      assert.ok(readFileSync(model).length > 1_000_000);
    }
    await stack.redeploy();
    const ids = (await (await api(`/images?limit=50`)).json()) as { images: Status[] };
    const failed = ids.images.filter((s) => s.state === 'failed' && s.error?.stage === 'detect').map((s) => s.image_id);
    assert.equal(failed.length, 2);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'redrive', '--queue', 'detect'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...stack.cliEnv },
    });
    // SQS delivers at least once: a batch received again while a slow invocation still held it can
    // leave a photo's message in the DLQ twice. Every copy is redriven; each photo is tagged once.
    const redrove = /^objectdetect_queue: redrove (\d+) messages?$/.exec(stdout.trim());
    assert.ok(redrove && Number(redrove[1]) >= 2, `npm run dlq -- redrive moves both photos back: ${stdout}`);
    for (const id of failed) {
      // Its status still says failed until detect runs it again: wait for done.
      const s = await waitFor(id, (x) => x.state === 'done', 'tagged after the redrive');
      assert.ok((s.detections ?? []).length > 0);
    }
    assert.equal(await queueDepth('objectdetect_queue_dlq'), 0);
    // A fixture uploaded afterwards is tagged at once: the restored model is in use.
    const after = await curlUpload(fixturePath('dog.jpg'));
    assert.equal((await waitFor(after, settled, 'settled')).stages.detect?.attempt, 1);
  });

  it("owners: MiniStack's JWT authorizer refuses the bad tokens, the function checks the token again, alice's photo is invisible to bob, and her DELETE leaves nothing of it in the bucket", async () => {
    // Prepare: a photo of alice's, tagged.
    const id = await curlUpload(fixturePath('dog.jpg'));
    assert.equal((await waitFor(id, settled, 'settled')).state, 'done');
    const raw = (route: string, method: string, headers: Record<string, string>) => fetch(`${stack.apiUrl}${route}`, { method, headers });

    // The authorizer (API Gateway's JWT authorizer, emulated by MiniStack): no token, an expired one,
    // one for another audience, one signed with another key are refused before any function runs —
    // API Gateway's own 401 body, not the functions' JSON error. So is a valid ES256 token: API
    // Gateway checks RSA signatures only.
    const refused: Array<[string, Record<string, string>]> = [
      ...(await refusedCallers(issuer)),
      ['an ES256 token', { authorization: `Bearer ${await issuer.forge({}, { key: 'issuer-es256' })}` }],
    ];
    for (const [what, headers] of refused) {
      for (const [method, route] of [
        ['GET', '/images'],
        ['GET', `/images/${id}`],
        ['GET', `/images/${id}/original`],
        ['GET', '/labels'],
        ['POST', '/upload'],
        ['POST', '/uploads'],
        ['DELETE', `/images/${id}`],
      ] as const) {
        const res = await raw(route, method, headers);
        assert.equal(res.status, 401, `${what}: ${method} ${route}`);
        assert.deepEqual(await res.json(), { message: 'Unauthorized' }, `${what}: ${method} ${route}: refused by the authorizer`);
      }
    }
    // The function's own check, behind the authorizer: a token the authorizer takes (the issuer's
    // RS256 key, its audience, not expired) whose sub is no owner is refused by the function.
    const oddSub = await issuer.forge({ sub: 'x'.repeat(129) });
    const behind = await raw('/images', 'GET', { authorization: `Bearer ${oddSub}` });
    assert.equal(behind.status, 401);
    assert.deepEqual(((await behind.json()) as { error: unknown }).error, {
      code: 'unauthorized',
      message: `expected the bearer token's sub to be 1 to 128 printable ASCII characters, got "${'x'.repeat(119)}…`,
    });
    // The page needs no caller.
    assert.equal((await raw('/', 'GET', {})).status, 200);

    // Bob: her photo is an unknown id on every route, and nowhere in his list, search or counts.
    const nobodys = newImageId();
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/original'],
      ['GET', '/tagged'],
      ['DELETE', ''],
    ] as const) {
      const hers = await api(`/images/${id}${suffix}`, { method, as: 'bob' });
      const none = await api(`/images/${nobodys}${suffix}`, { method, as: 'bob' });
      assert.deepEqual([hers.status, none.status], [404, 404], `${method} ${suffix}`);
      const a = ((await hers.json()) as { error: { code: string; message: string } }).error;
      const b = ((await none.json()) as { error: { code: string; message: string } }).error;
      assert.deepEqual([a.code, a.message.replace(id, '<id>')], [b.code, b.message.replace(nobodys, '<id>')], `${method} ${suffix}`);
    }
    assert.deepEqual(((await (await api('/images?limit=100', { as: 'bob' })).json()) as { images: unknown[] }).images, []);
    assert.deepEqual(((await (await api('/images?label=dog', { as: 'bob' })).json()) as { images: unknown[] }).images, []);
    assert.deepEqual(((await (await api('/labels', { as: 'bob' })).json()) as { labels: unknown[] }).labels, []);
    assert.equal((await api(`/images/${id}`)).status, 200, "bob's DELETE changed nothing");

    // Alice deletes it: gone from every route, and from the bucket but for its tombstone.
    assert.equal((await api(`/images/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(`/images/${id}`)).status, 404);
    const list = (await (await api('/images?limit=100')).json()) as { images: Status[] };
    assert.ok(!list.images.some((s) => s.image_id === id));
    assert.deepEqual(await keysNamingPhoto(s3, stack.bucket, id), [`deleted/${id}`]);
  });

  // Last, so that a photo the bucket's notification starts (the ingest step) cannot change what the
  // tests above count.
  it('POST /uploads: a 24 MP photo of more than 6 MB posted with the form the function signs is tagged; non-image bytes fail with the reason; the bucket holds the form to its policy; POST /upload answers its own 413 over the Lambda cap', async () => {
    // Prepare
    const photo = await largePhoto('dog.jpg');
    assert.ok(photo.bytes.length > 6 * 1024 * 1024 && photo.width * photo.height >= 24e6, `${photo.bytes.length} bytes`);
    const createUpload = async (size: number) => {
      const res = await api(`/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content_type: 'image/jpeg', size, file_name: 'dog.jpg' }),
      });
      const created = (await res.json()) as { image_id: string; upload: PresignedPost; status_url: string };
      assert.equal(res.status, 201, JSON.stringify(created));
      return created;
    };
    // Act: the two steps, as docs/big-photos.md shows them.
    const created = await createUpload(photo.bytes.length);
    const answer = await postForm(created.upload, photo.bytes);
    // Assess: an S3 form (SigV4 fields, with the function's session token) for the emulator's bucket,
    // taken by the bucket, whose notification starts the pipeline.
    assert.equal(created.upload.url, `${stack.endpoint}/${stack.bucket}`);
    assert.equal(created.upload.fields.key, uploadKey(created.image_id, 'jpg', 'alice'));
    assert.equal(created.status_url, `/images/${created.image_id}`);
    assert.ok('X-Amz-Signature' in created.upload.fields && 'Policy' in created.upload.fields, Object.keys(created.upload.fields).join());
    assert.equal(answer.status, 204, answer.body);
    const s = await waitForIngested(created.image_id, 'tagged', 180_000);
    assert.equal(s.state, 'done', JSON.stringify(s.error));
    const original = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: imageKey('original', created.image_id) }));
    assert.ok(Buffer.from(await original.Body!.transformToByteArray()).equals(photo.bytes), 'original/ is the posted bytes');
    assert.equal(original.ContentType, 'image/jpeg');
    assert.ok(
      (s.detections ?? []).some((d) => d.label === 'dog'),
      JSON.stringify(s.detections),
    );
    assert.equal(await exists(created.upload.fields.key), false, 'ingest removed the upload');
    // Bytes that are not an image, through a valid form: a terminal failure of the upload stage with the reason.
    const junk = Buffer.from('%PDF-1.7 not a photo');
    const junkForm = await createUpload(junk.length);
    assert.equal((await postForm(junkForm.upload, junk)).status, 204);
    const failed = await waitForIngested(junkForm.image_id, 'failed');
    assert.deepEqual(
      [failed.state, failed.error],
      [
        'failed',
        {
          stage: 'upload',
          reason:
            'UnsupportedImageError: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got 20 bytes starting 25 50 44 46 2d 31 2e 37 that sharp cannot read',
        },
      ],
    );
    assert.equal(failed.stages.resize?.state, 'pending', 'nothing was queued');
    // The bucket holds the form to its policy (MiniStack checks its conditions, not its signature:
    // docs/emulated-cloud.md): another type or key, an empty file, a byte more or less than declared.
    const dog = readFixture('dog.jpg');
    const refusals: Array<[string, number, Buffer, Record<string, string>, number, string]> = [
      ['another content type', dog.length, dog, { 'Content-Type': 'image/png' }, 403, 'AccessDenied'],
      ['another key', dog.length, dog, { key: `uploads/${newImageId()}.jpg` }, 403, 'AccessDenied'],
      ['an empty file', 10, Buffer.alloc(0), {}, 400, 'EntityTooSmall'],
      ['a byte more than declared', 10, Buffer.alloc(11, 0xff), {}, 400, 'EntityTooLarge'],
      ['a byte less than declared', 10, Buffer.alloc(9, 0xff), {}, 400, 'EntityTooSmall'],
    ];
    for (const [what, size, file, fields, status, code] of refusals) {
      const form = (
        (await (await api(`/uploads`, { method: 'POST', body: JSON.stringify({ content_type: 'image/jpeg', size }) })).json()) as {
          upload: PresignedPost;
        }
      ).upload;
      const refused = await postForm(form, file, { fields });
      assert.deepEqual([refused.status, refused.code], [status, code], `${what}: ${refused.body}`);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: form.fields.key }));
      assert.equal(listed.KeyCount ?? 0, 0, `${what}: stored`);
      if (fields.key)
        assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: fields.key }))).KeyCount ?? 0, 0);
    }
    // A body one byte over what an invocation carries: the function's own JSON 413, pointing to POST /uploads.
    const big = await api(`/upload`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(LAMBDA_DIRECT_UPLOAD_BYTES + 1),
    });
    assert.equal(big.status, 413);
    assert.deepEqual(((await big.json()) as { error: unknown }).error, {
      code: 'too_large',
      message: `expected an upload of at most ${LAMBDA_DIRECT_UPLOAD_BYTES} bytes, got ${LAMBDA_DIRECT_UPLOAD_BYTES + 1} (the most a Lambda invocation carries: 6 MB, base64-encoded); send larger photos with POST /uploads (up to 52428800 bytes)`,
    });
  });

  it('HEIC: sent with curl (which types a .heic as application/octet-stream) and with the S3 form as image/heif, each tagged with what heif-dec decodes; a bomb refused with 413', async () => {
    const modelPath = await ensureModel();
    const check = async (id: string, file: string, status: Status) => {
      const fixture = heicFixtures().find((f) => f.file === file)!;
      assert.equal(status.state, 'done', `${file}: ${JSON.stringify(status.error)}`);
      const original = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: imageKey('original', id, 'heic') }));
      assert.ok(
        Buffer.from(await original.Body!.transformToByteArray()).equals(readFileSync(heicFixturePath(file))),
        `${file}: original kept`,
      );
      assert.equal(original.ContentType, 'image/heic');
      const tagged = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: imageKey('tagged', id) }));
      const meta = await sharp(Buffer.from(await tagged.Body!.transformToByteArray())).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', fixture.width, fixture.height], file);
      const { expected, unsettled } = await heicReferenceDetections(heicFixturePath(file), (png) => detect(png, { modelPath }));
      assertSameDetections(status.detections ?? [], expected, file, { unsettled, borderline: BORDERLINE_SCORE });
    };
    // curl -F image=@photo.heic: a grid, irot with EXIF orientation, nclx Display P3
    const files = ['horses-grid.heic', 'eagle-irot-exif.heic', 'kite-nclx-p3.heic'];
    const ids = await Promise.all(files.map((f) => curlUpload(heicFixturePath(f))));
    for (const [i, file] of files.entries()) await check(ids[i]!, file, await waitFor(ids[i]!, settled, 'settled'));
    // POST /uploads as image/heif, the S3 form, the bucket's notification, ingest
    const bytes = readFileSync(heicFixturePath('giraffe-multi.heic'));
    const res = await api('/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content_type: 'image/heif', size: bytes.length, file_name: 'giraffe.heif' }),
    });
    const created = (await res.json()) as { image_id: string; upload: PresignedPost };
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.upload.fields.key, uploadKey(created.image_id, 'heic', 'alice'));
    assert.equal((await postForm(created.upload, bytes)).status, 204);
    await check(created.image_id, 'giraffe-multi.heic', await waitForIngested(created.image_id, 'tagged', 180_000));
    // A bomb: 413 from the upload function, nothing stored
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heic-bomb-'));
    const bomb = path.join(dir, 'bomb.heic');
    writeFileSync(bomb, gridBomb(readFileSync(heicFixturePath('horses-grid.heic')), 60000, 60000));
    const { stdout } = await run('curl', [
      '-s',
      '-S',
      '-X',
      'POST',
      '-H',
      `Authorization: Bearer ${bearer.alice}`,
      '-F',
      `image=@${bomb}`,
      '-w',
      '\n%{http_code}',
      `${stack.apiUrl}/upload`,
    ]);
    rmSync(dir, { recursive: true, force: true });
    const [body, code] = [stdout.slice(0, stdout.lastIndexOf('\n')), stdout.slice(stdout.lastIndexOf('\n') + 1)];
    assert.equal(code, '413', body);
    assert.deepEqual((JSON.parse(body) as { error: unknown }).error, {
      code: 'too_many_pixels',
      message: 'expected at most 67108864 pixels, got 60000x60000 = 3600000000 (the size its tiles assemble to; it declares 773x512)',
    });
  });

  // After the POST /uploads test, for the same reason: what the bucket starts must not change the counts above.
  it('one form posted 8 times at once (S3 takes every post): original/ is only ever the checked photo, and nothing stays under uploads/', async () => {
    const photo = readFixture('dog.jpg');
    const ends: string[] = [];
    for (let round = 0; round < 3; round++) {
      // Prepare: a form for the photo's size.
      const res = await api('/uploads', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content_type: 'image/jpeg', size: photo.length }),
      });
      const created = (await res.json()) as { image_id: string; upload: PresignedPost };
      assert.equal(res.status, 201, JSON.stringify(created));
      // Act: the photo and seven bodies of junk of its size, at once, with the same form.
      const { posts } = await replayForm(created.upload, photo, 8);
      // Assess: the bucket (as S3) took them all; ingest copied only what it checked.
      assert.deepEqual(
        posts.map((p) => p.answer.status),
        posts.map(() => 204),
      );
      // Settled at upload: ingested (then the photo goes on) or refused; what comes after is not this test's.
      const s = await waitForIngested(created.image_id, 'settled at upload', 120_000, uploadSettled);
      ends.push(s.stages.upload?.state ?? 'none');
      const original = imageKey('original', created.image_id);
      if (s.stages.upload?.state === 'done') {
        const got = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: original }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(photo), `round ${round}: original/ is the photo`);
      } else {
        assert.equal(s.error?.stage, 'upload', JSON.stringify(s.error));
        assert.match(s.stages.upload?.error ?? '', /^UnsupportedImageError: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes/);
        assert.equal(await exists(original), false, `round ${round}: no unchecked bytes in original/`);
      }
      // Every post's notification is taken in (the queue drains); the upload's key is then empty.
      for (const deadline = Date.now() + 120_000; ; ) {
        const [depth, left] = [await queueDepth(stack.queues.ingest), await exists(created.upload.fields.key!)];
        if (depth === 0 && !left) break;
        if (Date.now() > deadline) assert.fail(`round ${round}: ingest_queue ${depth}, upload still there: ${left}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    assert.equal(await queueDepth(`${stack.queues.ingest}_dlq`), 0);
    process.stderr.write(`# one form posted 8 times at once, 3 rounds, upload stage: ${ends.join(', ')}\n`);
  });

  // After every other test: the stack redeployed with auth=api-key changes who may call.
  it("auth=api-key: redeployed so, the functions read the keys' hashes from SSM at init; each key's owner sees their photos only", async () => {
    // Prepare: the keys' hashes in the stage's SecureString parameter, as docs/security.md says.
    const keys = { carol: newApiKey(), dave: newApiKey() };
    const stored = JSON.stringify({ keys: Object.entries(keys).map(([owner, key]) => ({ owner, sha256: hashApiKey(key) })) });
    await stack.redeploy([], { mode: 'api-key', keys: stored });
    // What the functions read at init (src/ports/readSecret.ts over src/ports/secrets.ts): the
    // SecureString, decrypted; and a Secrets Manager secret the same way, by its ARN
    // (--param="apiKeysParameter=arn:…:secret:image-pipeline/<stage>/…").
    const client = { region: stack.region, endpoint: stack.endpoint, credentials: stack.credentials };
    const ssm = new SSMClient(client);
    const secrets = new SecretsManagerClient(client);
    try {
      const source = () => new AwsSecretSource({ region: stack.region, ssm, secretsManager: secrets });
      assert.equal(await readApiKeys({ kind: 'parameter', reference: DEPLOYED_API_KEYS_PARAMETER }, source), stored);
      const { ARN } = await secrets.send(new CreateSecretCommand({ Name: 'image-pipeline/localstack/api-keys', SecretString: stored }));
      assert.equal(await readApiKeys({ kind: 'parameter', reference: ARN! }, source), stored);
      await assert.rejects(readApiKeys({ kind: 'parameter', reference: '/no/such/parameter' }, source), {
        name: 'ConfigError',
        message: 'API_KEYS_PARAMETER: reading the SSM parameter /no/such/parameter failed: ParameterNotFound',
      });
    } finally {
      ssm.destroy();
      secrets.destroy();
    }
    const as = (key: string | null, route: string, init: RequestInit = {}) =>
      fetch(`${stack.apiUrl}${route}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...(key ? { 'x-api-key': key } : {}) },
      });
    // Act: carol uploads with her key.
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFixture('dog.jpg'))], { type: 'image/jpeg' }), 'dog.jpg');
    const up = await as(keys.carol, '/upload', { method: 'POST', body: form });
    assert.equal(up.status, 202, await up.clone().text());
    const { image_id } = (await up.json()) as { image_id: string };
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res = await as(keys.carol, `/images/${image_id}`);
      if (res.status === 200 && settled((await res.json()) as Status)) break;
      assert.ok(Date.now() < deadline, `carol's photo settled (log: ${stack.ministack.logFile})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Assess: hers only; dave none; no key or a wrong one is the function's own 401 (no authorizer now).
    const carols = ((await (await as(keys.carol, '/images?limit=100')).json()) as { images: Status[] }).images;
    assert.deepEqual(
      carols.map((s) => s.image_id),
      [image_id],
    );
    assert.deepEqual(((await (await as(keys.dave, '/images?limit=100')).json()) as { images: unknown[] }).images, []);
    assert.equal((await as(keys.dave, `/images/${image_id}`)).status, 404);
    for (const key of [null, `${keys.carol}x`, bearer.alice]) {
      const res = await as(key, '/images');
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unauthorized');
    }
    // The template names where the hashes are, never them.
    const template = readFileSync(path.join(REPO_ROOT, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8');
    assert.ok(template.includes(DEPLOYED_API_KEYS_PARAMETER), 'the template names where the keys are');
    for (const key of Object.values(keys))
      assert.ok(!template.includes(hashApiKey(key)) && !template.includes(key), 'no key nor hash in the template');
  });
});
