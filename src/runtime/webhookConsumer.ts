import type { App } from '../app/createApp';
import { webhookHandler } from '../lambda/webhookHandler';
import { QueueConsumer } from './QueueConsumer';
import { localContext } from './sqsEvent';

/**
 * The webhook's deliverer (EVENTS=webhook): a consumer of the app's events queue that hands each
 * batch to webhookHandler (one signed POST per event, a failed one a batch item failure). A failed
 * delivery comes back when its lease ends, after WEBHOOK_RETRY_SECONDS, and the queue dead-letters
 * it after MAX_RECEIVE_COUNT tries. The one deliverer: the embedded default runs it on its memory
 * queue (startEmbedded), `npm run dev` on ElasticMQ (scripts/dev/webhookDeliverer.ts).
 * Undefined when the app has no webhook. Not started: the caller starts and stops it.
 */
export function webhookConsumer(app: App): QueueConsumer | undefined {
  if (!app.webhook) return undefined;
  const deliver = webhookHandler(app);
  return new QueueConsumer({
    queue: app.queue,
    queueName: app.webhook.queue,
    invoke: (event) => deliver(event, localContext('webhook')),
    log: app.log,
    batchSize: 10,
    waitTimeSeconds: 1,
    // The lease of a received event is the wait before its retry.
    visibilityTimeoutSeconds: app.webhook.retrySeconds,
    concurrency: 1,
    region: app.config.aws.region,
  });
}
