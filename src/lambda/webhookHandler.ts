import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { App } from '../app/createApp';

/**
 * The webhook's deliverer on the events queue (EVENTS=webhook), as an SQS handler with partial
 * batch failures like every stage: each record is one event POSTed, signed, to WEBHOOK_URL; a
 * delivery that fails (not a 2xx, no answer) is a batch item failure, so that event alone comes
 * back after the queue's visibility timeout and, after MAX_RECEIVE_COUNT tries, goes to the DLQ.
 */
export function webhookHandler(app: App): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const webhook = app.webhook;
  if (!webhook) throw new Error('webhookHandler: this app has no webhook (EVENTS=webhook with WEBHOOK_URL and WEBHOOK_SECRET)');
  const recordHandler = async (record: SQSRecord) => {
    const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
    try {
      await webhook.deliver(record.body);
      app.log.info('webhook delivered', { event_id: eventId(record.body), attempt });
    } catch (error) {
      const last = attempt >= app.config.maxReceiveCount;
      app.log[last ? 'error' : 'warn'](
        last ? 'webhook delivery failed on its last try; the queue dead-letters it' : 'webhook delivery failed; will be retried',
        {
          error,
          event_id: eventId(record.body),
          attempt,
        },
      );
      throw error;
    }
  };
  return async (event, context) => {
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  };
}

function eventId(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
