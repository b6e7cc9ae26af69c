// Real S3- and SQS-compatible servers started by scripts/servers/: MinIO, the Versity S3 gateway and
// ElasticMQ, each driven with AWS SDK v3 the way the pipeline's adapters will drive them.
// Run: node --import tsx --test test/integration/servers.test.ts
// A first run builds the Go servers (a few minutes); later runs start each server in about a second.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type LocalS3Server,
  LocalServerError,
  type LocalSqsServer,
  ServerStartError,
  startElasticMq,
  startMinio,
  startVersity,
} from '../../scripts/servers/local-servers';

/** Long enough for a first-time build of a Go server on 2 cores; a cached start takes about a second. */
const START_TIMEOUT_MS = 20 * 60_000;
const TEST_TIMEOUT_MS = 60_000;

function s3ClientFor(server: LocalS3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
}

/** Bucket life cycle shared by every S3 server: create, put, head, get, list, delete. */
async function assertS3RoundTrip(s3: S3Client, bucket: string): Promise<void> {
  // Prepare
  const body = Buffer.from(`hello from ${bucket}\n`.repeat(100));
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  // Act
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'original/photo-1.jpg', Body: body, ContentType: 'image/jpeg' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'resized/photo-1.jpg', Body: body.subarray(0, 10) }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'original/photo-1.jpg' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'original/photo-1.jpg' }));
  const gotBody = Buffer.from(await got.Body!.transformToByteArray());
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'original/' }));
  const buckets = await s3.send(new ListBucketsCommand({}));

  // Assess
  assert.equal(head.ContentLength, body.length);
  assert.equal(head.ContentType, 'image/jpeg');
  assert.deepEqual(gotBody, body);
  assert.deepEqual(
    listed.Contents?.map((o) => [o.Key, o.Size]),
    [['original/photo-1.jpg', body.length]],
  );
  assert.ok(
    buckets.Buckets?.some((b) => b.Name === bucket),
    `ListBuckets should name ${bucket}`,
  );

  // Act: clean up, which must leave nothing behind
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'original/photo-1.jpg' }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'resized/photo-1.jpg' }));
  const afterDelete = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  assert.equal(afterDelete.KeyCount, 0);
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'original/photo-1.jpg' })),
    (error: Error) => error.name === 'NoSuchKey',
  );
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToString();
}

describe('MinIO', { timeout: START_TIMEOUT_MS + 5 * TEST_TIMEOUT_MS }, () => {
  let server: LocalS3Server;
  let s3: S3Client;

  before(
    async () => {
      server = await startMinio();
      s3 = s3ClientFor(server);
      console.log(`MinIO ready on ${server.endpoint} in ${server.readyMs} ms (data ${server.dataDir})`);
    },
    { timeout: START_TIMEOUT_MS },
  );
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('creates a bucket, puts, gets, lists and deletes an object', { timeout: TEST_TIMEOUT_MS }, async () => {
    await assertS3RoundTrip(s3, 'images');
  });

  it('keeps objects across a stop and a restart on the same port and data dir', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Prepare
    await s3.send(new CreateBucketCommand({ Bucket: 'survivor' }));
    await s3.send(new PutObjectCommand({ Bucket: 'survivor', Key: 'tagged/a.jpg', Body: 'still here' }));
    const { port, dataDir } = server;

    // Act: a clean stop, during which S3 is unreachable
    await server.stop({ keepData: true });
    assert.equal(server.running, false);
    const fresh = s3ClientFor(server); // no pooled keep-alive socket: a new connection is refused
    await assert.rejects(fresh.send(new ListBucketsCommand({})), (error: Error & { code?: string }) =>
      /ECONNREFUSED/.test(`${error.code ?? ''} ${error.message}`),
    );
    fresh.destroy();
    await server.start();
    console.log(`MinIO restarted in ${server.readyMs} ms`);

    // Assess
    assert.equal(server.port, port);
    assert.equal(server.dataDir, dataDir);
    assert.equal(await getText(s3, 'survivor', 'tagged/a.jpg'), 'still here');
  });

  it('comes back after a crash (SIGKILL) with the object written before it', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Prepare
    await s3.send(new PutObjectCommand({ Bucket: 'survivor', Key: 'tagged/b.jpg', Body: 'written before the crash' }));

    // Act
    await server.stop({ keepData: true, signal: 'SIGKILL' });
    await server.start();
    console.log(`MinIO restarted after SIGKILL in ${server.readyMs} ms`);

    // Assess
    assert.equal(await getText(s3, 'survivor', 'tagged/b.jpg'), 'written before the crash');
    assert.equal(await getText(s3, 'survivor', 'tagged/a.jpg'), 'still here');
  });

  it('refuses to start on a port that is taken, instead of probing the other server', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.equal(server.running, true);
    const second = startMinio({ port: server.port });
    second.then(
      (unexpected) => unexpected.stop(),
      () => undefined,
    ); // never leave a second server behind
    await assert.rejects(second, (error: Error) => {
      assert.ok(error instanceof ServerStartError);
      assert.equal(error.message, `Cannot start minio: port ${server.port} on 127.0.0.1 is already in use (another server still running?)`);
      return true;
    });
  });

  it('refuses credentials shorter than MinIO accepts', async () => {
    await assert.rejects(startMinio({ secretAccessKey: 'short' }), (error: Error) => {
      assert.ok(error instanceof LocalServerError);
      assert.equal(error.message, 'MinIO secret key must have at least 8 characters, got 5');
      return true;
    });
  });
});

describe('Versity S3 gateway (posix backend)', { timeout: START_TIMEOUT_MS + 2 * TEST_TIMEOUT_MS }, () => {
  let server: LocalS3Server;
  let s3: S3Client;

  before(
    async () => {
      server = await startVersity();
      s3 = s3ClientFor(server);
      console.log(`versitygw ready on ${server.endpoint} in ${server.readyMs} ms (data ${server.dataDir})`);
    },
    { timeout: START_TIMEOUT_MS },
  );
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('creates a bucket, puts, gets, lists and deletes an object', { timeout: TEST_TIMEOUT_MS }, async () => {
    await assertS3RoundTrip(s3, 'images');
  });

  it('rejects a request signed with the wrong secret', { timeout: TEST_TIMEOUT_MS }, async () => {
    const wrong = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    await assert.rejects(wrong.send(new ListBucketsCommand({})), (error: Error) => error.name === 'SignatureDoesNotMatch');
    wrong.destroy();
  });
});

describe('ElasticMQ', { timeout: START_TIMEOUT_MS + 2 * TEST_TIMEOUT_MS }, () => {
  let server: LocalSqsServer;
  let sqs: SQSClient;

  before(
    async () => {
      server = await startElasticMq();
      sqs = new SQSClient({
        endpoint: server.endpoint,
        region: server.region,
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
        maxAttempts: 1,
      });
      console.log(`ElasticMQ ready on ${server.endpoint} in ${server.readyMs} ms`);
    },
    { timeout: START_TIMEOUT_MS },
  );
  after(async () => {
    sqs?.destroy();
    await server?.stop();
  });

  it('sends, receives, changes visibility, dead-letters and deletes messages', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Prepare: a work queue whose messages go to a dead-letter queue after two receives
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'resize_queue_dlq' }));
    assert.equal(dlq.QueueUrl, `${server.endpoint}/000000000000/resize_queue_dlq`);
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
    assert.equal(dlqArn, 'arn:aws:sqs:us-east-1:000000000000:resize_queue_dlq');
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'resize_queue',
        Attributes: {
          VisibilityTimeout: '30',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
        },
      }),
    );
    const queueUrl = created.QueueUrl!;
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'resize_queue' }))).QueueUrl, queueUrl);
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    assert.deepEqual(JSON.parse(attributes.Attributes?.RedrivePolicy ?? '{}'), {
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: 2,
    });

    // Act + Assess: send and receive with attributes
    const body = JSON.stringify({ path: 'original/photo-1.jpg' });
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: { stage: { DataType: 'String', StringValue: 'upload' } },
      }),
    );
    assert.ok(sent.MessageId);
    const first = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 1,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    assert.equal(first.Messages?.length, 1);
    const message = first.Messages![0]!;
    assert.equal(message.Body, body);
    assert.equal(message.MessageId, sent.MessageId);
    assert.equal(message.MessageAttributes?.stage?.StringValue, 'upload');
    assert.equal(message.Attributes?.ApproximateReceiveCount, '1');

    // Invisible while in flight...
    const whileInFlight = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    assert.equal(whileInFlight.Messages?.length ?? 0, 0);

    // ...visible again at once when its visibility is set to 0 (what a failed record does)
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    const second = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    assert.equal(second.Messages?.[0]?.MessageId, sent.MessageId);
    assert.equal(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '2');

    // A third delivery exceeds maxReceiveCount: the message moves to the dead-letter queue
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: second.Messages![0]!.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    assert.equal(third.Messages?.length ?? 0, 0);
    const deadLettered = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 2 }));
    assert.equal(deadLettered.Messages?.[0]?.Body, body);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.QueueUrl, ReceiptHandle: deadLettered.Messages![0]!.ReceiptHandle }));

    // The ordinary path: receive then delete leaves the queue empty
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'second' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    assert.equal(received.Messages?.[0]?.Body, 'second');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.Messages![0]!.ReceiptHandle }));
    const counts = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    assert.equal(counts.Attributes?.ApproximateNumberOfMessages, '0');
    assert.equal(counts.Attributes?.ApproximateNumberOfMessagesNotVisible, '0');
  });

  it('long-polls: a receive waiting 20 s gets a message sent after 500 ms, long before its wait ends', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'tag_queue' }));
    const started = Date.now();
    const receiving = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'late' }));
    const received = await receiving;
    assert.equal(received.Messages?.[0]?.Body, 'late');
    // Half the wait: a poll that sleeps out its 20 s always fails this, a loaded machine never does.
    assert.ok(Date.now() - started < 10_000, 'the long poll should return as soon as the message arrives');
  });
});
