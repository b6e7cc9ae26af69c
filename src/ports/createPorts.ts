import path from 'node:path';
import type { Config } from '../config';
import type { DeadLetterAdmin } from './DeadLetters';
import { FsObjectStore } from './FsObjectStore';
import { MemoryQueue } from './MemoryQueue';
import type { ObjectStore } from './ObjectStore';
import { type PortLogger, silentLogger } from './PortLogger';
import type { Queue } from './Queue';
import { S3ObjectStore } from './S3ObjectStore';
import { SqsDeadLetters } from './SqsDeadLetters';
import { SqsQueue } from './SqsQueue';

/**
 * The store and queue adapters the config names:
 * - `store: 's3'`: S3ObjectStore on `config.bucket` (S3_ENDPOINT and S3_FORCE_PATH_STYLE for
 *   compatible servers; credentials from the SDK's default chain);
 * - `store: 'fs'`: FsObjectStore under `<dataDir>/images`;
 * - `queue: 'sqs'`: SqsQueue (SQS_ENDPOINT for ElasticMQ), its dead letters through SqsDeadLetters;
 * - `queue: 'memory'`: MemoryQueue with config.maxReceiveCount and visibilityTimeoutSeconds, its
 *   journal under `<dataDir>/queues` so accepted messages survive a crash (one process per dataDir);
 *   it is its own DeadLetterAdmin.
 * Nothing is created remotely here: buckets and queues come from the deployment or the dev scripts
 * (provisionBucket, provisionQueues).
 */
export interface Ports {
  store: ObjectStore;
  queue: Queue;
  /** Listing and redriving the queues' dead letters (`npm run dlq`). */
  deadLetters: DeadLetterAdmin;
  /** Closes the memory queue (ends waiting receives, frees its folder); destroys the SQS client. */
  close(): Promise<void>;
}

export interface CreatePortsOptions {
  /** Keep the memory queue's journal under `<dataDir>/queues`. Default true. */
  persistQueues?: boolean;
  /** The adapters' logger (the composition root's); silent when absent. */
  log?: PortLogger;
}

export function createPorts(config: Config, options: CreatePortsOptions = {}): Ports {
  const log = options.log ?? silentLogger;
  const store: ObjectStore =
    config.store === 's3'
      ? new S3ObjectStore({
          bucket: config.bucket,
          region: config.aws.region,
          forcePathStyle: config.aws.forcePathStyle,
          ...(config.aws.s3Endpoint !== undefined ? { endpoint: config.aws.s3Endpoint } : {}),
        })
      : new FsObjectStore({ root: path.join(config.dataDir, 'images') });

  if (config.queue === 'sqs') {
    const sqs = new SqsQueue({
      region: config.aws.region,
      log,
      ...(config.aws.sqsEndpoint !== undefined ? { endpoint: config.aws.sqsEndpoint } : {}),
    });
    return { store, queue: sqs, deadLetters: new SqsDeadLetters(sqs), close: async () => sqs.client.destroy() };
  }
  const memory = new MemoryQueue({
    maxReceiveCount: config.maxReceiveCount,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    log,
    ...((options.persistQueues ?? true) ? { dir: path.join(config.dataDir, 'queues') } : {}),
  });
  return { store, queue: memory, deadLetters: memory, close: () => memory.close() };
}
