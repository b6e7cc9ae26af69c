import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ConfigError } from '../errors';
import { awsErrorName, classifyAwsError } from './awsErrors';
import { deadLetterQueueName } from './DeadLetters';
import type { SqsQueue } from './SqsQueue';
import { checkQueueName } from './SqsQueueUrls';

/**
 * Creates each queue and its dead-letter queue `<name>_dlq`, and sets the queue's visibility
 * timeout and RedrivePolicy (existing queues are updated to match). For the dev scripts and the
 * tests, on ElasticMQ: deployments declare the queues in serverless.yml, so nothing on Lambda
 * creates a queue. The URLs and dead-letter queues it learns are kept in `queue`'s cache.
 */
export interface ProvisionQueuesOptions {
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
}

/** Dead letters are kept for SQS's longest retention, 14 days. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

export async function provisionQueues(queue: SqsQueue, names: readonly string[], options: ProvisionQueuesOptions): Promise<void> {
  for (const name of names) {
    checkQueueName(name);
    const dlq = deadLetterQueueName(name);
    checkQueueName(dlq);
    const dlqUrl = await createQueue(queue, dlq, { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) });
    const attributes = await queue.urls.call(`GetQueueAttributes ${dlq}`, dlq, () =>
      queue.client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })),
    );
    const dlqArn = attributes.Attributes?.QueueArn;
    if (!dlqArn) throw new ConfigError(`GetQueueAttributes ${dlq}: expected a QueueArn, got none`);
    const settings = {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(options.maxReceiveCount) }),
    };
    const url = await createQueue(queue, name, settings);
    // CreateQueue leaves an existing queue's attributes alone; set them so they match.
    await queue.urls.call(`SetQueueAttributes ${name}`, name, () =>
      queue.client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: settings })),
    );
    queue.urls.rememberDeadLetterQueue(name, dlq);
  }
}

async function createQueue(queue: SqsQueue, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const out = await queue.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!out.QueueUrl) throw new ConfigError(`CreateQueue ${name}: the response had no QueueUrl`);
    queue.urls.remember(name, out.QueueUrl);
    return out.QueueUrl;
  } catch (error) {
    // An existing queue with other attributes: take it as it is; the caller sets them next.
    if (awsErrorName(error) === 'QueueNameExists' || awsErrorName(error) === 'QueueAlreadyExists') {
      queue.urls.forget(name);
      return queue.urls.url(name);
    }
    throw classifyAwsError(`CreateQueue ${name}`, error);
  }
}
