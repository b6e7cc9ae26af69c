import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../../src/logger/createLogger';
import type { Queue } from '../../src/ports/Queue';
import { QueueConsumer } from '../../src/runtime/QueueConsumer';

/**
 * What Lambda's SQS event source mapping does on AWS, for serverless-offline (which has no SQS
 * trigger, dherault/serverless-offline#612): one QueueConsumer per stage queue long-polls ElasticMQ,
 * invokes the function through serverless-offline's Lambda API
 * (`POST <lambda>/2015-03-31/functions/<service>-<stage>-<fn>/invocations`, the same call the AWS SDK
 * makes) with the SQS event, reads back the SQSBatchResponse, and deletes the messages that did not
 * fail (ReportBatchItemFailures). Failed ones reappear after the visibility timeout; the queue's
 * RedrivePolicy dead-letters them after maxReceiveCount receives.
 */
export interface BridgeRoute {
  /** The queue to poll. */
  queueName: string;
  /** The function's deployed name: `<service>-<stage>-<key>`, e.g. image-pipeline-local-resize. */
  functionName: string;
  batchSize?: number;
}

export interface SqsBridgeOptions {
  queue: Queue;
  /** serverless-offline's Lambda endpoint, e.g. http://127.0.0.1:3002 */
  lambdaEndpoint: string;
  routes: readonly BridgeRoute[];
  log: Logger;
  /** Batches in flight per queue (Lambda's concurrency). Default 1. */
  concurrency?: number;
  visibilityTimeoutSeconds?: number;
  region?: string;
}

/** Per function: what the bridge handed over and what came back. */
export interface BridgeCounts {
  invocations: number;
  /** Records handed to the function. */
  records: number;
  /** Records the function handled (not listed in batchItemFailures, invocation did not fail). */
  succeeded: number;
  /** Records reported failed, or in a batch whose invocation failed as a whole. */
  failed: number;
  /** Invocations that failed as a whole (handler threw, or the Lambda API answered an error). */
  invocationErrors: number;
}

export class InvocationError extends Error {
  override name = 'InvocationError';
}

export class SqsBridge {
  private readonly consumers: QueueConsumer[] = [];
  private readonly counts = new Map<string, BridgeCounts>();

  constructor(private readonly options: SqsBridgeOptions) {}

  start(): this {
    for (const route of this.options.routes) {
      const counts: BridgeCounts = { invocations: 0, records: 0, succeeded: 0, failed: 0, invocationErrors: 0 };
      this.counts.set(route.functionName, counts);
      const consumer = new QueueConsumer({
        queue: this.options.queue,
        queueName: route.queueName,
        batchSize: route.batchSize ?? 5,
        waitTimeSeconds: 1,
        concurrency: this.options.concurrency ?? 1,
        log: this.options.log,
        ...(this.options.visibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds: this.options.visibilityTimeoutSeconds } : {}),
        ...(this.options.region !== undefined ? { region: this.options.region } : {}),
        invoke: async (event) => {
          counts.invocations += 1;
          counts.records += event.Records.length;
          try {
            const response = await this.invoke(route.functionName, event);
            const failed = new Set((response.batchItemFailures ?? []).map((f) => f.itemIdentifier));
            counts.failed += failed.size;
            counts.succeeded += event.Records.filter((r) => !failed.has(r.messageId)).length;
            return response;
          } catch (error) {
            counts.invocationErrors += 1;
            counts.failed += event.Records.length;
            throw error;
          }
        },
      });
      this.consumers.push(consumer.start());
    }
    return this;
  }

  /** Invokes `functionName` with the event (RequestResponse) and returns its SQSBatchResponse. */
  async invoke(functionName: string, event: SQSEvent): Promise<SQSBatchResponse> {
    const url = `${this.options.lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
      body: JSON.stringify(event),
    });
    const text = await response.text();
    if (!response.ok || response.headers.get('x-amz-function-error')) {
      throw new InvocationError(
        `invoking ${functionName}: expected 200 with an SQSBatchResponse, got ${response.status}` +
          `${response.headers.get('x-amz-function-error') ? ` (function error ${response.headers.get('x-amz-function-error')})` : ''}: ${text.slice(0, 500)}`,
      );
    }
    if (text === '') return { batchItemFailures: [] };
    const parsed = JSON.parse(text) as Partial<SQSBatchResponse> | null;
    if (!parsed || !Array.isArray(parsed.batchItemFailures)) {
      throw new InvocationError(`invoking ${functionName}: expected an SQSBatchResponse, got ${text.slice(0, 200)}`);
    }
    return { batchItemFailures: parsed.batchItemFailures };
  }

  /** A copy of the counts, by function name. */
  stats(): Record<string, BridgeCounts> {
    return Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  /** Stops polling and waits for the batches in flight. */
  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.consumers.length = 0;
  }
}
