import type { PipelineEvent } from '../domain/imageEvents';
import { errorReason, TransientError } from '../errors';
import { type EventPublisher, eventEnvelope } from './EventPublisher';
import type { Queue } from './Queue';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from './webhookSignature';

/**
 * Completion events for a webhook, with the retries of every stage: `publish` only queues the
 * event's JSON on the events queue (memory or SQS); the deliverer (`deliverWebhook`, run by the
 * embedded runtime's consumer of that queue) POSTs it, signed, and throws on anything but a 2xx,
 * so the message comes back after the queue's visibility timeout (WEBHOOK_RETRY_SECONDS) and, after
 * MAX_RECEIVE_COUNT tries, waits in `<events queue>_dlq` for `npm run dlq -- redrive`. A receiver
 * that is down for a while gets every event once it is back, each signed afresh.
 */
export class WebhookPublisher implements EventPublisher {
  constructor(
    private readonly queue: Queue,
    private readonly queueName: string,
    private readonly region: string,
  ) {}

  async publish(event: PipelineEvent): Promise<void> {
    await this.queue.send(this.queueName, JSON.stringify(eventEnvelope(event, this.region)));
  }
}

export class WebhookDeliveryError extends TransientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebhookDeliveryError';
  }
}

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Tests: a clock in Unix seconds. */
  nowSeconds?: () => number;
}

/** The URL without its query and credentials, for messages (a query may carry a receiver's token). */
export function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** POSTs one queued event (its JSON as queued) to the webhook, signed; throws unless the answer is 2xx. */
export async function deliverWebhook(body: string, target: WebhookTarget): Promise<void> {
  let id = '';
  try {
    id = String((JSON.parse(body) as { id?: unknown }).id ?? '');
  } catch {
    id = '';
  }
  const timestamp = String(target.nowSeconds?.() ?? Math.floor(Date.now() / 1000));
  let status: number;
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'image-pipeline-webhook',
        [EVENT_ID_HEADER]: id,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: webhookSignature(target.secret, timestamp, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (error) {
    throw new WebhookDeliveryError(`webhook POST ${shownUrl(target.url)} failed: ${errorReason(error)}`, { cause: error });
  }
  if (status < 200 || status > 299)
    throw new WebhookDeliveryError(`webhook POST ${shownUrl(target.url)}: expected a 2xx answer, got HTTP ${status}`);
}
