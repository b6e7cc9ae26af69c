import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DetectorLoadError } from '../../src/detect/errors';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import {
  ConfigError,
  ImageTooLargeError,
  InvalidInputError,
  InvalidMessageError,
  isRetryable,
  ObjectNotFoundError,
  PipelineError,
  RuntimeLoadError,
  TransientError,
  UnsupportedImageError,
} from '../../src/errors';
import { httpApiEvent, lambdaContext, lambdaFunctions, sqsEvent, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';
import { corruptPixelsPng } from '../helpers/hostileImages';
import { MAX_CRAFTED_SCANS, progressiveJpeg } from '../helpers/progressiveJpeg';

/**
 * Which failures are retried (a batch item failure; the queue's redrive policy decides) and which
 * fail at once (dead-lettered with the reason): only bad input is terminal.
 */
/** The functions as deployed (same handlers, same middlewares), built for the current test's app. */
let fn: ReturnType<typeof lambdaFunctions>;
function install(app: TestApp): TestApp {
  fn = lambdaFunctions(app);
  return app;
}

describe('retry classification', () => {
  const retried: Array<[string, unknown]> = [
    ['a transient store or queue fault', new TransientError('S3 unavailable')],
    ['a missing model', new DetectorLoadError('model file not found: /x.onnx', 'model-missing', '/x.onnx')],
    ['an unloadable model', new DetectorLoadError('could not load the model /x.onnx', 'model-invalid', '/x.onnx')],
    ['a missing native module', new DetectorLoadError('could not load onnxruntime-node', 'runtime-unavailable', undefined)],
    ['a missing font', new RuntimeLoadError('label font not found')],
    ['a missing bucket or queue', new ConfigError('GetObject original/a.jpg: bucket "images" does not exist')],
    ['an object not (yet) in the store', new ObjectNotFoundError('original/a.jpg')],
    ['an error of no known kind', new Error('boom')],
    ['a pipeline error of no more specific kind', new PipelineError('something of the deployment')],
  ];
  for (const [what, error] of retried) {
    it(`retries ${what}`, () => assert.equal(isRetryable(error), true));
  }

  const terminal: Array<[string, unknown]> = [
    ['an invalid message', new InvalidMessageError('resize message: image_id: expected a server-generated image id')],
    ['an undecodable image', new UnsupportedImageError('resize: cannot decode image')],
    ['an oversized image', new ImageTooLargeError('image of 50000000 pixels, expected at most 40000000')],
    ['any other bad input', new InvalidInputError('bad request')],
  ];
  for (const [what, error] of terminal) {
    it(`fails ${what} at once`, () => assert.equal(isRetryable(error), false));
  }
});

describe('a deployment fault in a stage', () => {
  async function detectMessage(deps: TestApp): Promise<{ id: string; body: string }> {
    const id = newImageId();
    await deps.store.put(imageKey('original', id), readFixture('dog.jpg'));
    const body = JSON.stringify({
      v: 1,
      image_id: id,
      original_path: imageKey('original', id),
      path: imageKey('grayscale', id),
      resized_path: imageKey('resized', id),
      origin_h: 576,
      origin_w: 768,
    });
    return { id, body };
  }
  const readStatus = async (deps: TestApp, id: string, stage: string) =>
    JSON.parse((await deps.store.get(`status/${id}/${stage}.json`)).body.toString()) as { state: string; error?: string; attempt: number };
  const missingModel = new DetectorLoadError(
    'model file not found: /nowhere/ssdlite_mobilenet_v2_coco.onnx',
    'model-missing',
    '/nowhere/ssdlite_mobilenet_v2_coco.onnx',
  );

  it('a missing model is a batch item failure, the status says retrying with the reason, nothing is dead-lettered', async () => {
    // Prepare: the detector cannot load its model
    const deps = install(
      testApp({
        detect: async () => {
          throw missingModel;
        },
      }),
    );
    const { id, body } = await detectMessage(deps);
    // Act
    const res = await fn.detect(sqsEvent('objectdetect_queue', [body], 1), lambdaContext());
    // Assess
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const status = await readStatus(deps, id, 'detect');
    assert.equal(status.state, 'retrying');
    assert.equal(status.error, 'DetectorLoadError: model file not found: /nowhere/ssdlite_mobilenet_v2_coco.onnx');
    assert.deepEqual(await deps.queue.listDeadLetters('objectdetect_queue'), []);
  });

  it('on its last receive it is failed and still left to the redrive policy (not dead-lettered by the code)', async () => {
    const deps = install(
      testApp({
        detect: async () => {
          throw missingModel;
        },
      }),
    );
    const { id, body } = await detectMessage(deps);
    const res = await fn.detect(sqsEvent('objectdetect_queue', [body], deps.config.maxReceiveCount), lambdaContext());
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const status = await readStatus(deps, id, 'detect');
    assert.equal(status.state, 'failed');
    assert.equal(status.attempt, 3);
    assert.deepEqual(await deps.queue.listDeadLetters('objectdetect_queue'), []);
  });

  it('an original not (yet) in the store is retried, not dead-lettered', async () => {
    const deps = install(testApp());
    const id = newImageId();
    const body = JSON.stringify({ v: 1, image_id: id, original_path: imageKey('original', id) });
    const res = await fn.resize(sqsEvent('resize_queue', [body], 1), lambdaContext());
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const status = await readStatus(deps, id, 'resize');
    assert.equal(status.state, 'retrying');
    assert.equal(status.error, `ObjectNotFoundError: object not found: ${imageKey('original', id)}`);
    assert.deepEqual(await deps.queue.listDeadLetters('resize_queue'), []);
  });

  it('a missing bucket or queue is retried, not dead-lettered', async () => {
    const deps = install(testApp());
    const { id, body } = await detectMessage(deps);
    deps.queue.send = async (queue) => {
      throw new ConfigError(`GetQueueUrl ${queue}: queue "${queue}" does not exist`);
    };
    const res = await fn.detect(sqsEvent('objectdetect_queue', [body], 1), lambdaContext());
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: 'm0' }] });
    const status = await readStatus(deps, id, 'detect');
    assert.equal(status.state, 'retrying');
    assert.equal(status.error, 'ConfigError: GetQueueUrl tag_queue: queue "tag_queue" does not exist');
  });
});

/**
 * What a decoder, an encoder or the label drawing refuses because of the photo's own bytes or
 * size is bad input wherever it is met: each stage fails it at its first attempt with the reason
 * in its record and the message in its DLQ, never as a batch item failure (a retry). The hostile
 * images are put straight into the stage's input, as a bucket written by hand would hold them.
 */
describe('bad input at each stage: terminal at the first attempt, with its reason', () => {
  const scans883 = () => progressiveJpeg(64, 48, MAX_CRAFTED_SCANS);
  const tooManyScans =
    'ImageTooLargeError: expected a JPEG of at most 32 scans, got 883 (a progressive JPEG is decoded one pass over the whole image per scan)';
  const wide = () =>
    sharp({ create: { width: 70_000, height: 1, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
  const tooWide = 'ImageTooLargeError: expected at most 65500 pixels a side (the most a JPEG output can hold), got 70000x1';

  async function failsOnce(
    stage: 'resize' | 'grayscale' | 'detect' | 'tag',
    put: (deps: TestApp, id: string) => Promise<string>,
    reason: string,
  ): Promise<void> {
    // Prepare
    const deps = install(testApp());
    const id = newImageId();
    const body = await put(deps, id);
    const queue = { resize: 'resize_queue', grayscale: 'grayscale_queue', detect: 'objectdetect_queue', tag: 'tag_queue' }[stage];
    // Act
    const res = await fn[stage](sqsEvent(queue, [body], 1), lambdaContext());
    // Assess
    assert.deepEqual(res, { batchItemFailures: [] }, 'not retried');
    const status = await readStatus(deps, id, stage);
    assert.deepEqual([status.state, status.attempt, status.error], ['failed', 1, reason]);
    const dead = await deps.queue.listDeadLetters(queue);
    assert.deepEqual(
      dead.map((d) => d.reason),
      [reason],
    );
  }

  const readStatus = async (deps: TestApp, id: string, stage: string) =>
    JSON.parse((await deps.store.get(`status/${id}/${stage}.json`)).body.toString()) as { state: string; error?: string; attempt: number };
  const resizeMessage = (id: string, ext: 'jpg' | 'png' = 'jpg') =>
    JSON.stringify({ v: 1, image_id: id, original_path: imageKey('original', id, ext) });
  const later = (id: string, ext: 'jpg' | 'png' = 'jpg') => ({
    v: 1,
    image_id: id,
    original_path: imageKey('original', id, ext),
    path: imageKey('grayscale', id),
    resized_path: imageKey('resized', id),
    origin_h: 48,
    origin_w: 64,
  });

  it('resize: an original of 883 scans', () =>
    failsOnce(
      'resize',
      async (deps, id) => {
        await deps.store.put(imageKey('original', id), scans883());
        return resizeMessage(id);
      },
      tooManyScans,
    ));

  it('resize: an original whose pixel data does not decode', () =>
    failsOnce(
      'resize',
      async (deps, id) => {
        await deps.store.put(imageKey('original', id, 'png'), corruptPixelsPng(await sharp(readFixture('dog.jpg')).png().toBuffer()));
        return resizeMessage(id, 'png');
      },
      'UnsupportedImageError: resize: cannot decode image: damaged PNG data: the CRC of the IDAT chunk at byte 54 does not match its bytes',
    ));

  it('grayscale: a resized copy of 883 scans', () =>
    failsOnce(
      'grayscale',
      async (deps, id) => {
        await deps.store.put(imageKey('resized', id), scans883());
        const { path: _grey, resized_path: _resized, ...m } = later(id);
        return JSON.stringify({ ...m, path: imageKey('resized', id) });
      },
      tooManyScans,
    ));

  it('detect: a source of 883 scans', () =>
    failsOnce(
      'detect',
      async (deps, id) => {
        await deps.store.put(imageKey('original', id), scans883());
        return JSON.stringify(later(id));
      },
      tooManyScans,
    ));

  it('tag: an original of 70000x1, which no JPEG can hold (it was retried 3 times over 2 minutes)', () =>
    failsOnce(
      'tag',
      async (deps, id) => {
        await deps.store.put(imageKey('original', id, 'png'), await wide());
        const { path: _p, resized_path: _r, ...m } = later(id, 'png');
        return JSON.stringify({ ...m, origin_h: 1, origin_w: 70_000, detections: [] });
      },
      tooWide,
    ));

  it('upload: refused with a 4xx that names the limit, nothing stored', async () => {
    const deps = install(testApp());
    const cases: Array<[Buffer, number, string, string]> = [
      [scans883(), 413, 'too_many_scans', tooManyScans.replace('ImageTooLargeError: ', '')],
      [await wide(), 413, 'side_too_long', tooWide.replace('ImageTooLargeError: ', '')],
      [
        readFixture('dog.jpg').subarray(0, 20_000),
        422,
        'corrupt_image',
        'truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (20000 bytes)',
      ],
    ];
    for (const [bytes, status, code, message] of cases) {
      const res = await fn.upload(
        httpApiEvent({ method: 'POST', path: '/upload', body: bytes, headers: { 'content-type': 'image/png' } }),
        lambdaContext(),
      );
      assert.equal(res.statusCode, status, res.body);
      assert.deepEqual((JSON.parse(res.body) as { error: unknown }).error, { code, message });
    }
    assert.deepEqual(await deps.store.list(''), []);
  });
});
