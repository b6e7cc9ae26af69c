import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSBatchResponse } from 'aws-lambda';
import sharp from 'sharp';
import { listRecentIds } from '../../src/api/listRecent';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { LOCAL_OWNER, photoRecordKey, photosPrefix } from '../../src/domain/owners';
import { TransientError, UnsupportedImageError } from '../../src/errors';
import { EmfStageMetrics } from '../../src/metrics/EmfStageMetrics';
import { PrometheusStageMetrics } from '../../src/metrics/PrometheusStageMetrics';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import type { DetectFn } from '../../src/stages/Stage';
import { writeLegacyStatus, writePhotoRecord, writeUploadRecord } from '../../src/status/stageStatus';
import { countingStore } from '../helpers/countingStore';
import { httpApiEvent, lambdaContext, lambdaFunctions, multipartBody, sqsEvent, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

// ---- helpers -------------------------------------------------------------------------------

interface Setup extends TestApp {
  metrics: PrometheusStageMetrics;
}

/** The functions as deployed, built for the current test's app. */
let fn: ReturnType<typeof lambdaFunctions>;

function install(options: { detect?: DetectFn; env?: Record<string, string> } = {}): Setup {
  const metrics = new PrometheusStageMetrics();
  const deps = { ...testApp({ ...options, metrics }), metrics };
  fn = lambdaFunctions(deps);
  return deps;
}

function get(path: string, query?: Record<string, string>): Promise<APIGatewayProxyResult> {
  const event = httpApiEvent({ method: 'GET', path });
  if (query) {
    event.queryStringParameters = query;
    event.rawQueryString = new URLSearchParams(query).toString();
  }
  return fn.api(event, lambdaContext('api'));
}

/**
 * GET of one of the four images, as a browser does it from the folder store: the API's 302 to a
 * presigned path, then that path as the embedded server's GET /bucket/<key> checks it (its
 * signature and expiry: src/runtime/bucketGet.ts) and serves the object.
 */
async function getImage(deps: TestApp, path: string): Promise<{ redirect: APIGatewayProxyResult; body: Buffer; contentType?: string }> {
  const redirect = await get(path);
  assert.equal(redirect.statusCode, 302, redirect.body);
  const location = new URL(String(redirect.headers?.location), 'http://127.0.0.1');
  assert.match(location.pathname, /^\/bucket\//);
  const key = location.pathname.slice('/bucket/'.length).split('/').map(decodeURIComponent).join('/');
  await deps.store.postPolicy.checkGet(key, location.searchParams);
  const object = await deps.store.get(key);
  return { redirect, body: object.body, ...(object.contentType ? { contentType: object.contentType } : {}) };
}

type ReadKind = 'get' | 'head' | 'exists' | 'list';

/** The store's reads while `act` runs, by kind (S3: GET and HEAD are GET-class requests, a list is LIST). */
async function readsDuring(deps: TestApp, act: () => Promise<unknown>): Promise<Record<ReadKind, number>> {
  const counts: Record<ReadKind, number> = { get: 0, head: 0, exists: 0, list: 0 };
  const store = deps.store as unknown as Record<ReadKind, (...a: unknown[]) => Promise<unknown>>;
  for (const kind of Object.keys(counts) as ReadKind[]) {
    const real = store[kind].bind(deps.store);
    store[kind] = (...a: unknown[]) => {
      counts[kind] += 1;
      return real(...a);
    };
  }
  try {
    await act();
  } finally {
    // The methods are the class's: removing the wrappers brings them back.
    for (const kind of Object.keys(counts)) delete store[kind as ReadKind];
  }
  return counts;
}

function json<T = Record<string, unknown>>(res: APIGatewayProxyResult): T {
  assert.match(String(res.headers?.['content-type']), /^application\/json/);
  return JSON.parse(res.body) as T;
}

async function upload(name = 'dog.jpg', data: Buffer = readFixture(name)): Promise<string> {
  const { body, contentType } = multipartBody([{ name: 'image', filename: name, data }]);
  const res = await fn.upload(httpApiEvent({ body, contentType }), lambdaContext('upload'));
  assert.equal(res.statusCode, 202, res.body);
  return (JSON.parse(res.body) as { image_id: string }).image_id;
}

const STAGE_QUEUES = [
  ['resize_queue', 'resize'],
  ['grayscale_queue', 'grayscale'],
  ['objectdetect_queue', 'detect'],
  ['tag_queue', 'tag'],
] as const;

/** Receives what waits on one queue and hands it to its handler as Lambda would. */
async function runQueue(deps: TestApp, queueName: string, receiveCount = 1): Promise<SQSBatchResponse> {
  const handler = fn[STAGE_QUEUES.find(([q]) => q === queueName)![1]];
  const messages = await deps.queue.receive(queueName, { maxMessages: 10, waitTimeSeconds: 2 });
  assert.ok(messages.length > 0, `expected a message on ${queueName}`);
  const res = await handler(
    sqsEvent(
      queueName,
      messages.map((m) => m.body),
      receiveCount,
    ),
    lambdaContext(queueName),
  );
  const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
  // Delete what succeeded, as the Lambda poller does; failures become visible again.
  await Promise.all(messages.filter((_, i) => !failed.has(`m${i}`)).map((m) => deps.queue.delete(queueName, m.receiptHandle)));
  return res;
}

async function runPipeline(deps: TestApp): Promise<void> {
  for (const [queueName] of STAGE_QUEUES) await runQueue(deps, queueName);
}

interface StatusBody {
  image_id: string;
  image_urls?: Record<string, string | null>;
  uploaded_at: string;
  state: string;
  current_stage: string | null;
  request_id?: string;
  stages: Record<
    string,
    {
      state: string;
      started_at?: string;
      finished_at?: string;
      duration_ms?: number;
      output_key?: string;
      attempt?: number;
      error?: string;
      detections?: unknown[];
    }
  >;
  detections: Array<{ label: string; score: number }>;
  error?: { stage: string; reason: string };
  images: Record<string, string | null>;
}

const DOG = [{ label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 20, height: 20 } }];

// ---- GET /images/{id} ----------------------------------------------------------------------

describe('GET /images/{id}', () => {
  it('shows a just-uploaded image: upload done, resize running (its turn), the other stages pending', async () => {
    // Prepare
    install();
    const id = await upload();
    // Act
    const res = await get(`/images/${id}`);
    // Assess
    assert.equal(res.statusCode, 200);
    const body = json<StatusBody>(res);
    assert.equal(body.image_id, id);
    assert.equal(body.state, 'processing');
    assert.equal(body.current_stage, 'resize');
    assert.equal(body.request_id, 'req-test-1');
    assert.equal(body.stages.upload!.state, 'done');
    assert.equal(body.stages.upload!.output_key, `original/${id}.jpg`);
    assert.equal(typeof body.stages.upload!.duration_ms, 'number');
    assert.deepEqual(body.stages.resize, { state: 'running' });
    for (const s of ['grayscale', 'detect', 'tag']) assert.deepEqual(body.stages[s], { state: 'pending' });
    assert.deepEqual(body.images, { original: `/images/${id}/original`, resized: null, grayscale: null, tagged: null });
    assert.deepEqual(body.detections, []);
    assert.equal(body.error, undefined);
    assert.ok(Math.abs(Date.parse(body.uploaded_at) - Date.now()) < 60_000);
  });

  it('shows the stage after the last one done as running; a done stage that writes an image writes no record (its image carries it)', async () => {
    const deps = install();
    const id = await upload();
    const writes = countingStore(deps.store);
    deps.store.put = writes.store.put.bind(writes.store);
    await runQueue(deps, 'resize_queue');
    // One write: the resized image, with resize's done record as its metadata. Nothing under status/.
    assert.deepEqual(writes.calls.writes, [`resized/${id}.jpg`]);
    assert.deepEqual(await deps.store.list('status/'), []);
    const head = await deps.store.head(`resized/${id}.jpg`);
    assert.deepEqual(Object.keys(head?.metadata ?? {}).sort(), ['attempt', 'duration-ms', 'finished-at', 'started-at']);
    const body = json<StatusBody>(await get(`/images/${id}`));
    assert.equal(body.state, 'processing');
    assert.equal(body.current_stage, 'grayscale');
    assert.deepEqual(body.stages.grayscale, { state: 'running' });
    assert.deepEqual(body.stages.detect, { state: 'pending' });
    const resize = body.stages.resize!;
    assert.deepEqual([resize.state, resize.attempt, resize.output_key], ['done', 1, `resized/${id}.jpg`]);
    assert.deepEqual(
      [resize.started_at, resize.finished_at, resize.duration_ms],
      [head?.metadata?.['started-at'], head?.metadata?.['finished-at'], Number(head?.metadata?.['duration-ms'])],
    );
    assert.ok(Date.parse(resize.finished_at!) >= Date.parse(resize.started_at!));
    assert.equal(body.images.resized, `/images/${id}/resized`);
    // On its way, before detect: the record and a HEAD of each image that may be there.
    assert.deepEqual(await readsDuring(deps, () => get(`/images/${id}`)), { get: 1, head: 2, exists: 0, list: 0 });
  });

  it('reads a photo uploaded before records were kept with images from status/<id>/<stage>.json, "running" ones included', async () => {
    // Prepare: as the pipeline left a photo then: its record without a layout version, one object per stage.
    const deps = install();
    const id = newImageId();
    const photo = { imageId: id, owner: LOCAL_OWNER };
    const original = imageKey('original', id);
    await deps.store.put(original, readFixture('dog.jpg'), { contentType: 'image/jpeg' });
    const t = new Date().toISOString();
    await writePhotoRecord(deps.store, photo, {
      stage: 'upload',
      state: 'done',
      started_at: t,
      output_key: original,
      request_id: 'req-old',
    });
    await deps.store.put(`resized/${id}.jpg`, readFixture('dog.jpg'), { contentType: 'image/jpeg' });
    await writeLegacyStatus(deps.store, id, {
      stage: 'resize',
      state: 'done',
      started_at: t,
      finished_at: t,
      duration_ms: 7,
      output_key: `resized/${id}.jpg`,
      attempt: 1,
    });
    const started = new Date().toISOString();
    await writeLegacyStatus(deps.store, id, {
      stage: 'grayscale',
      state: 'running',
      started_at: started,
      attempt: 1,
      request_id: 'req-old',
    });
    // Act: what the status API reads for it.
    let res: APIGatewayProxyResult | undefined;
    const reads = await readsDuring(deps, async () => {
      res = await get(`/images/${id}`);
    });
    const body = json<StatusBody>(res!);
    // Assess: the answers of the old layout, for the reads they cost then (the record and four objects).
    assert.equal(body.state, 'processing');
    assert.equal(body.current_stage, 'grayscale');
    assert.equal(body.request_id, 'req-old');
    assert.deepEqual(body.stages.resize, {
      state: 'done',
      started_at: t,
      finished_at: t,
      duration_ms: 7,
      output_key: `resized/${id}.jpg`,
      attempt: 1,
    });
    assert.deepEqual(body.stages.grayscale, { state: 'running', started_at: started, attempt: 1 });
    assert.deepEqual(reads, { get: 5, head: 0, exists: 0, list: 0 });
    assert.equal(body.stages.resize!.state, 'done');
    assert.equal(body.images.resized, `/images/${id}/resized`);
  });

  it('shows a stage that will be retried, with the reason of the failed attempt', async () => {
    const deps = install({
      detect: async () => {
        throw new TransientError('model host busy');
      },
    });
    const id = await upload();
    await runQueue(deps, 'resize_queue');
    await runQueue(deps, 'grayscale_queue');
    const res = await runQueue(deps, 'objectdetect_queue');
    assert.equal(res.batchItemFailures.length, 1);
    const body = json<StatusBody>(await get(`/images/${id}`));
    assert.equal(body.state, 'retrying');
    assert.equal(body.current_stage, 'detect');
    assert.equal(body.stages.detect!.state, 'retrying');
    assert.equal(body.stages.detect!.attempt, 1);
    assert.equal(body.stages.detect!.error, 'TransientError: model host busy');
    assert.equal(body.error, undefined);
  });

  it('keeps a retried stage retrying while it tries again (no record until the attempt ends), then done with its attempt', async () => {
    // Prepare: detect fails once with a fault of the moment, then works.
    let calls = 0;
    const deps = install({
      detect: async () => {
        calls += 1;
        if (calls === 1) throw new TransientError('model host busy');
        return DOG;
      },
    });
    const id = await upload();
    await runQueue(deps, 'resize_queue');
    await runQueue(deps, 'grayscale_queue');
    assert.equal((await runQueue(deps, 'objectdetect_queue')).batchItemFailures.length, 1);
    // Act: the redelivery, its second receive.
    const writes: string[] = [];
    const put = deps.store.put.bind(deps.store);
    deps.store.put = (key, body, options) => {
      writes.push(key);
      return put(key, body, options);
    };
    const during = json<StatusBody>(await get(`/images/${id}`));
    assert.equal(during.stages.detect!.state, 'retrying');
    await runQueue(deps, 'objectdetect_queue', 2);
    // Assess: one write, the photo's record, whose detect record (the detections) replaces the retrying one.
    assert.deepEqual(writes, [photoRecordKey(LOCAL_OWNER, id)]);
    const body = json<StatusBody>(await get(`/images/${id}`));
    assert.equal(body.state, 'processing');
    assert.equal(body.stages.detect!.state, 'done');
    assert.equal(body.stages.detect!.attempt, 2);
    assert.equal(body.stages.detect!.error, undefined);
    assert.deepEqual(body.stages.tag, { state: 'running' });
    assert.deepEqual(body.detections, DOG);
  });

  it('shows a failed stage with its reason, and the stages after it pending', async () => {
    const deps = install({
      detect: async () => {
        throw new UnsupportedImageError('detect: the model cannot read this image');
      },
    });
    const id = await upload();
    await runQueue(deps, 'resize_queue');
    await runQueue(deps, 'grayscale_queue');
    const writes = countingStore(deps.store);
    deps.store.put = writes.store.put.bind(writes.store);
    await runQueue(deps, 'objectdetect_queue');
    // A failure has no image to carry it: one write, the photo's record, which now holds it with its reason.
    assert.deepEqual(writes.calls.writes, [photoRecordKey(LOCAL_OWNER, id)]);
    const body = json<StatusBody>(await get(`/images/${id}`));
    assert.equal(body.state, 'failed');
    assert.equal(body.current_stage, 'detect');
    assert.equal(body.stages.detect!.state, 'failed');
    assert.equal(body.stages.detect!.error, 'UnsupportedImageError: detect: the model cannot read this image');
    assert.deepEqual(body.error, { stage: 'detect', reason: 'UnsupportedImageError: detect: the model cannot read this image' });
    assert.deepEqual(body.stages.tag, { state: 'pending' });
    assert.equal(body.images.tagged, null);
    assert.equal(body.images.grayscale, `/images/${id}/grayscale`);
    // The stages before it still read done, from their images' metadata.
    assert.deepEqual([body.stages.resize!.state, body.stages.grayscale!.state], ['done', 'done']);
    assert.equal(body.stages.grayscale!.attempt, 1);
  });

  it('shows a finished image: every stage done with times and outputs, the detections, four image URLs', async () => {
    const deps = install();
    const id = await upload();
    await runPipeline(deps);
    const body = json<StatusBody>(await get(`/images/${id}`));
    assert.equal(body.state, 'done');
    assert.equal(body.current_stage, null);
    assert.deepEqual(body.detections, DOG);
    assert.deepEqual(body.stages.detect!.detections, DOG);
    // Tag's record, read from its image, names the detections it drew, as its own record did.
    assert.deepEqual(body.stages.tag!.detections, DOG);
    for (const stage of ['resize', 'grayscale', 'detect', 'tag']) assert.equal(body.stages[stage]!.attempt, 1, stage);
    assert.equal(body.stages.resize!.output_key, `resized/${id}.jpg`);
    assert.equal(body.stages.grayscale!.output_key, `grayscale/${id}.jpg`);
    assert.equal(body.stages.tag!.output_key, `tagged/${id}.jpg`);
    for (const [name, stage] of Object.entries(body.stages)) {
      assert.equal(stage.state, 'done', name);
      assert.ok(stage.started_at && stage.finished_at && stage.duration_ms !== undefined, `${name} has times`);
      assert.ok(Date.parse(stage.finished_at) >= Date.parse(stage.started_at), `${name} finished after it started`);
    }
    assert.deepEqual(body.images, {
      original: `/images/${id}/original`,
      resized: `/images/${id}/resized`,
      grayscale: `/images/${id}/grayscale`,
      tagged: `/images/${id}/tagged`,
    });
    // What it costs: the photo's record (it holds resize's, grayscale's and detect's records) and a
    // HEAD of the tagged image (tag's); the list, one listing more.
    assert.deepEqual(await readsDuring(deps, () => get(`/images/${id}`)), { get: 1, head: 1, exists: 0, list: 0 });
    assert.deepEqual(await readsDuring(deps, () => get('/images')), { get: 1, head: 1, exists: 0, list: 1 });
  });

  it('answers 404 with a JSON reason for an unknown id', async () => {
    install();
    const id = newImageId();
    const res = await get(`/images/${id}`);
    assert.equal(res.statusCode, 404);
    assert.deepEqual(json(res), { error: { code: 'unknown_image', message: `no image with id ${id}` }, request_id: 'req-test-1' });
  });

  for (const bad of [
    'not-an-id',
    '..%2F..%2Fetc%2Fpasswd',
    '0190F5C2-8A3B-7C4D-9E5F-0123456789AB',
    '0190f5c2-8a3b-4c4d-9e5f-0123456789ab',
  ]) {
    it(`answers 400 for the malformed id ${bad}, reading nothing`, async () => {
      const deps = install();
      let reads = 0;
      for (const m of ['get', 'exists', 'head', 'list'] as const) {
        const real = deps.store[m].bind(deps.store) as (...a: unknown[]) => Promise<unknown>;
        (deps.store as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
          reads += 1;
          return real(...a);
        };
      }
      for (const path of [`/images/${bad}`, `/images/${bad}/original`]) {
        const res = await get(path);
        assert.equal(res.statusCode, 400);
        const { error } = json<{ error: { code: string; message: string } }>(res);
        assert.equal(error.code, 'invalid_image_id');
        assert.equal(
          error.message,
          `expected an image id (a UUIDv7 such as 0190f5c2-8a3b-7c4d-9e5f-0123456789ab), got ${JSON.stringify(decodeURIComponent(bad))}`,
        );
      }
      assert.equal(reads, 0);
    });
  }
});

// ---- GET /images/{id}/{kind} ---------------------------------------------------------------

describe('GET /images/{id}/{kind}', () => {
  it('redirects to a presigned path of the folder store for each image, for PRESIGN_EXPIRES_SECONDS, that key only', async () => {
    const deps = install({ env: { PRESIGN_EXPIRES_SECONDS: '120' } });
    const id = await upload();
    await runPipeline(deps);
    const original = await getImage(deps, `/images/${id}/original`);
    assert.equal(original.redirect.headers?.['cache-control'], 'no-store');
    assert.equal(original.contentType, 'image/jpeg');
    assert.deepEqual(original.body, readFixture('dog.jpg'));
    const location = new URL(String(original.redirect.headers?.location), 'http://127.0.0.1');
    const expires = Number(location.searchParams.get('X-Expires')) * 1000;
    assert.ok(
      expires > Date.now() + 110_000 && expires <= Date.now() + 121_000,
      `expires in about 120 s: ${new Date(expires).toISOString()}`,
    );
    // The signature is for that key: the same query with another key is refused.
    await assert.rejects(deps.store.postPolicy.checkGet(imageKey('tagged', id), location.searchParams), { status: 403 });
    const expected: Record<string, [number, number, number]> = { resized: [192, 144, 3], grayscale: [192, 144, 1], tagged: [768, 576, 3] };
    for (const [kind, [w, h, channels]] of Object.entries(expected)) {
      const meta = await sharp((await getImage(deps, `/images/${id}/${kind}`)).body).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', w, h, channels], kind);
    }
  });

  it('takes the original key (and its extension) from the upload record', async () => {
    const deps = install();
    const png = await sharp(readFixture('dog.jpg')).resize(64).png().toBuffer();
    const id = await upload('dog.png', png);
    const res = await getImage(deps, `/images/${id}/original`);
    assert.equal(res.contentType, 'image/png');
    assert.deepEqual(res.body, png);
  });

  it('answers 404 for an image whose stage is not done yet, and for an unknown kind or id', async () => {
    install();
    const id = await upload();
    const notReady = await get(`/images/${id}/tagged`);
    assert.equal(notReady.statusCode, 404);
    assert.deepEqual(json<{ error: unknown }>(notReady).error, {
      code: 'image_not_ready',
      message: `the tagged image of ${id} is not ready: stage tag is pending`,
    });
    const resized = await get(`/images/${id}/resized`);
    assert.deepEqual(json<{ error: unknown }>(resized).error, {
      code: 'image_not_ready',
      message: `the resized image of ${id} is not ready: stage resize is running`,
    });
    const kind = await get(`/images/${id}/thumbnail`);
    assert.equal(kind.statusCode, 404);
    assert.deepEqual(json<{ error: unknown }>(kind).error, {
      code: 'unknown_kind',
      message: 'expected one of original, resized, grayscale, tagged, got "thumbnail"',
    });
    const other = newImageId();
    const unknown = await get(`/images/${other}/original`);
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(json<{ error: unknown }>(unknown).error, { code: 'unknown_image', message: `no image with id ${other}` });
  });

  it('redirects (302) to a short-lived presigned URL when the store makes them', async () => {
    // Prepare: the folder store, plus presignGet as S3ObjectStore has it.
    const deps = install({ env: { PRESIGN_EXPIRES_SECONDS: '120' } });
    const id = await upload();
    const signed: Array<[string, number]> = [];
    const s3Like: ObjectStore = Object.assign(Object.create(deps.store) as ObjectStore, {
      presignGet: async (key: string, expires: number) => {
        signed.push([key, expires]);
        return `https://images.s3.example/${key}?X-Amz-Expires=${expires}&X-Amz-Signature=abc`;
      },
    });
    fn = lambdaFunctions({ ...deps, store: s3Like });
    // Act
    const res = await get(`/images/${id}/original`);
    // Assess
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers?.location, `https://images.s3.example/original/${id}.jpg?X-Amz-Expires=120&X-Amz-Signature=abc`);
    assert.equal(res.headers?.['cache-control'], 'no-store');
    assert.deepEqual(signed, [[`original/${id}.jpg`, 120]]);
  });
});

// ---- GET /images ---------------------------------------------------------------------------

describe('GET /images', () => {
  async function seed(deps: TestApp, ages: number[], owner = LOCAL_OWNER): Promise<string[]> {
    const now = Date.now();
    const ids: string[] = [];
    for (const age of ages) {
      const id = newImageId(now - age);
      const key = imageKey('original', id);
      await deps.store.put(key, readFixture('dog.jpg'));
      await writeUploadRecord(
        deps.store,
        { imageId: id, owner },
        {
          stage: 'upload',
          state: 'done',
          started_at: new Date(now - age).toISOString(),
          output_key: key,
        },
      );
      ids.push(id);
    }
    return ids;
  }

  it("lists the caller's recent images newest first, with their status and image URLs, up to the limit", async () => {
    const deps = install();
    // Made in a shuffled order, minutes to days old; and someone else's, newer still.
    const [m5, d3, m1, h20, s1] = await seed(deps, [5 * 60_000, 3 * 86_400_000, 60_000, 20 * 3_600_000, 1000]);
    await seed(deps, [10, 20], 'alice');
    const all = json<{ images: StatusBody[]; limit: number }>(await get('/images'));
    assert.deepEqual(
      all.images.map((i) => i.image_id),
      [s1, m1, m5, h20, d3],
    );
    assert.equal(all.limit, 20);
    assert.equal(all.images[0]!.stages.upload!.state, 'done');
    assert.equal(all.images[0]!.images.original, `/images/${s1}/original`);
    assert.match(
      all.images[0]!.image_urls!.original!,
      new RegExp(`^/bucket/original/${s1}\\.jpg\\?X-Expires=\\d+&X-Signature=[0-9a-f]{64}$`),
    );
    assert.equal(all.images[0]!.image_urls!.tagged, null);
    const two = json<{ images: StatusBody[] }>(await get('/images', { limit: '2' }));
    assert.deepEqual(
      two.images.map((i) => i.image_id),
      [s1, m1],
    );
  });

  it("reads only the caller's index: one listing of `limit` keys, whatever the bucket holds", async () => {
    const deps = install();
    await seed(deps, [1000, 2000, 3000, 4000]);
    await seed(deps, [500, 1500], 'alice');
    const listings: Array<[string, number | undefined]> = [];
    const realList = deps.store.list.bind(deps.store);
    deps.store.list = async (prefix, options) => {
      listings.push([prefix, options?.maxKeys]);
      return realList(prefix, options);
    };
    const ids = await listRecentIds(deps.store, LOCAL_OWNER, 3);
    assert.equal(ids.length, 3);
    assert.deepEqual(listings, [[photosPrefix(LOCAL_OWNER), 3]]);
  });

  for (const bad of ['0', '101', 'ten', '2.5', '-1']) {
    it(`refuses limit=${bad} with 400`, async () => {
      install();
      const res = await get('/images', { limit: bad });
      assert.equal(res.statusCode, 400);
      assert.equal(
        json<{ error: { message: string } }>(res).error.message,
        `expected limit to be a whole number from 1 to 100, got ${JSON.stringify(bad)}`,
      );
    });
  }
});

// ---- GET /metrics --------------------------------------------------------------------------

describe('GET /metrics', () => {
  it('serves per-stage counts and a latency histogram in Prometheus text format', async () => {
    // Prepare: two images through the whole pipeline, one detect retried then dead-lettered.
    let calls = 0;
    const deps = install({
      detect: async () => {
        calls += 1;
        if (calls >= 3) throw new TransientError('model host busy');
        return DOG;
      },
    });
    await upload();
    await upload();
    await runPipeline(deps);
    const third = await upload();
    await runQueue(deps, 'resize_queue');
    await runQueue(deps, 'grayscale_queue');
    await runQueue(deps, 'objectdetect_queue', 1);
    await runQueue(deps, 'objectdetect_queue', 3);
    await deps.queue.send('tag_queue', '{"not":"a tag message"}');
    await runQueue(deps, 'tag_queue');
    // Act
    const res = await get('/metrics');
    // Assess
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers?.['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      assert.ok(line, `expected a line for ${series}`);
      return Number(line.slice(series.length + 1));
    };
    assert.equal(value('pipeline_stage_processed_total{stage="upload"}'), 3);
    assert.equal(value('pipeline_stage_processed_total{stage="resize"}'), 3);
    assert.equal(value('pipeline_stage_processed_total{stage="detect"}'), 2);
    assert.equal(value('pipeline_stage_processed_total{stage="tag"}'), 2);
    assert.equal(value('pipeline_stage_retried_total{stage="detect"}'), 1);
    assert.equal(value('pipeline_stage_failed_total{stage="detect"}'), 1);
    assert.equal(value('pipeline_stage_dead_lettered_total{stage="detect"}'), 1);
    assert.equal(value('pipeline_stage_dead_lettered_total{stage="tag"}'), 1);
    assert.equal(value('pipeline_stage_failed_total{stage="resize"}'), 0);
    // Every attempt with a duration is observed: detect 2 done + 1 retried + 1 failed.
    assert.equal(value('pipeline_stage_duration_seconds_count{stage="detect"}'), 4);
    assert.equal(value('pipeline_stage_duration_seconds_bucket{stage="detect",le="+Inf"}'), 4);
    assert.ok(value('pipeline_stage_duration_seconds_sum{stage="resize"}') > 0);
    // Buckets are cumulative.
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('pipeline_stage_duration_seconds_bucket{stage="resize"'))
      .map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(
      buckets,
      [...buckets].sort((a, b) => a - b),
    );
    for (const name of ['processed', 'retried', 'failed', 'dead_lettered']) {
      assert.match(text, new RegExp(`^# TYPE pipeline_stage_${name}_total counter$`, 'm'));
      assert.match(text, new RegExp(`^# HELP pipeline_stage_${name}_total \\S`, 'm'));
    }
    assert.match(text, /^# TYPE pipeline_stage_duration_seconds histogram$/m);
    assert.ok(text.endsWith('\n'));
    assert.equal(json<StatusBody>(await get(`/images/${third}`)).stages.detect!.state, 'failed');
  });

  it('says where the metrics are when the runtime publishes EMF instead', async () => {
    const deps = install();
    fn = lambdaFunctions({ ...deps, metrics: new EmfStageMetrics({ namespace: 'Test', serviceName: 'image-pipeline' }) });
    const res = await get('/metrics');
    assert.equal(res.statusCode, 404);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'metrics_not_here');
  });
});

type EmfLine = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
};

/** What `work` prints to stdout, one parsed line each (EMF goes to stdout, as Lambda wants it). */
async function stdoutLines(work: () => unknown): Promise<EmfLine[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  return lines.map((l) => JSON.parse(l) as EmfLine);
}

describe('EmfStageMetrics', () => {
  it('prints what a stage stored as one CloudWatch embedded-metric-format line, dimensioned by stage', async () => {
    const metrics = new EmfStageMetrics({ namespace: 'ImagePipelineTest', serviceName: 'image-pipeline' });
    const emf = await stdoutLines(() => {
      metrics.recordStage('detect', 'processed', 42);
      metrics.recordStage('detect', 'processed', 40);
      // Another stage: what detect stored is printed first, so no line mixes two stages.
      metrics.recordStage('resize', 'dead-lettered');
      metrics.flush();
    });
    assert.equal(emf.length, 2);
    const [first, second] = emf;
    assert.deepEqual(first!._aws.CloudWatchMetrics[0]!.Namespace, 'ImagePipelineTest');
    assert.deepEqual(first!._aws.CloudWatchMetrics[0]!.Dimensions, [['service', 'stage']]);
    assert.deepEqual(first!._aws.CloudWatchMetrics[0]!.Metrics, [
      { Name: 'processed', Unit: 'Count' },
      { Name: 'duration', Unit: 'Milliseconds' },
    ]);
    assert.equal(first!.stage, 'detect');
    assert.deepEqual(first!.processed, [1, 1]);
    assert.deepEqual(first!.duration, [42, 40]);
    assert.equal(second!.stage, 'resize');
    assert.equal(second!.dead_lettered, 1);
    assert.equal(second!.duration, undefined);
  });

  it('is printed by the logMetrics middleware once at the end of each invocation, with a ColdStart metric', async () => {
    // Prepare: the resize function with EMF metrics, two images in one batch; an on-demand container
    // as Lambda starts one (Powertools counts a cold start only then).
    const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    let metrics: EmfStageMetrics;
    try {
      metrics = new EmfStageMetrics({ namespace: 'ImagePipelineTest', serviceName: 'image-pipeline' });
    } finally {
      if (initType === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
      else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initType;
    }
    const deps = { ...testApp({ metrics }), metrics };
    const functions = lambdaFunctions(deps);
    const bodies: string[] = [];
    for (const name of ['dog.jpg', 'horses.jpg']) {
      const id = newImageId();
      await deps.store.put(imageKey('original', id), readFixture(name));
      bodies.push(JSON.stringify({ v: 1, image_id: id, original_path: imageKey('original', id) }));
    }
    // Act: two invocations.
    const first = await stdoutLines(() => functions.resize(sqsEvent('resize_queue', bodies), lambdaContext('resize')));
    const second = await stdoutLines(() => functions.resize(sqsEvent('resize_queue', [bodies[0]!]), lambdaContext('resize')));
    // Assess: the cold start once, then one line per invocation with all its records.
    assert.deepEqual(
      first.map((l) => l._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)),
      [['ColdStart'], ['processed', 'duration']],
    );
    assert.equal(first[0]!.function_name, 'resize');
    assert.deepEqual(first[1]!.processed, [1, 1]);
    assert.equal(first[1]!.stage, 'resize');
    assert.equal(second.length, 1);
    assert.equal(second[0]!.processed, 1);
  });
});

// ---- GET / and the adapters ----------------------------------------------------------------

describe('GET / and the API adapters', () => {
  it('serves the gallery page with a CSP that allows exactly its inline script and style', async () => {
    install();
    const res = await get('/');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers?.['content-type'], 'text/html; charset=utf-8');
    const html = res.body;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    const csp = String(res.headers?.['content-security-policy']);
    assert.ok(csp.includes(`script-src ${hash(script)}`), csp);
    assert.ok(csp.includes(`style-src ${hash(style)}`), csp);
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<input type="file" id="file"[^>]* multiple/);
    assert.match(html, /<label for="file"/);
    assert.match(html, /aria-live="polite"/);
  });

  it('answers API Gateway REST (v1) events too', async () => {
    const deps = install();
    const id = await upload();
    await runQueue(deps, 'resize_queue');
    const event = {
      resource: '/images/{id}/{kind}',
      path: `/images/${id}/resized`,
      httpMethod: 'GET',
      headers: {},
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: { id, kind: 'resized' },
      stageVariables: null,
      requestContext: { requestId: 'req-rest-2' } as APIGatewayProxyEvent['requestContext'],
      body: null,
      isBase64Encoded: false,
    } satisfies APIGatewayProxyEvent;
    const res = await fn.api(event, lambdaContext('api'));
    assert.equal(res.statusCode, 302);
    assert.match(String(res.headers?.location), new RegExp(`^/bucket/resized/${id}\\.jpg\\?X-Expires=`));
  });

  it('refuses other methods (405) and unknown paths (404) with JSON reasons', async () => {
    install();
    const post = await fn.api(httpApiEvent({ method: 'DELETE', path: `/images/${newImageId()}` }), lambdaContext('api'));
    assert.equal(post.statusCode, 405);
    const nowhere = await get('/nowhere');
    assert.equal(nowhere.statusCode, 404);
    assert.match(
      json<{ error: { message: string } }>(nowhere).error.message,
      /^no route for GET \/nowhere; expected one of GET \/, GET \/images/,
    );
  });
});
