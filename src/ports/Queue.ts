/**
 * Message queues between stages, with SQS semantics: at-least-once delivery, a visibility
 * timeout, a receive count, and a dead-letter queue after `maxReceiveCount` receives.
 * Stages only `send`; runtimes (embedded, the SQS bridge) `receive` and `delete`.
 */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** How many times this message has been received, this time included (SQS ApproximateReceiveCount). */
  receiveCount: number;
  /** Epoch ms when the message was first sent. */
  sentTimestamp: number;
}

export interface ReceiveOptions {
  maxMessages?: number;
  /** Long poll: wait up to this long for a first message. */
  waitTimeSeconds?: number;
  visibilityTimeoutSeconds?: number;
}

export interface Queue {
  send(queueName: string, body: string): Promise<void>;
  receive(queueName: string, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  delete(queueName: string, receiptHandle: string): Promise<void>;
  /** Puts a message straight into the queue's dead-letter queue, with the reason (no retry). */
  deadLetter(queueName: string, body: string, reason: string): Promise<void>;
}
