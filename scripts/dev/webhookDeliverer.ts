/**
 * Completion events on the emulated cloud (`npm run dev -- --webhook-url …`, or WEBHOOK_URL, with
 * WEBHOOK_SECRET): the offline functions run with EVENTS=webhook, so the tag stage (and a stage that
 * fails a photo) queues each event on ElasticMQ's `events_queue` (created here with its `_dlq` and
 * RedrivePolicy, as the stage queues are, and a visibility timeout of WEBHOOK_RETRY_SECONDS); one
 * deliverer consumes that queue and POSTs each event, signed, to the webhook. A delivery that fails
 * comes back after WEBHOOK_RETRY_SECONDS; after MAX_RECEIVE_COUNT tries it waits in
 * `events_queue_dlq` (`npm run dlq -- list`, `redrive --queue events`).
 *
 * The deliverer runs in the dev stack's own process, not as a serverless-offline function fed by the
 * SQS bridge, because:
 * - it is the embedded default's deliverer itself (src/runtime/webhookConsumer.ts: the same consumer,
 *   handler and signed POST), so what the embedded tests prove of it holds here; a function would
 *   need a functions/webhook bundle and the bridge's extra hop for the same code;
 * - it is not a Lambda function anywhere else: AWS and the deployed stack publish to EventBridge, so a
 *   `webhook` function in serverless.yml would be packaged, given a role and deployed on every stage
 *   without ever running (serverless.yml has no per-stage functions);
 * - serverless-offline would start one more worker for it, with its own cold start, for what is one
 *   HTTP request per event.
 */

import { createApp } from '../../src/app/createApp';
import type { Config } from '../../src/config';
import type { LogSink } from '../../src/logger/createLogger';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import { provisionQueues } from '../../src/ports/provisionQueues';
import { SqsDeadLetters } from '../../src/ports/SqsDeadLetters';
import type { SqsQueue } from '../../src/ports/SqsQueue';
import { webhookConsumer } from '../../src/runtime/webhookConsumer';

export interface DevWebhook {
  /** Where each event is POSTed (http or https). */
  url: string;
  /** The HMAC-SHA256 key of the signature header (16 characters or more). */
  secret: string;
  /** The wait before a failed delivery is tried again (the events queue's visibility timeout). Default WEBHOOK_RETRY_SECONDS, else 30. */
  retrySeconds?: number;
  /** The deliverer's log lines (Powertools JSON); stdout by default. */
  onLog?: LogSink;
}

/**
 * The events settings of the dev stack's config and of the offline functions (serverless.yml's
 * `local` stage reads them): EVENTS=webhook and the webhook, or EVENTS=off and none — whatever the
 * shell says, so that the functions and the deliverer always agree. The events queue is the default
 * name on both sides (serverless.yml passes no EVENTS_QUEUE).
 */
export function webhookEnvironment(webhook: DevWebhook | undefined): Record<string, string> {
  if (!webhook) return { EVENTS: 'off', WEBHOOK_URL: '', WEBHOOK_SECRET: '', EVENTS_QUEUE: '' };
  return {
    EVENTS: 'webhook',
    WEBHOOK_URL: webhook.url,
    WEBHOOK_SECRET: webhook.secret,
    EVENTS_QUEUE: '',
    ...(webhook.retrySeconds !== undefined ? { WEBHOOK_RETRY_SECONDS: String(webhook.retrySeconds) } : {}),
  };
}

/**
 * `npm run dev`'s webhook, from a config that has read `--webhook-url` (else WEBHOOK_URL),
 * WEBHOOK_SECRET and WEBHOOK_RETRY_SECONDS and checked them; undefined unless EVENTS is webhook
 * (the default when a URL is given).
 */
export function devWebhookFrom(config: Config): DevWebhook | undefined {
  const { target, webhookUrl, webhookSecret, webhookRetrySeconds } = config.events;
  if (target !== 'webhook' || webhookUrl === undefined || webhookSecret === undefined) return undefined;
  return { url: webhookUrl, secret: webhookSecret, retrySeconds: webhookRetrySeconds };
}

export interface WebhookDeliverer {
  /** The events queue it consumes (its dead letters are in `<queue>_dlq`). */
  queue: string;
  /** Stops taking events and waits for the deliveries in flight. */
  stop(): Promise<void>;
}

export interface WebhookDelivererOptions {
  /** The dev stack's config, loaded with webhookEnvironment(webhook). */
  config: Config;
  /** The dev stack's ElasticMQ client. */
  queue: SqsQueue;
  store: ObjectStore;
  onLog?: LogSink;
}

/** Creates the events queue (and its DLQ) and starts the deliverer on it. */
export async function startWebhookDeliverer(o: WebhookDelivererOptions): Promise<WebhookDeliverer> {
  const { config, queue } = o;
  if (config.events.target !== 'webhook') throw new Error(`startWebhookDeliverer: expected EVENTS=webhook, got ${config.events.target}`);
  await provisionQueues(queue, [config.events.queue], {
    maxReceiveCount: config.maxReceiveCount,
    visibilityTimeoutSeconds: config.events.webhookRetrySeconds,
  });
  // An app of the deliverer's own: the dev stack's store and queue (closed by the dev stack), no detector.
  const app = createApp({
    config,
    ports: { store: o.store, queue, deadLetters: new SqsDeadLetters(queue), close: async () => undefined },
    detector: () => Promise.reject(new Error('the webhook deliverer runs no stage')),
    ...(o.onLog ? { logSink: o.onLog } : {}),
  });
  const consumer = webhookConsumer(app);
  if (!consumer) throw new Error('startWebhookDeliverer: the app has no webhook (WEBHOOK_URL and WEBHOOK_SECRET)');
  consumer.start();
  return {
    queue: config.events.queue,
    async stop() {
      await consumer.stop();
      await app.close();
    },
  };
}
