// The adapters against real servers: S3ObjectStore on MinIO and on the Versity S3 gateway, SqsQueue on
// ElasticMQ, held to the same contracts as FsObjectStore and MemoryQueue in the unit tests.
// Run: node --import tsx --test test/integration/s3-sqs-adapters.test.ts
// A first run builds the Go servers (minutes, cached in .bin/); later runs start each in about a second.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type LocalS3Server, type LocalSqsServer, startElasticMq, startMinio, startVersity } from '../../scripts/servers/local-servers';
import { ConfigError, ObjectNotFoundError, TransientError } from '../../src/errors';
import { createLogger } from '../../src/logger/createLogger';
import { provisionBucket } from '../../src/ports/provisionBucket';
import { provisionQueues } from '../../src/ports/provisionQueues';
import { SqsDeadLetters } from '../../src/ports/SqsDeadLetters';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { objectStoreContract } from '../helpers/objectStoreContract';
import { queueContract } from '../helpers/queueContract';
import { s3StoreOn } from '../helpers/s3Store';

let bucketCounter = 0;
function uniqueBucket(prefix: string): string {
  bucketCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${bucketCounter}`;
}

// Versity's If-None-Match is checked before the write, not with it: concurrent conditional PUTs
// may all win (seen here: 3 of 8). MinIO, the emulated cloud's store, is held to exactly one winner.
for (const [serverName, start, atomicPutIfAbsent] of [
  ['MinIO', startMinio, true],
  ['Versity S3 gateway', startVersity, false],
] as const) {
  let server: LocalS3Server | undefined;
  const startOnce = async (): Promise<LocalS3Server> => {
    server ??= await start();
    return server;
  };

  objectStoreContract(`S3ObjectStore on ${serverName}`, async () => {
    const s3 = await startOnce();
    // A small page size, so "lists more keys than one page holds" crosses ListObjectsV2 pages.
    const store = s3StoreOn(s3, uniqueBucket('contract'), { listPageSize: 3 });
    assert.equal(await provisionBucket(store), true);
    return { store, presigns: true, atomicPutIfAbsent };
  });

  describe(`S3ObjectStore specifics on ${serverName}`, () => {
    let s3: LocalS3Server;
    before(async () => {
      s3 = await startOnce();
    });
    after(async () => {
      await server?.stop();
    });

    it('provisionBucket creates the bucket once and is harmless afterwards', async () => {
      const store = s3StoreOn(s3, uniqueBucket('ensure'));
      assert.equal(await provisionBucket(store), true);
      assert.equal(await provisionBucket(store), false);
      await store.put('status/x/resize.json', Buffer.from('{}'), { contentType: 'application/json' });
      assert.deepEqual(await store.list('status/'), ['status/x/resize.json']);
    });

    it('the bucket it creates is private: an unsigned GET is refused', async () => {
      const bucket = uniqueBucket('private');
      const store = s3StoreOn(s3, bucket);
      await provisionBucket(store);
      await store.put('original/a.jpg', Buffer.from('secret'), { contentType: 'image/jpeg' });
      const response = await fetch(`${s3.endpoint}/${bucket}/original/a.jpg`);
      assert.equal(response.status, 403);
      await response.body?.cancel();
    });

    it('a missing bucket is a ConfigError that names it', async () => {
      const bucket = uniqueBucket('missing');
      const store = s3StoreOn(s3, bucket);
      await assert.rejects(store.get('original/a.jpg'), (error: unknown) => {
        // Some servers answer GetObject on a missing bucket with NoSuchBucket, others with a bare 404.
        if (error instanceof ObjectNotFoundError) return true;
        assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
        assert.equal(error.message, `GetObject original/a.jpg: bucket "${bucket}" does not exist`);
        return true;
      });
    });

    it('refuses an out-of-range presign expiry', async () => {
      const store = s3StoreOn(s3, uniqueBucket('presign'));
      await assert.rejects(store.presignGet('original/a.jpg', 0), {
        name: 'InvalidInputError',
        message: 'expiresInSeconds: expected a whole number from 1 to 604800, got 0',
      });
    });
  });
}

describe('S3ObjectStore when the server is down', () => {
  it('raises TransientError with the network error as cause', async () => {
    const s3 = await startMinio();
    const store = s3StoreOn(s3, uniqueBucket('down'), { maxAttempts: 1 });
    await provisionBucket(store);
    await s3.stop();
    await assert.rejects(store.get('original/a.jpg'), (error: unknown) => {
      assert.ok(error instanceof TransientError, `expected TransientError, got ${String(error)}`);
      assert.equal(error.retryable, true);
      assert.match(error.message, /^GetObject original\/a\.jpg failed: /);
      assert.ok(error.cause, 'expected a cause');
      return true;
    });
  });
});

describe('S3ObjectStore never logs credentials or presigned URLs', () => {
  it('keeps secrets out of every log line while working', async () => {
    const lines: string[] = [];
    const capture = createLogger({ level: 'debug', serviceName: 'test' }, { sink: (line) => lines.push(line) });
    const s3 = await startMinio();
    try {
      const store = s3StoreOn(s3, uniqueBucket('logs'));
      await provisionBucket(store, { log: capture });
      await store.put('original/a.jpg', Buffer.from('x'), { contentType: 'image/jpeg' });
      const url = await store.presignGet('original/a.jpg', 60);
      assert.ok(url);
      const text = lines.join('\n');
      assert.ok(lines.length > 0, 'expected provisionBucket to log');
      assert.ok(!text.includes(s3.secretAccessKey), 'secret key logged');
      assert.ok(!text.includes('X-Amz-Signature'), 'presigned URL logged');
    } finally {
      await s3.stop();
    }
  });
});

// ---- SQS on ElasticMQ ----------------------------------------------------------------------------

let elasticMq: LocalSqsServer | undefined;
let queueCounter = 0;
const MAX_RECEIVE_COUNT = 3;

function sqsOn(server: LocalSqsServer): SqsQueue {
  const client = new SQSClient({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  return new SqsQueue({ region: server.region, client });
}

afterEach(() => {
  if (elasticMq && !elasticMq.running) process.stderr.write(`ElasticMQ is down; its log ends:\n${elasticMq.logTail(40)}\n`);
});

queueContract('SqsQueue on ElasticMQ', async () => {
  elasticMq ??= await startElasticMq();
  const queue = sqsOn(elasticMq);
  return {
    queue,
    deadLetters: new SqsDeadLetters(queue),
    maxReceiveCount: MAX_RECEIVE_COUNT,
    visibilitySeconds: 1,
    newQueue: async () => {
      queueCounter += 1;
      const name = `contract_${process.pid}_${queueCounter}`;
      await provisionQueues(queue, [name], { maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 1 });
      return name;
    },
  };
});

describe('SqsQueue specifics on ElasticMQ', () => {
  let server: LocalSqsServer;
  let queue: SqsQueue;
  before(async () => {
    elasticMq ??= await startElasticMq();
    server = elasticMq;
    queue = sqsOn(server);
  });
  afterEach(() => {
    // A server that died under a test explains every failure after it: show why.
    if (elasticMq && !elasticMq.running) process.stderr.write(`ElasticMQ is down; its log ends:\n${elasticMq.logTail(40)}\n`);
  });
  after(async () => {
    await elasticMq?.stop();
  });

  it('provisionQueues is idempotent and updates the redrive policy of an existing queue', async () => {
    const name = `ensure_${process.pid}`;
    await provisionQueues(queue, [name], { maxReceiveCount: 5, visibilityTimeoutSeconds: 1 });
    await provisionQueues(queue, [name], { maxReceiveCount: 1, visibilityTimeoutSeconds: 1 });
    await queue.send(name, 'once');
    const [m] = await queue.receive(name, { waitTimeSeconds: 2, visibilityTimeoutSeconds: 1 });
    assert.equal(m?.receiveCount, 1);
    await new Promise((r) => setTimeout(r, 1200));
    // maxReceiveCount is now 1: the next delivery goes to the dead-letter queue.
    assert.deepEqual(await queue.receive(name, { waitTimeSeconds: 1 }), []);
    assert.deepEqual(
      (await new SqsDeadLetters(queue).listDeadLetters(name)).map((d) => [d.body, d.reason]),
      [['once', 'maxReceiveCount exceeded']],
    );
  });

  it('finds the dead-letter queue from the RedrivePolicy, whatever its name', async () => {
    // Prepare: a queue whose DLQ is not <name>_dlq, made with the SDK directly.
    const name = `custom_${process.pid}`;
    const dlq = `custom_${process.pid}_graveyard`;
    const { CreateQueueCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
    const dlqUrl = (await queue.client.send(new CreateQueueCommand({ QueueName: dlq }))).QueueUrl;
    const arn = (await queue.client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
    await queue.client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: '3' }) },
      }),
    );
    // Act
    await queue.deadLetter(name, 'body', 'why');
    // Assess: it went to the graveyard, with its reason.
    const [m] = await queue.receive(dlq, { waitTimeSeconds: 2 });
    assert.equal(m?.body, 'body');
    assert.equal((await new SqsDeadLetters(queue).listDeadLetters(name)).length, 0); // received just now, so hidden
  });

  it('a queue that does not exist is a ConfigError that names it', async () => {
    await assert.rejects(queue.send('no_such_queue', 'x'), {
      name: 'ConfigError',
      message: 'GetQueueUrl no_such_queue: queue "no_such_queue" does not exist',
    });
  });

  it('raises TransientError when the server is down', async () => {
    const other = await startElasticMq();
    const client = new SQSClient({
      endpoint: other.endpoint,
      region: other.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const q = new SqsQueue({ region: other.region, client });
    await provisionQueues(q, ['down'], { maxReceiveCount: 3, visibilityTimeoutSeconds: 1 });
    await other.stop();
    await assert.rejects(q.send('down', 'x'), (error: unknown) => {
      assert.ok(error instanceof TransientError, `expected TransientError, got ${String(error)}`);
      assert.match(error.message, /^SendMessage down failed: /);
      return true;
    });
  });
});
