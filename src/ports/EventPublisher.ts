import { EVENT_SOURCE, type PipelineEvent } from '../domain/imageEvents';

/**
 * Where the pipeline tells other systems that a photo is done: one event per photo, "Image Tagged"
 * or "Image Failed" (src/domain/imageEvents.ts builds them), from source `image-pipeline`. The
 * adapters: EventBridge (PutEvents on a bus; AWS and the deployed MiniStack stack) and a webhook
 * (queued, then POSTed with a signature; the embedded default), chosen by createEventPublisher.
 */

export interface EventPublisher {
  /** Publishes one event; throws (a retryable error) when it could not be handed over. */
  publish(event: PipelineEvent): Promise<void>;
  close?(): Promise<void>;
}

/** EVENTS=off: nothing is published. */
export const noEvents: EventPublisher = Object.freeze({ publish: async () => undefined });

/**
 * The JSON a webhook receives: the envelope EventBridge delivers to a rule's target, less the
 * account (not known off AWS), so one receiver reads both the same way (`detail-type`, `detail`).
 */
export function eventEnvelope(event: PipelineEvent, region: string): Record<string, unknown> {
  return {
    version: '0',
    id: event.id,
    'detail-type': event.detailType,
    source: EVENT_SOURCE,
    time: event.time,
    region,
    resources: [],
    detail: event.detail,
  };
}
