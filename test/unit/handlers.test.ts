import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { TransientError } from '../../src/errors';
import { uploadHandler } from '../../src/lambda/uploadHandler';
import {
  apiKeysEnv,
  httpApiEvent,
  lambdaContext,
  lambdaFunctions,
  multipartBody,
  restApiEvent,
  sqsEvent,
  type TestApp,
  testApp,
} from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

/** The functions as deployed, built for the current test's app. */
let fn: ReturnType<typeof lambdaFunctions>;
function install(app: TestApp): TestApp {
  fn = lambdaFunctions(app);
  return app;
}

async function storeOriginal(deps: TestApp, name = 'dog.jpg'): Promise<{ id: string; key: string }> {
  const id = newImageId();
  const key = imageKey('original', id);
  await deps.store.put(key, readFixture(name), { contentType: 'image/jpeg' });
  return { id, key };
}

describe('upload handler', () => {
  it('accepts a multipart image (HTTP API v2): 202, original stored, resize queued', async () => {
    // Prepare
    const deps = install(testApp());
    const { body, contentType } = multipartBody([
      { name: 'image', filename: 'dog.jpg', contentType: 'image/jpeg', data: readFixture('dog.jpg') },
    ]);
    // Act
    const res = await fn.upload(httpApiEvent({ body, contentType }), lambdaContext());
    // Assess
    assert.equal(res.statusCode, 202);
    const json = JSON.parse(res.body) as { image_id: string; status_url: string; original_path: string; width: number };
    assert.equal(json.status_url, `/images/${json.image_id}`);
    assert.equal(json.original_path, `original/${json.image_id}.jpg`);
    assert.equal(json.width, 768);
    assert.deepEqual((await deps.store.get(json.original_path)).body, readFixture('dog.jpg'));
    const [msg] = await deps.queue.receive('resize_queue');
    // Version 2: the owner (AUTH=none's `local`) travels with the photo.
    assert.deepEqual(JSON.parse(msg!.body), {
      v: 2,
      owner: 'local',
      image_id: json.image_id,
      original_path: json.original_path,
      request_id: 'req-test-1',
    });
  });

  it('accepts a raw image body (REST API v1) and keeps a PNG as .png', async () => {
    const deps = install(testApp());
    const png = await sharp(readFixture('eagle.jpg')).png().toBuffer();
    const res = await fn.upload(restApiEvent({ body: png, contentType: 'image/png' }), lambdaContext());
    assert.equal(res.statusCode, 202);
    const { original_path } = JSON.parse(res.body) as { original_path: string };
    assert.match(original_path, /^original\/[0-9a-f-]{36}\.png$/);
    assert.equal(await deps.store.exists(original_path), true);
  });

  const refusals: Array<[string, () => { body?: Buffer; contentType?: string }, number, string]> = [
    [
      'a missing field',
      () => multipartBody([{ name: 'title', data: 'hello' }]),
      400,
      'expected a file in multipart field "image", got no file',
    ],
    [
      'a wrong field name',
      () => multipartBody([{ name: 'photo', filename: 'a.jpg', data: readFixture('dog.jpg') }]),
      400,
      'expected a file in multipart field "image", got file field(s) "photo"',
    ],
    [
      'several files',
      () =>
        multipartBody([
          { name: 'image', filename: 'a.jpg', data: readFixture('dog.jpg') },
          { name: 'image', filename: 'b.jpg', data: readFixture('dog.jpg') },
        ]),
      400,
      'expected one file in field "image", got 2 files',
    ],
    [
      'bytes that are not an image',
      () => ({ body: Buffer.from('not an image at all'), contentType: 'image/jpeg' }),
      415,
      'expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got 19 bytes starting 6e 6f 74 20 61 6e 20 69 that sharp cannot read',
    ],
    [
      'an empty body',
      () => ({ body: Buffer.alloc(0), contentType: 'image/jpeg' }),
      400,
      'expected image bytes in the body, got an empty body',
    ],
    [
      'a JSON body',
      () => ({ body: Buffer.from('{}'), contentType: 'application/json' }),
      415,
      'expected multipart/form-data with a file field "image", or a body with an image/* content type; got "application/json"',
    ],
    [
      'a file over the byte limit',
      () => multipartBody([{ name: 'image', filename: 'big.jpg', data: Buffer.alloc(2048, 1) }]),
      413,
      'expected an upload of at most 1024 bytes, got more; send larger photos with POST /uploads (up to 52428800 bytes)',
    ],
  ];
  for (const [what, make, status, message] of refusals) {
    it(`refuses ${what} with ${status} and a JSON reason`, async () => {
      const deps = install(testApp({ env: { MAX_UPLOAD_BYTES: what.includes('limit') ? '1024' : '10485760' } }));
      const { body, contentType } = make();
      const res = await fn.upload(httpApiEvent({ body, contentType }), lambdaContext());
      assert.equal(res.statusCode, status);
      assert.equal((JSON.parse(res.body) as { error: { message: string } }).error.message, message);
      assert.deepEqual(await deps.store.list('original/'), []);
      assert.equal(deps.queue.stats().resize_queue?.visible ?? 0, 0);
    });
  }

  it("finds the content type whatever the case of the client's header names (@middy/http-header-normalizer)", async () => {
    // Prepare: a REST (v1) event keeps the client's header case, as API Gateway passes it on.
    const app = install(testApp());
    const event = restApiEvent({ body: readFixture('dog.jpg'), contentType: 'image/jpeg' });
    event.headers = { 'Content-Type': 'image/jpeg', 'X-Forwarded-For': '127.0.0.1' };
    // Act: the adapter alone, then the function as deployed (with its middlewares).
    const bare = await uploadHandler(app)(structuredClone(event));
    const deployed = await fn.upload(structuredClone(event), lambdaContext());
    // Assess: the core reads lower-case names; only the normalizer makes them so.
    assert.equal(bare.statusCode, 415);
    assert.equal(deployed.statusCode, 202, deployed.body);
  });

  it('asks for a valid API key with AUTH=api-key, and says so in WWW-Authenticate', async () => {
    install(testApp({ env: apiKeysEnv({ alice: 'ipk_alice-key-0123456789' }) }));
    const { body, contentType } = multipartBody([{ name: 'image', filename: 'dog.jpg', data: readFixture('dog.jpg') }]);
    const denied = await fn.upload(httpApiEvent({ body, contentType }), lambdaContext());
    const wrong = await fn.upload(
      httpApiEvent({ body, contentType, headers: { 'x-api-key': 'ipk_alice-key-012345678X' } }),
      lambdaContext(),
    );
    const allowed = await fn.upload(
      httpApiEvent({ body, contentType, headers: { 'x-api-key': 'ipk_alice-key-0123456789' } }),
      lambdaContext(),
    );
    assert.equal(denied.statusCode, 401);
    assert.deepEqual(JSON.parse(denied.body).error, { code: 'unauthorized', message: 'expected an API key in the x-api-key header' });
    assert.equal(denied.headers?.['www-authenticate'], 'ApiKey realm="image-pipeline", header="x-api-key"');
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(JSON.parse(wrong.body).error, { code: 'unauthorized', message: 'expected a valid API key in the x-api-key header' });
    assert.equal(allowed.statusCode, 202, allowed.body);
  });
});

describe('SQS stage handlers', () => {
  it('resize: writes resized/<id>.jpg and sends the contract message to grayscale_queue', async () => {
    const deps = install(testApp());
    const { id, key } = await storeOriginal(deps);
    const res = await fn.resize(sqsEvent('resize_queue', [JSON.stringify({ v: 1, image_id: id, original_path: key })]), lambdaContext());
    assert.deepEqual(res, { batchItemFailures: [] });
    const meta = await sharp((await deps.store.get(imageKey('resized', id))).body).metadata();
    assert.deepEqual([meta.width, meta.height], [192, 144]);
    const [msg] = await deps.queue.receive('grayscale_queue');
    const sent = JSON.parse(msg!.body);
    // With resize's done record carried on (detect writes it into the photo's record), the same as its image's metadata.
    const head = await deps.store.head(imageKey('resized', id));
    assert.deepEqual(sent, {
      v: 1,
      image_id: id,
      original_path: key,
      path: imageKey('resized', id),
      origin_h: 576,
      origin_w: 768,
      done: {
        resize: {
          started_at: head?.metadata?.['started-at'],
          finished_at: head?.metadata?.['finished-at'],
          duration_ms: Number(head?.metadata?.['duration-ms']),
          attempt: 1,
          output_key: imageKey('resized', id),
        },
      },
    });
  });

  it('reports only the failing record of a batch (partial batch failure) and dead-letters invalid ones', async () => {
    // Prepare: one good record, one whose store read fails transiently, one invalid message.
    const deps = install(testApp());
    const good = await storeOriginal(deps);
    const flaky = await storeOriginal(deps);
    const realGet = deps.store.get.bind(deps.store);
    deps.store.get = async (k) => {
      if (k === flaky.key) throw new TransientError('S3 unavailable');
      return realGet(k);
    };
    const bodies = [
      JSON.stringify({ v: 1, image_id: good.id, original_path: good.key }),
      JSON.stringify({ v: 1, image_id: flaky.id, original_path: flaky.key }),
      JSON.stringify({ v: 1, image_id: '../../etc/passwd', original_path: 'original/../../x.jpg' }),
    ];
    // Act
    const res = await fn.resize(sqsEvent('resize_queue', bodies), lambdaContext());
    // Assess
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: 'm1' }] });
    assert.equal(await deps.store.exists(imageKey('resized', good.id)), true);
    const dead = await deps.queue.listDeadLetters('resize_queue');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.body, bodies[2]);
    assert.match(dead[0]!.reason ?? '', /^InvalidMessageError: resize message: image_id: expected a server-generated image id/);
  });

  it('keeps concurrent batches of one handler apart: each reports only its own failure', async () => {
    // Prepare: two batches, each with one good and one transiently failing record, run at once.
    const deps = install(testApp());
    const images = await Promise.all([storeOriginal(deps), storeOriginal(deps), storeOriginal(deps), storeOriginal(deps)]);
    const flaky = new Set([images[1]!.key, images[2]!.key]);
    const realGet = deps.store.get.bind(deps.store);
    deps.store.get = async (k) => {
      await new Promise((r) => setTimeout(r, 20));
      if (flaky.has(k)) throw new TransientError('S3 unavailable');
      return realGet(k);
    };
    const body = (i: number) => JSON.stringify({ v: 1, image_id: images[i]!.id, original_path: images[i]!.key });
    const a = sqsEvent('resize_queue', [body(0), body(1)]);
    const b = sqsEvent('resize_queue', [body(2), body(3)]);
    for (const [i, r] of b.Records.entries()) r.messageId = `b${i}`;
    // Act
    const [ra, rb] = await Promise.all([fn.resize(a, lambdaContext()), fn.resize(b, lambdaContext())]);
    // Assess
    assert.deepEqual(ra, { batchItemFailures: [{ itemIdentifier: 'm1' }] });
    assert.deepEqual(rb, { batchItemFailures: [{ itemIdentifier: 'b0' }] });
  });

  it('dead-letters an undecodable image at once instead of retrying it', async () => {
    const deps = install(testApp());
    const id = newImageId();
    const key = imageKey('original', id);
    await deps.store.put(key, readFixture('dog.jpg').subarray(0, 15_000));
    const res = await fn.resize(sqsEvent('resize_queue', [JSON.stringify({ v: 1, image_id: id, original_path: key })]), lambdaContext());
    assert.deepEqual(res, { batchItemFailures: [] });
    const [dead] = await deps.queue.listDeadLetters('resize_queue');
    assert.equal(
      dead!.reason,
      'UnsupportedImageError: truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (15000 bytes)',
    );
    const status = JSON.parse((await deps.store.get(`status/${id}/resize.json`)).body.toString()) as { state: string; error: string };
    assert.equal(status.state, 'failed');
  });

  it('grayscale, detect and tag chain to a tagged JPEG of the original size', async () => {
    const deps = install(testApp());
    const { id, key } = await storeOriginal(deps);
    await fn.resize(sqsEvent('resize_queue', [JSON.stringify({ v: 1, image_id: id, original_path: key })]), lambdaContext());
    const [g] = await deps.queue.receive('grayscale_queue');
    assert.deepEqual(await fn.grayscale(sqsEvent('grayscale_queue', [g!.body]), lambdaContext()), { batchItemFailures: [] });
    const gray = await sharp((await deps.store.get(imageKey('grayscale', id))).body).metadata();
    assert.deepEqual([gray.width, gray.height, gray.channels], [192, 144, 1]);
    const [d] = await deps.queue.receive('objectdetect_queue');
    assert.deepEqual(await fn.detect(sqsEvent('objectdetect_queue', [d!.body]), lambdaContext()), { batchItemFailures: [] });
    const [t] = await deps.queue.receive('tag_queue');
    const tagMsg = JSON.parse(t!.body) as { detections: unknown[]; origin_w: number };
    assert.deepEqual(tagMsg.detections, [{ label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 20, height: 20 } }]);
    assert.deepEqual(await fn.tag(sqsEvent('tag_queue', [t!.body]), lambdaContext()), { batchItemFailures: [] });
    const tagged = await sharp((await deps.store.get(imageKey('tagged', id))).body).metadata();
    assert.deepEqual([tagged.format, tagged.width, tagged.height], ['jpeg', 768, 576]);
  });

  it('detect on the 25 % grayscale copy scales boxes to the original (DETECT_SOURCE=grayscale)', async () => {
    const seen: Array<{ width?: number }> = [];
    const deps = install(
      testApp({
        env: { DETECT_SOURCE: 'grayscale' },
        detect: async (bytes) => {
          seen.push(await sharp(bytes).metadata());
          return [{ label: 'dog', score: 0.8, box: { x: 10, y: 20, width: 30, height: 40 } }];
        },
      }),
    );
    const id = newImageId();
    const gray = await sharp(readFixture('dog.jpg')).resize(192, 144).toColourspace('b-w').jpeg().toBuffer();
    await deps.store.put(imageKey('grayscale', id), gray);
    const body = JSON.stringify({
      v: 1,
      image_id: id,
      original_path: imageKey('original', id),
      path: imageKey('grayscale', id),
      resized_path: imageKey('resized', id),
      origin_h: 576,
      origin_w: 768,
    });
    await fn.detect(sqsEvent('objectdetect_queue', [body]), lambdaContext());
    assert.equal(seen[0]!.width, 192);
    const [t] = await deps.queue.receive('tag_queue');
    assert.deepEqual((JSON.parse(t!.body) as { detections: unknown[] }).detections, [
      { label: 'dog', score: 0.8, box: { x: 40, y: 80, width: 120, height: 160 } },
    ]);
  });

  it('refuses an unknown message version without retrying', async () => {
    const deps = install(testApp());
    const res = await fn.tag(sqsEvent('tag_queue', [JSON.stringify({ v: 3, image_id: newImageId() })]), lambdaContext());
    assert.deepEqual(res, { batchItemFailures: [] });
    const [dead] = await deps.queue.listDeadLetters('tag_queue');
    assert.equal(dead!.reason, 'InvalidMessageError: tag message: unknown message version 3, expected 1 or 2');
  });
});
