import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ConfigError, InvalidInputError } from '../errors';
import { log } from '../log';
import { awsErrorName, classifyAwsError } from './awsErrors';
import { type DeadLetter, type DeadLetterAdmin, deadLetterQueueName, MAX_RECEIVE_COUNT_REASON, QUEUE_NAME_PATTERN } from './DeadLetters';
import type { Queue, ReceivedMessage, ReceiveOptions } from './Queue';

/**
 * The Queue on SQS or ElasticMQ (AWS SDK v3, JSON protocol). Queue URLs are looked up by name once
 * and cached. SQS itself moves a message to the dead-letter queue after `maxReceiveCount` receives
 * (the queue's RedrivePolicy); `deadLetter` sends there directly with a `reason` message attribute.
 * Dead letters without a reason are the ones SQS moved, so they read as "maxReceiveCount exceeded".
 */
export interface SqsQueueOptions {
  region: string;
  /** An SQS-compatible server's URL (ElasticMQ: http://127.0.0.1:9324); AWS when absent. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client, for tests that stub the SDK. */
  client?: SQSClient;
}

export interface EnsureQueuesOptions {
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
}

const REASON_ATTRIBUTE = 'reason';
/** SQS message attribute values are part of the 256 KiB message; a reason needs far less. */
const MAX_REASON_LENGTH = 1000;
/** How long listDeadLetters holds the messages it reads before making them visible again. */
const LIST_HOLD_SECONDS = 30;

export class SqsQueue implements Queue, DeadLetterAdmin {
  readonly client: SQSClient;
  private readonly urls = new Map<string, Promise<string>>();
  private readonly dlqNames = new Map<string, Promise<string>>();

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
  }

  async send(queueName: string, body: string): Promise<void> {
    const url = await this.url(queueName);
    await this.call(`SendMessage ${queueName}`, queueName, () =>
      this.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body })),
    );
  }

  async receive(queueName: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const url = await this.url(queueName);
    const out = await this.call(`ReceiveMessage ${queueName}`, queueName, () =>
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
    const url = await this.url(queueName);
    try {
      await this.call(`DeleteMessage ${queueName}`, queueName, () =>
        this.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receiptHandle })),
      );
    } catch (error) {
      if (awsErrorName(error) !== 'ReceiptHandleIsInvalid') throw error;
      log.warn('delete ignored: the receipt handle is stale or invalid; the message will be delivered again', { queue: queueName });
    }
  }

  async deadLetter(queueName: string, body: string, reason: string): Promise<void> {
    const dlq = await this.deadLetterQueueOf(queueName);
    const url = await this.url(dlq);
    const value = (reason || 'unspecified').slice(0, MAX_REASON_LENGTH);
    await this.call(`SendMessage ${dlq}`, dlq, () =>
      this.client.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageAttributes: { [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: value } },
        }),
      ),
    );
    log.warn('message dead-lettered', { queue: queueName, dead_letter_queue: dlq, reason: value });
  }

  /**
   * Reads every dead letter of `queueName` without deleting any: messages are received (hidden for a
   * moment so one pass sees each once) and then made visible again at once.
   */
  async listDeadLetters(queueName: string): Promise<DeadLetter[]> {
    const dlq = await this.deadLetterQueueOf(queueName);
    const url = await this.url(dlq);
    const seen = new Map<string, DeadLetter>();
    const held: Array<{ Id: string; ReceiptHandle: string }> = [];
    try {
      for (;;) {
        const messages = await this.receiveRaw(dlq, url, LIST_HOLD_SECONDS);
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
    const dlq = await this.deadLetterQueueOf(queueName);
    const dlqUrl = await this.url(dlq);
    const url = await this.url(queueName);
    let moved = 0;
    for (;;) {
      const messages = await this.receiveRaw(dlq, dlqUrl, LIST_HOLD_SECONDS);
      if (messages.length === 0) break;
      for (const m of messages) {
        await this.call(`SendMessage ${queueName}`, queueName, () =>
          this.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: m.Body ?? '' })),
        );
        await this.call(`DeleteMessage ${dlq}`, dlq, () =>
          this.client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle })),
        );
        moved += 1;
      }
    }
    if (moved > 0) log.info('dead letters redriven', { queue: queueName, count: moved });
    return moved;
  }

  /**
   * Creates each queue and its dead-letter queue `<name>_dlq`, and sets the queue's visibility
   * timeout and RedrivePolicy (existing queues are updated). For dev scripts and tests; deployments
   * declare the queues in serverless.yml.
   */
  async ensureQueues(names: readonly string[], options: EnsureQueuesOptions): Promise<void> {
    for (const name of names) {
      checkQueueName(name);
      const dlq = deadLetterQueueName(name);
      checkQueueName(dlq);
      const dlqUrl = await this.create(dlq, { MessageRetentionPeriod: String(14 * 24 * 3600) });
      const attributes = await this.call(`GetQueueAttributes ${dlq}`, dlq, () =>
        this.client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })),
      );
      const dlqArn = attributes.Attributes?.QueueArn;
      if (!dlqArn) throw new ConfigError(`GetQueueAttributes ${dlq}: expected a QueueArn, got none`);
      const settings = {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(options.maxReceiveCount) }),
      };
      const url = await this.create(name, settings);
      // CreateQueue leaves an existing queue's attributes alone; set them so they match.
      await this.call(`SetQueueAttributes ${name}`, name, () =>
        this.client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: settings })),
      );
      this.dlqNames.set(name, Promise.resolve(dlq));
    }
  }

  /** The URL of a queue, looked up once. */
  private url(queueName: string): Promise<string> {
    checkQueueName(queueName);
    let url = this.urls.get(queueName);
    if (!url) {
      url = this.call(`GetQueueUrl ${queueName}`, queueName, () => this.client.send(new GetQueueUrlCommand({ QueueName: queueName }))).then(
        (out) => {
          if (!out.QueueUrl) throw new ConfigError(`GetQueueUrl ${queueName}: the response had no QueueUrl`);
          return out.QueueUrl;
        },
      );
      url.catch(() => this.urls.delete(queueName)); // never cache a failure
      this.urls.set(queueName, url);
    }
    return url;
  }

  /** The dead-letter queue named by the queue's RedrivePolicy, or `<name>_dlq` when it has none. */
  private deadLetterQueueOf(queueName: string): Promise<string> {
    let name = this.dlqNames.get(queueName);
    if (!name) {
      name = (async () => {
        const url = await this.url(queueName);
        const out = await this.call(`GetQueueAttributes ${queueName}`, queueName, () =>
          this.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] })),
        );
        return dlqNameFromPolicy(out.Attributes?.RedrivePolicy) ?? deadLetterQueueName(queueName);
      })();
      name.catch(() => this.dlqNames.delete(queueName));
      this.dlqNames.set(queueName, name);
    }
    return name;
  }

  private async create(name: string, attributes: Record<string, string>): Promise<string> {
    try {
      const out = await this.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      if (!out.QueueUrl) throw new ConfigError(`CreateQueue ${name}: the response had no QueueUrl`);
      this.urls.set(name, Promise.resolve(out.QueueUrl));
      return out.QueueUrl;
    } catch (error) {
      // An existing queue with other attributes: take it as it is; ensureQueues sets them next.
      if (awsErrorName(error) === 'QueueNameExists' || awsErrorName(error) === 'QueueAlreadyExists') {
        this.urls.delete(name);
        return this.url(name);
      }
      throw classifyAwsError(`CreateQueue ${name}`, error);
    }
  }

  private async receiveRaw(queueName: string, url: string, visibilitySeconds: number): Promise<Message[]> {
    const out = await this.call(`ReceiveMessage ${queueName}`, queueName, () =>
      this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: visibilitySeconds,
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
      await this.call(`ChangeMessageVisibilityBatch ${queueName}`, queueName, () =>
        this.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: batch })),
      );
    }
  }

  /** Runs an SDK call, mapping a missing queue to ConfigError and transient faults to TransientError. */
  private async call<T>(what: string, queueName: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const name = awsErrorName(error);
      if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') {
        this.urls.delete(queueName);
        throw new ConfigError(`${what}: queue ${JSON.stringify(queueName)} does not exist`, { cause: error });
      }
      throw classifyAwsError(what, error);
    }
  }
}

function checkQueueName(name: string): void {
  if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
    throw new InvalidInputError(`queue name: expected 1 to 80 of A-Z a-z 0-9 _ -, got ${JSON.stringify(name)}`);
  }
}

/** `arn:aws:sqs:region:account:name` → name. */
export function dlqNameFromPolicy(policy: string | undefined): string | undefined {
  if (!policy) return undefined;
  try {
    const arn = (JSON.parse(policy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
    if (typeof arn !== 'string') return undefined;
    const name = arn.slice(arn.lastIndexOf(':') + 1);
    return QUEUE_NAME_PATTERN.test(name) ? name : undefined;
  } catch {
    return undefined;
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

function toDeadLetter(m: Message): DeadLetter {
  return {
    messageId: m.MessageId ?? '',
    body: m.Body ?? '',
    reason: m.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue ?? MAX_RECEIVE_COUNT_REASON,
    sentTimestamp: Number(m.Attributes?.SentTimestamp ?? 0),
  };
}
