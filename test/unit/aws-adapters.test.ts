// S3ObjectStore and SqsQueue with a stubbed SDK client: how SDK errors become the pipeline's.
// The same adapters run against real servers in test/integration/s3-sqs-adapters.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, isRetryable, ObjectNotFoundError, TransientError } from '../../src/errors';
import { isTransientAwsError } from '../../src/ports/awsErrors';
import { S3ObjectStore } from '../../src/ports/S3ObjectStore';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { dlqNameFromPolicy } from '../../src/ports/SqsQueueUrls';

/** An error shaped like the SDK's service exceptions. */
function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  const error = new Error(`${name} happened`);
  error.name = name;
  Object.assign(error, { $metadata: status === undefined ? {} : { httpStatusCode: status }, ...extra });
  return error;
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });
}

/** A client whose every call answers with `answer` (thrown when it is an Error); records the commands. */
function stubClient<T>(answer: (command: { constructor: { name: string }; input: unknown }) => unknown): T & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    send: async (command: { constructor: { name: string }; input: unknown }) => {
      calls.push(command.constructor.name);
      const out = answer(command);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as T & { calls: string[] };
}

function storeFailingWith(error: Error): S3ObjectStore {
  return new S3ObjectStore({ bucket: 'images', region: 'us-east-1', client: stubClient<S3Client>(() => error) });
}

describe('AWS error classification', () => {
  it('counts throttling, 5xx, 429, timeouts and network faults as transient', () => {
    for (const error of [
      sdkError('SlowDown', 503),
      sdkError('ThrottlingException', 400),
      sdkError('InternalError', 500),
      sdkError('Whatever', 502),
      sdkError('TooManyRequests', 429),
      sdkError('TimeoutError'),
      networkError('ECONNREFUSED'),
      networkError('ECONNRESET'),
      Object.assign(new Error('wrapped'), { cause: networkError('EAI_AGAIN') }),
      sdkError('Odd', 400, { $retryable: { throttling: false } }),
    ]) {
      assert.equal(isTransientAwsError(error), true, error.name);
    }
  });

  it('counts client errors as not transient', () => {
    for (const error of [
      sdkError('AccessDenied', 403),
      sdkError('NoSuchKey', 404),
      sdkError('InvalidParameterValue', 400),
      new Error('x'),
    ]) {
      assert.equal(isTransientAwsError(error), false, error.name);
    }
  });
});

describe('S3ObjectStore error mapping (stubbed client)', () => {
  it('maps NoSuchKey and a bare 404 to ObjectNotFoundError, keeping the SDK error as cause', async () => {
    for (const error of [sdkError('NoSuchKey', 404), sdkError('NotFound', 404), sdkError('UnknownError', 404)]) {
      await assert.rejects(storeFailingWith(error).get('original/a.jpg'), (thrown: unknown) => {
        assert.ok(thrown instanceof ObjectNotFoundError);
        assert.equal(thrown.message, 'object not found: original/a.jpg');
        assert.equal(thrown.cause, error);
        return true;
      });
    }
  });

  it('maps 5xx, throttling and network faults to TransientError with the cause', async () => {
    const error = sdkError('SlowDown', 503);
    await assert.rejects(storeFailingWith(error).put('original/a.jpg', Buffer.from('x')), (thrown: unknown) => {
      assert.ok(thrown instanceof TransientError);
      assert.equal(thrown.message, 'PutObject original/a.jpg failed: SlowDown (HTTP 503): SlowDown happened');
      assert.equal(thrown.cause, error);
      assert.equal(isRetryable(thrown), true);
      return true;
    });
    await assert.rejects(storeFailingWith(networkError('ECONNREFUSED')).list('original/'), {
      name: 'TransientError',
      message: 'ListObjectsV2 original/ failed: Error: connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('maps a missing bucket to ConfigError and leaves other client errors as they are', async () => {
    await assert.rejects(storeFailingWith(sdkError('NoSuchBucket', 404)).get('original/a.jpg'), {
      name: 'ConfigError',
      message: 'GetObject original/a.jpg: bucket "images" does not exist',
    });
    const denied = sdkError('AccessDenied', 403);
    await assert.rejects(storeFailingWith(denied).get('original/a.jpg'), (thrown: unknown) => thrown === denied);
  });

  it('exists is false for a 404 and throws for anything else', async () => {
    assert.equal(await storeFailingWith(sdkError('NotFound', 404)).exists('original/a.jpg'), false);
    await assert.rejects(storeFailingWith(sdkError('InternalError', 500)).exists('original/a.jpg'), TransientError);
  });

  it('a 403 on a read (a role that may list only some prefixes) is resolved by listing exactly that key', async () => {
    // Prepare: S3 answers 403 to the read; the listing says whether the object is there.
    const denied = sdkError('AccessDenied', 403);
    const storeListing = (keys: string[] | Error) =>
      new S3ObjectStore({
        bucket: 'images',
        region: 'us-east-1',
        client: stubClient<S3Client>((command) =>
          command.constructor.name === 'ListObjectsV2Command'
            ? keys instanceof Error
              ? keys
              : { Contents: keys.map((Key) => ({ Key })) }
            : denied,
        ),
      });
    const key = 'status/0190f5c2-0000-7000-8000-000000000000/tag.json';
    // Act + Assess: not listed: missing, as a 404 would say.
    await assert.rejects(storeListing([]).get(key), (e: unknown) => e instanceof ObjectNotFoundError && e.key === key);
    assert.equal(await storeListing([]).exists(key), false);
    assert.equal(await storeListing([]).head(key), undefined);
    // Listed (a real denial), or the listing denied too: the 403 stands.
    await assert.rejects(storeListing([key]).get(key), (e: unknown) => e === denied);
    await assert.rejects(storeListing(sdkError('AccessDenied', 403)).exists(key), (e: unknown) => e === denied);
    // Only exactly that key counts.
    await assert.rejects(storeListing([`${key}.old`]).get(key), ObjectNotFoundError);
  });

  it('follows ListObjectsV2 continuation tokens', async () => {
    const pages = [
      { Contents: [{ Key: 'original/c.jpg' }, { Key: 'original/a.jpg' }], IsTruncated: true, NextContinuationToken: 't1' },
      { Contents: [{ Key: 'original/b.jpg' }], IsTruncated: false },
    ];
    const inputs: unknown[] = [];
    const client = stubClient<S3Client>((command) => {
      inputs.push(command.input);
      return pages.shift();
    });
    const store = new S3ObjectStore({ bucket: 'images', region: 'us-east-1', client, listPageSize: 2 });
    assert.deepEqual(await store.list('original/'), ['original/a.jpg', 'original/b.jpg', 'original/c.jpg']);
    assert.deepEqual(inputs, [
      { Bucket: 'images', Prefix: 'original/', MaxKeys: 2 },
      { Bucket: 'images', Prefix: 'original/', MaxKeys: 2, ContinuationToken: 't1' },
    ]);
  });

  it('refuses a bucket name S3 would refuse', () => {
    assert.throws(() => new S3ObjectStore({ bucket: 'Images_1', region: 'us-east-1' }), {
      name: 'ConfigError',
      message: 'bucket: expected an S3 bucket name (3 to 63 of a-z 0-9 . -), got "Images_1"',
    });
  });
});

describe('SqsQueue (stubbed client)', () => {
  it('looks a queue URL up once and reuses it', async () => {
    const client = stubClient<SQSClient>((command) =>
      command.constructor.name === 'GetQueueUrlCommand' ? { QueueUrl: 'http://sqs/q' } : {},
    );
    const queue = new SqsQueue({ region: 'us-east-1', client });
    await queue.send('q', 'a');
    await queue.send('q', 'b');
    assert.deepEqual(client.calls, ['GetQueueUrlCommand', 'SendMessageCommand', 'SendMessageCommand']);
  });

  it('maps a missing queue to ConfigError, and does not cache the failure', async () => {
    let exists = false;
    const client = stubClient<SQSClient>((command) => {
      if (command.constructor.name === 'GetQueueUrlCommand') {
        return exists ? { QueueUrl: 'http://sqs/q' } : sdkError('QueueDoesNotExist', 400);
      }
      return {};
    });
    const queue = new SqsQueue({ region: 'us-east-1', client });
    await assert.rejects(queue.send('q', 'a'), (thrown: unknown) => {
      assert.ok(thrown instanceof ConfigError);
      assert.equal(thrown.message, 'GetQueueUrl q: queue "q" does not exist');
      return true;
    });
    exists = true;
    await queue.send('q', 'a');
  });

  it('reads receive count and sent time from the system attributes', async () => {
    const client = stubClient<SQSClient>((command) =>
      command.constructor.name === 'GetQueueUrlCommand'
        ? { QueueUrl: 'http://sqs/q' }
        : {
            Messages: [
              {
                MessageId: 'm1',
                ReceiptHandle: 'h1',
                Body: 'b',
                Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1700000000000' },
              },
            ],
          },
    );
    const queue = new SqsQueue({ region: 'us-east-1', client });
    assert.deepEqual(await queue.receive('q', { maxMessages: 10, waitTimeSeconds: 0.5, visibilityTimeoutSeconds: 0.2 }), [
      { messageId: 'm1', receiptHandle: 'h1', body: 'b', receiveCount: 2, sentTimestamp: 1700000000000 },
    ]);
  });

  it('treats a stale receipt handle (ReceiptHandleIsInvalid) as a delete that deleted nothing', async () => {
    const client = stubClient<SQSClient>((command) =>
      command.constructor.name === 'GetQueueUrlCommand' ? { QueueUrl: 'http://sqs/q' } : sdkError('ReceiptHandleIsInvalid', 400),
    );
    await new SqsQueue({ region: 'us-east-1', client }).delete('q', 'old-handle');
  });

  it('finds the dead-letter queue name in a RedrivePolicy', () => {
    assert.equal(
      dlqNameFromPolicy('{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:resize_queue_dlq","maxReceiveCount":"3"}'),
      'resize_queue_dlq',
    );
    assert.equal(dlqNameFromPolicy(undefined), undefined);
    assert.equal(dlqNameFromPolicy('not json'), undefined);
    assert.equal(dlqNameFromPolicy('{"deadLetterTargetArn":42}'), undefined);
  });
});
