import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { type DeadLetter, type DeadLetterAdmin, MAX_RECEIVE_COUNT_REASON } from './DeadLetters';
import type { PortLogger } from './PortLogger';
import { REASON_ATTRIBUTE, type SqsQueue } from './SqsQueue';

/**
 * Operating the dead-letter queues on SQS (`npm run dlq`, tests): SQS has no "list" call, so
 * listing receives every dead letter, holding each for a moment so one pass sees it once, and then
 * makes them all visible again. Dead letters without a reason attribute are the ones SQS moved
 * itself after maxReceiveCount receives, so they read as "maxReceiveCount exceeded".
 */

/** How long a listing holds the messages it reads before making them visible again. */
const LIST_HOLD_SECONDS = 30;

export class SqsDeadLetters implements DeadLetterAdmin {
  private readonly log: PortLogger;

  /** Works on the queues of `queue`, with its client and its URL cache; logs where it logs. */
  constructor(private readonly queue: SqsQueue) {
    this.log = queue.log;
  }

  /** Every dead letter of `queueName`, oldest first, none deleted. */
  async listDeadLetters(queueName: string): Promise<DeadLetter[]> {
    const dlq = await this.queue.urls.deadLetterQueueOf(queueName);
    const url = await this.queue.urls.url(dlq);
    const seen = new Map<string, DeadLetter>();
    const held: Array<{ Id: string; ReceiptHandle: string }> = [];
    try {
      for (;;) {
        const messages = await this.receiveRaw(dlq, url);
        if (messages.length === 0) break;
        let fresh = 0;
        for (const m of messages) {
          if (m.ReceiptHandle) held.push({ Id: `m${held.length}`, ReceiptHandle: m.ReceiptHandle });
          const id = m.MessageId ?? '';
          if (seen.has(id)) continue;
          fresh += 1;
          seen.set(id, toDeadLetter(m));
        }
        if (fresh === 0) break;
      }
    } finally {
      await this.release(dlq, url, held);
    }
    return [...seen.values()].sort((a, b) => a.sentTimestamp - b.sentTimestamp);
  }

  /** Moves every dead letter back to `queueName` (send, then delete: a crash in between duplicates, never loses). */
  async redriveDeadLetters(queueName: string): Promise<number> {
    const { urls, client } = this.queue;
    const dlq = await urls.deadLetterQueueOf(queueName);
    const dlqUrl = await urls.url(dlq);
    const url = await urls.url(queueName);
    let moved = 0;
    for (;;) {
      const messages = await this.receiveRaw(dlq, dlqUrl);
      if (messages.length === 0) break;
      for (const m of messages) {
        await urls.call(`SendMessage ${queueName}`, queueName, () =>
          client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: m.Body ?? '' })),
        );
        await urls.call(`DeleteMessage ${dlq}`, dlq, () =>
          client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle })),
        );
        moved += 1;
      }
    }
    if (moved > 0) this.log.info('dead letters redriven', { queue: queueName, count: moved });
    return moved;
  }

  private async receiveRaw(queueName: string, url: string): Promise<Message[]> {
    const out = await this.queue.urls.call(`ReceiveMessage ${queueName}`, queueName, () =>
      this.queue.client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: LIST_HOLD_SECONDS,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          MessageAttributeNames: [REASON_ATTRIBUTE],
        }),
      ),
    );
    return out.Messages ?? [];
  }

  /** Makes held messages visible again (ChangeMessageVisibility to 0, ten at a time). */
  private async release(queueName: string, url: string, held: Array<{ Id: string; ReceiptHandle: string }>): Promise<void> {
    for (let i = 0; i < held.length; i += 10) {
      const batch = held.slice(i, i + 10).map((h) => ({ ...h, VisibilityTimeout: 0 }));
      await this.queue.urls.call(`ChangeMessageVisibilityBatch ${queueName}`, queueName, () =>
        this.queue.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: batch })),
      );
    }
  }
}

function toDeadLetter(m: Message): DeadLetter {
  return {
    messageId: m.MessageId ?? '',
    body: m.Body ?? '',
    reason: m.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue ?? MAX_RECEIVE_COUNT_REASON,
    sentTimestamp: Number(m.Attributes?.SentTimestamp ?? 0),
  };
}
