import path from 'node:path';
import type { Config } from '../config';
import type { DeadLetterAdmin } from './DeadLetters';
import { FsObjectStore } from './FsObjectStore';
import { MemoryQueue } from './MemoryQueue';
import type { ObjectStore } from './ObjectStore';
import type { Queue } from './Queue';
import { S3ObjectStore } from './S3ObjectStore';
import { SqsQueue } from './SqsQueue';

/**
 * The store and queue adapters the config names:
 * - `store: 's3'`: S3ObjectStore on `config.bucket` (S3_ENDPOINT and S3_FORCE_PATH_STYLE for
 *   compatible servers; credentials from the SDK's default chain);
 * - `store: 'fs'`: FsObjectStore under `<dataDir>/images`;
 * - `queue: 'sqs'`: SqsQueue (SQS_ENDPOINT for ElasticMQ);
 * - `queue: 'memory'`: MemoryQueue with config.maxReceiveCount and visibilityTimeoutSeconds, its
 *   journal under `<dataDir>/queues` so accepted messages survive a crash (one process per dataDir).
 * Nothing is created remotely here: buckets and queues come from the deployment or the dev scripts
 * (S3ObjectStore.ensureBucket, SqsQueue.ensureQueues).
 */
export interface Ports {
  store: ObjectStore;
  queue: Queue & DeadLetterAdmin;
  /** Closes the memory queue (ends waiting receives, frees its folder); a no-op for SQS. */
  close(): Promise<void>;
}

export interface CreatePortsOptions {
  /** Keep the memory queue's journal under `<dataDir>/queues`. Default true. */
  persistQueues?: boolean;
}

export function createPorts(config: Config, options: CreatePortsOptions = {}): Ports {
  const store: ObjectStore =
    config.store === 's3'
      ? new S3ObjectStore({
          bucket: config.bucket,
          region: config.aws.region,
          forcePathStyle: config.aws.forcePathStyle,
          ...(config.aws.s3Endpoint !== undefined ? { endpoint: config.aws.s3Endpoint } : {}),
        })
      : new FsObjectStore({ root: path.join(config.dataDir, 'images') });

  let queue: Queue & DeadLetterAdmin;
  let close: () => Promise<void>;
  if (config.queue === 'sqs') {
    const sqs = new SqsQueue({
      region: config.aws.region,
      ...(config.aws.sqsEndpoint !== undefined ? { endpoint: config.aws.sqsEndpoint } : {}),
    });
    queue = sqs;
    close = async () => sqs.client.destroy();
  } else {
    const memory = new MemoryQueue({
      maxReceiveCount: config.maxReceiveCount,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      ...((options.persistQueues ?? true) ? { dir: path.join(config.dataDir, 'queues') } : {}),
    });
    queue = memory;
    close = () => memory.close();
  }
  return { store, queue, close };
}
