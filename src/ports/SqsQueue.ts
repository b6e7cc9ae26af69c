import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsErrorName } from './awsErrors';
import { type PortLogger, silentLogger } from './PortLogger';
import type { Queue, ReceivedMessage, ReceiveOptions } from './Queue';
import { SqsQueueUrls } from './SqsQueueUrls';

/**
 * The Queue on SQS or ElasticMQ (AWS SDK v3, JSON protocol): what the stages and the consumers use.
 * SQS itself moves a message to the dead-letter queue after `maxReceiveCount` receives (the
 * queue's RedrivePolicy); `deadLetter` sends there directly with a `reason` message attribute.
 * Operating the dead-letter queues is SqsDeadLetters; creating the queues is provisionQueues.
 */
export interface SqsQueueOptions {
  region: string;
  /** An SQS-compatible server's URL (ElasticMQ: http://127.0.0.1:9324); AWS when absent. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client, for tests that stub the SDK. */
  client?: SQSClient;
  /** Where stale deletes and dead-lettered messages are reported. Default: silent. */
  log?: PortLogger;
}

/** The message attribute that carries why a message was dead-lettered. */
export const REASON_ATTRIBUTE = 'reason';
/** SQS message attribute values are part of the 256 KiB message; a reason needs far less. */
const MAX_REASON_LENGTH = 1000;

export class SqsQueue implements Queue {
  readonly client: SQSClient;
  /** Queue URLs and dead-letter queue names, shared with SqsDeadLetters and provisionQueues. */
  readonly urls: SqsQueueUrls;
  readonly log: PortLogger;

  constructor(options: SqsQueueOptions) {
    this.client =
      options.client ??
      new SQSClient({
        region: options.region,
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        // Without timeouts a request on a connection to a server that died mid-way can hang for
        // ever and take its batch with it; with them it fails as a TransientError and is retried.
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
      });
    this.urls = new SqsQueueUrls(this.client);
    this.log = options.log ?? silentLogger;
  }

  async send(queueName: string, body: string): Promise<void> {
    const url = await this.urls.url(queueName);
    await this.urls.call(`SendMessage ${queueName}`, queueName, () =>
      this.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body })),
    );
  }

  async receive(queueName: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const url = await this.urls.url(queueName);
    const out = await this.urls.call(`ReceiveMessage ${queueName}`, queueName, () =>
      this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: options.maxMessages ?? 1,
          // SQS counts whole seconds.
          WaitTimeSeconds: Math.ceil(options.waitTimeSeconds ?? 0),
          ...(options.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: Math.ceil(options.visibilityTimeoutSeconds) } : {}),
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      ),
    );
    return (out.Messages ?? []).map(toReceived);
  }

  /**
   * Deletes a received message. A receipt handle from an earlier receive (the message came back and
   * was received again) deletes nothing: AWS accepts the call, ElasticMQ answers ReceiptHandleIsInvalid;
   * both end here as a warning, as in MemoryQueue, since the message now belongs to another receive.
   */
  async delete(queueName: string, receiptHandle: string): Promise<void> {
    const url = await this.urls.url(queueName);
    try {
      await this.urls.call(`DeleteMessage ${queueName}`, queueName, () =>
        this.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receiptHandle })),
      );
    } catch (error) {
      if (awsErrorName(error) !== 'ReceiptHandleIsInvalid') throw error;
      this.log.warn('delete ignored: the receipt handle is stale or invalid; the message will be delivered again', { queue: queueName });
    }
  }

  async deadLetter(queueName: string, body: string, reason: string): Promise<void> {
    const dlq = await this.urls.deadLetterQueueOf(queueName);
    const url = await this.urls.url(dlq);
    const value = (reason || 'unspecified').slice(0, MAX_REASON_LENGTH);
    await this.urls.call(`SendMessage ${dlq}`, dlq, () =>
      this.client.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: value } },
        }),
      ),
    );
    this.log.warn('message dead-lettered', { queue: queueName, dead_letter_queue: dlq, reason: value });
  }
}

function toReceived(m: Message): ReceivedMessage {
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
    sentTimestamp: Number(m.Attributes?.SentTimestamp ?? Date.now()),
  };
}
