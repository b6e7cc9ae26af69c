import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransientError } from '../../src/errors';
import { httpApiEvent, lambdaContext, lambdaFunctions, multipartBody, sqsEvent, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

async function upload(app: TestApp, name: string, requestId: string): Promise<string> {
  const { body, contentType } = multipartBody([{ name: 'image', filename: name, data: readFixture(name) }]);
  const event = httpApiEvent({ body, contentType });
  event.requestContext.requestId = requestId;
  const res = await lambdaFunctions(app).upload(event, lambdaContext('upload'));
  assert.equal(res.statusCode, 202, res.body);
  return (JSON.parse(res.body) as { image_id: string }).image_id;
}

/** Runs every queue until it is empty, redelivering what failed, as the Lambda poller would. */
async function drain(deps: TestApp): Promise<void> {
  const fn = lambdaFunctions(deps);
  const stages = [
    ['resize_queue', fn.resize],
    ['grayscale_queue', fn.grayscale],
    ['objectdetect_queue', fn.detect],
    ['tag_queue', fn.tag],
  ] as const;
  for (const [queueName, handler] of stages) {
    for (;;) {
      const messages = await deps.queue.receive(queueName, { maxMessages: 10, waitTimeSeconds: 0.5 });
      if (messages.length === 0) break;
      const res = await handler(
        sqsEvent(
          queueName,
          messages.map((m) => m.body),
          messages[0]!.receiveCount,
        ),
        lambdaContext(queueName),
      );
      const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      await Promise.all(messages.filter((_, i) => !failed.has(`m${i}`)).map((m) => deps.queue.delete(queueName, m.receiptHandle)));
    }
  }
}

describe('logs of one photo', () => {
  it('can be followed across all five stages by image_id, each line carrying the upload request_id', async () => {
    // Prepare: two photos from two requests; the first one's detection fails once and is retried.
    let detectCalls = 0;
    const deps = testApp({
      detect: async () => {
        detectCalls += 1;
        if (detectCalls === 1) throw new TransientError('model host busy');
        return [{ label: 'dog', score: 0.9, box: { x: 1, y: 1, width: 5, height: 5 } }];
      },
    });
    // Act
    const dog = await upload(deps, 'dog.jpg', 'req-dog');
    await drain(deps);
    const horses = await upload(deps, 'horses.jpg', 'req-horses');
    await drain(deps);
    // Assess: grep by image id, as one would with `jq 'select(.image_id == "...")'`.
    const dogLines = deps.logs.filter((l) => l.image_id === dog);
    const stagesDone = dogLines.filter((l) => l.message === 'stage done').map((l) => l.stage);
    assert.deepEqual(stagesDone, ['upload', 'resize', 'grayscale', 'detect', 'tag']);
    assert.ok(
      dogLines.some((l) => l.message === 'stage failed; will be retried' && l.stage === 'detect' && l.attempt === 1),
      'the retry is logged with the id',
    );
    for (const line of dogLines) {
      assert.equal(line.request_id, 'req-dog', JSON.stringify(line));
      // Powertools JSON lines, with the Lambda context that injectLambdaContext adds.
      assert.equal(line.service, 'image-pipeline');
      assert.match(String(line.level), /^(DEBUG|INFO|WARN|ERROR)$/);
      assert.match(String(line.function_request_id), /^[0-9a-f-]{36}$/, JSON.stringify(line));
      assert.equal(typeof line.cold_start, 'boolean');
    }
    assert.deepEqual(
      [...new Set(dogLines.map((l) => l.function_name))],
      ['upload', 'resize_queue', 'grayscale_queue', 'objectdetect_queue', 'tag_queue'],
    );
    // And by request id: every line of the upload request names its one image.
    const byRequest = deps.logs.filter((l) => l.request_id === 'req-dog');
    assert.deepEqual(byRequest, dogLines);
    const horseLines = deps.logs.filter((l) => l.image_id === horses);
    assert.deepEqual(
      horseLines.filter((l) => l.message === 'stage done').map((l) => l.stage),
      ['upload', 'resize', 'grayscale', 'detect', 'tag'],
    );
    assert.ok(horseLines.every((l) => l.request_id === 'req-horses'));
    // Every line of the pipeline belongs to one of the two photos.
    assert.deepEqual(
      deps.logs.filter((l) => l.image_id !== dog && l.image_id !== horses),
      [],
    );
  });
});
