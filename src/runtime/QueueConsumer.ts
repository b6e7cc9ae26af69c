import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../logger/createLogger';
import type { Queue } from '../ports/Queue';
import { toSqsEvent } from './sqsEvent';

/**
 * Does locally what Lambda's SQS event source mapping does on AWS: long-polls a queue, hands each
 * batch to a handler as an SQS event, and deletes the messages the handler did not report as
 * failed (ReportBatchItemFailures). Failed messages become visible again after the visibility
 * timeout, and the queue's redrive policy dead-letters them after maxReceiveCount receives.
 * Used by the embedded default (in-process queue, handler called directly) and by the SQS bridge
 * of the emulated cloud (ElasticMQ, handler invoked through serverless-offline).
 */
export interface ConsumerOptions {
  queue: Queue;
  queueName: string;
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  log: Logger;
  batchSize?: number;
  waitTimeSeconds?: number;
  visibilityTimeoutSeconds?: number;
  /** Batches handled at once (Lambda's concurrency). */
  concurrency?: number;
  region?: string;
}

export class QueueConsumer {
  private running = false;
  private loops: Promise<void>[] = [];
  private handled = 0;

  constructor(private readonly options: ConsumerOptions) {}

  start(): this {
    if (this.running) return this;
    this.running = true;
    const n = this.options.concurrency ?? 1;
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
    return this;
  }

  /** Stops polling and waits for batches in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  get messagesHandled(): number {
    return this.handled;
  }

  private async loop(): Promise<void> {
    const { queue, queueName, log } = this.options;
    let backoffMs = 100;
    while (this.running) {
      try {
        const messages = await queue.receive(queueName, {
          maxMessages: this.options.batchSize ?? 10,
          waitTimeSeconds: this.options.waitTimeSeconds ?? 1,
          visibilityTimeoutSeconds: this.options.visibilityTimeoutSeconds,
        });
        backoffMs = 100;
        if (messages.length === 0) continue;
        let failed = new Set<string>();
        try {
          const response = await this.options.invoke(toSqsEvent(queueName, messages, this.options.region));
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (error) {
          // A handler that throws fails the whole batch, as on Lambda.
          log.error('handler failed the whole batch', { queue: queueName, error, messages: messages.length });
          failed = new Set(messages.map((m) => m.messageId));
        }
        await Promise.all(messages.filter((m) => !failed.has(m.messageId)).map((m) => queue.delete(queueName, m.receiptHandle)));
        this.handled += messages.length - failed.size;
      } catch (error) {
        // The queue itself is unreachable: wait and try again, a little longer each time.
        log.warn('queue receive failed; retrying', { queue: queueName, error, retry_in_ms: backoffMs });
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(5_000, backoffMs * 2);
      }
    }
  }
}
