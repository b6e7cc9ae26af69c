import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { uploadKey } from '../../src/domain/keys';
import { parseS3Notification } from '../../src/ingest/s3Notification';
import { createPorts } from '../../src/ports/createPorts';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
import { S3ObjectStore } from '../../src/ports/S3ObjectStore';
import { SqsDeadLetters } from '../../src/ports/SqsDeadLetters';
import { SqsQueue } from '../../src/ports/SqsQueue';

describe('createPorts', () => {
  it('gives the embedded default a folder store under <dataDir>/images and a journaled memory queue', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ports-'));
    const config = loadConfig({ DATA_DIR: dataDir, MAX_RECEIVE_COUNT: '5', VISIBILITY_TIMEOUT_SECONDS: '7' });
    const ports = createPorts(config);
    assert.ok(ports.store instanceof FsObjectStore);
    assert.equal(ports.store.root, path.join(dataDir, 'images'));
    assert.ok(ports.queue instanceof MemoryQueue);
    assert.equal(ports.queue.maxReceiveCount, 5);
    assert.equal(ports.queue.visibilityTimeoutSeconds, 7);
    assert.equal(ports.queue.dir, path.join(dataDir, 'queues'));
    assert.equal(ports.deadLetters, ports.queue, 'the memory queue is its own dead-letter admin');
    await ports.queue.send('resize_queue', 'kept');
    await ports.close();
    // A restart on the same dataDir finds the message.
    const again = createPorts(config);
    assert.deepEqual(
      (await again.queue.receive('resize_queue')).map((m) => m.body),
      ['kept'],
    );
    await again.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('can keep the memory queue in memory only', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ports-'));
    const ports = createPorts(loadConfig({ DATA_DIR: dataDir }), { persistQueues: false });
    assert.equal((ports.queue as MemoryQueue).dir, undefined);
    await ports.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives the cloud S3 and SQS adapters with the configured endpoints', async () => {
    const config = loadConfig({
      STORE: 's3',
      QUEUE: 'sqs',
      BUCKET: 'my-images',
      AWS_REGION: 'eu-west-1',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      SQS_ENDPOINT: 'http://127.0.0.1:9324',
    });
    const ports = createPorts(config);
    assert.ok(ports.store instanceof S3ObjectStore);
    assert.equal(ports.store.bucket, 'my-images');
    assert.equal(await ports.store.client.config.region(), 'eu-west-1');
    assert.equal(ports.store.client.config.forcePathStyle, true);
    const s3Endpoint = await ports.store.client.config.endpoint?.();
    assert.equal(s3Endpoint?.hostname, '127.0.0.1');
    assert.equal(s3Endpoint?.port, 9000);
    assert.ok(ports.queue instanceof SqsQueue);
    const sqsEndpoint = await ports.queue.client.config.endpoint?.();
    assert.equal(sqsEndpoint?.port, 9324);
    assert.ok(ports.deadLetters instanceof SqsDeadLetters);
    await ports.close();
  });
});

describe('what the adapters can do, as the app sees it', () => {
  it('a folder store checks its own forms and sweeps its temporary files, so its app announces its writes on ingest_queue', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ports-'));
    const app = createApp({ config: loadConfig({ DATA_DIR: dataDir }), persistQueues: false, detector: async () => [] });
    try {
      assert.equal(typeof app.store.checkPost, 'function');
      assert.equal(typeof app.store.sweepTemporaryFiles, 'function');
      assert.equal(app.store.createBucket, undefined);
      assert.equal(app.metrics.render !== undefined && app.metrics.emf === undefined, true, 'Prometheus metrics, no EMF');
      // Prepare: an upload written as POST /bucket writes it
      const key = uploadKey(newImageId(), 'jpg');
      await app.store.put(key, Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
      // Act
      await app.announceCreated!(key);
      // Assess: the notification S3 would send, on ingest_queue
      const [message] = await app.queue.receive(app.config.queues.ingest);
      const notification = parseS3Notification(message!.body);
      assert.deepEqual(notification, { kind: 'records', created: [{ bucket: 'images', key, size: 10 }], otherEvents: [] });
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('an S3 store creates its bucket (tools) and notifies by itself: its app announces nothing; Lambda metrics are EMF', async () => {
    const app = createApp({
      config: loadConfig({
        STORE: 's3',
        QUEUE: 'sqs',
        METRICS: 'emf',
        S3_ENDPOINT: 'http://127.0.0.1:9',
        SQS_ENDPOINT: 'http://127.0.0.1:9',
      }),
      detector: async () => [],
    });
    try {
      assert.equal(typeof app.store.createBucket, 'function');
      assert.equal(app.store.checkPost, undefined);
      assert.equal(app.store.sweepTemporaryFiles, undefined);
      assert.equal(app.announceCreated, undefined);
      assert.ok(app.metrics.emf, 'the Powertools Metrics the Lambda middleware prints');
      assert.equal(app.metrics.render, undefined);
    } finally {
      await app.close();
    }
  });
});
