import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
import { lambdaContext, lambdaFunctions, sqsEvent, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

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
