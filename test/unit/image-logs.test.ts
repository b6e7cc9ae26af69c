import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler as detectHandler } from '../../functions/detect/handler';
import { handler as grayscaleHandler } from '../../functions/grayscale/handler';
import { handler as resizeHandler } from '../../functions/resize/handler';
import { handler as tagHandler } from '../../functions/tag/handler';
import { handler as uploadHandler } from '../../functions/upload/handler';
import { TransientError } from '../../src/errors';
import { setRuntimeDeps } from '../../src/lambda/runtimeDeps';
import { httpApiEvent, lambdaContext, multipartBody, sqsEvent, type TestDeps, testDeps } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

afterEach(() => setRuntimeDeps(undefined));

type SqsHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;
const STAGES: Array<[string, SqsHandler]> = [
  ['resize_queue', resizeHandler as SqsHandler],
  ['grayscale_queue', grayscaleHandler as SqsHandler],
  ['objectdetect_queue', detectHandler as SqsHandler],
  ['tag_queue', tagHandler as SqsHandler],
];

async function upload(name: string, requestId: string): Promise<string> {
  const { body, contentType } = multipartBody([{ name: 'image', filename: name, data: readFixture(name) }]);
  const event = httpApiEvent({ body, contentType });
  event.requestContext.requestId = requestId;
  const res = await uploadHandler(event, lambdaContext('upload'));
  assert.equal(res.statusCode, 202, res.body);
  return (JSON.parse(res.body) as { image_id: string }).image_id;
}

/** Runs every queue until it is empty, redelivering what failed, as the Lambda poller would. */
async function drain(deps: TestDeps): Promise<void> {
  for (const [queueName, handler] of STAGES) {
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
    const deps = testDeps({
      detect: async () => {
        detectCalls += 1;
        if (detectCalls === 1) throw new TransientError('model host busy');
        return [{ label: 'dog', score: 0.9, box: { x: 1, y: 1, width: 5, height: 5 } }];
      },
    });
    setRuntimeDeps(deps);
    // Act
    const dog = await upload('dog.jpg', 'req-dog');
    await drain(deps);
    const horses = await upload('horses.jpg', 'req-horses');
    await drain(deps);
    // Assess: grep by image id, as one would with `jq 'select(.image_id == "...")'`.
    const dogLines = deps.logs.filter((l) => l.image_id === dog);
    const stagesDone = dogLines.filter((l) => l.msg === 'stage done').map((l) => l.stage);
    assert.deepEqual(stagesDone, ['upload', 'resize', 'grayscale', 'detect', 'tag']);
    assert.ok(
      dogLines.some((l) => l.msg === 'stage failed; will be retried' && l.stage === 'detect' && l.attempt === 1),
      'the retry is logged with the id',
    );
    for (const line of dogLines) assert.equal(line.request_id, 'req-dog', JSON.stringify(line));
    // And by request id: every line of the upload request names its one image.
    const byRequest = deps.logs.filter((l) => l.request_id === 'req-dog');
    assert.deepEqual(byRequest, dogLines);
    const horseLines = deps.logs.filter((l) => l.image_id === horses);
    assert.deepEqual(
      horseLines.filter((l) => l.msg === 'stage done').map((l) => l.stage),
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
