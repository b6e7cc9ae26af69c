/**
 * Operating the dead-letter queues: what is there and why, and putting it back. The memory queue
 * implements this beside `Queue` (MemoryQueue); on SQS it is SqsDeadLetters, over an SqsQueue
 * (createPorts hands out either as `deadLetters`). The dead-letter queue of `<name>` is `<name>_dlq`
 * unless the queue's redrive policy names another.
 */
export interface DeadLetter {
  messageId: string;
  body: string;
  /** Why the message was dead-lettered ("maxReceiveCount exceeded" or the consumer's reason). */
  reason?: string;
  /** Epoch ms when the message entered the dead-letter queue. */
  sentTimestamp: number;
}

export interface DeadLetterAdmin {
  /** The dead letters of `queueName`, oldest first, left in place. */
  listDeadLetters(queueName: string): Promise<DeadLetter[]>;
  /** Moves every dead letter of `queueName` back onto it as a fresh message; returns how many. */
  redriveDeadLetters(queueName: string): Promise<number>;
}

export const DLQ_SUFFIX = '_dlq';
export const MAX_RECEIVE_COUNT_REASON = 'maxReceiveCount exceeded';

export function deadLetterQueueName(queueName: string): string {
  return `${queueName}${DLQ_SUFFIX}`;
}

/** SQS queue names: 1 to 80 of [A-Za-z0-9_-] (".fifo" queues are not used here). */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
