import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, InvalidInputError } from '../errors';
import { awsErrorName, classifyAwsError } from './awsErrors';
import { deadLetterQueueName, QUEUE_NAME_PATTERN } from './DeadLetters';

/**
 * What SqsQueue and SqsDeadLetters share on one SQS client: queue URLs looked up by name once and
 * cached, the dead-letter queue each queue's RedrivePolicy names, and the mapping of SDK errors
 * (a missing queue is a ConfigError that names it; network faults, 5xx and throttling are
 * TransientError). A failed look-up is never cached.
 */
export class SqsQueueUrls {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly dlqNames = new Map<string, Promise<string>>();

  constructor(readonly client: SQSClient) {}

  /** The URL of a queue, looked up once. */
  url(queueName: string): Promise<string> {
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
  deadLetterQueueOf(queueName: string): Promise<string> {
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

  /** A URL known without a look-up (CreateQueue returns it). */
  remember(queueName: string, url: string): void {
    this.urls.set(queueName, Promise.resolve(url));
  }

  /** A dead-letter queue known without a look-up (provisionQueues just set the RedrivePolicy). */
  rememberDeadLetterQueue(queueName: string, dlq: string): void {
    this.dlqNames.set(queueName, Promise.resolve(dlq));
  }

  forget(queueName: string): void {
    this.urls.delete(queueName);
  }

  /** Runs an SDK call on `queueName`, mapping a missing queue to ConfigError and transient faults to TransientError. */
  async call<T>(what: string, queueName: string, fn: () => Promise<T>): Promise<T> {
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

export function checkQueueName(name: string): void {
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
