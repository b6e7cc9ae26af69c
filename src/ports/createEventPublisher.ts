import type { Config } from '../config';
import { EventBridgePublisher } from './EventBridgePublisher';
import { type EventPublisher, noEvents } from './EventPublisher';
import type { Queue } from './Queue';
import { WebhookPublisher } from './WebhookPublisher';

/** The publisher config.events names: EventBridge, the webhook (through `queue`), or none. */
export function createEventPublisher(config: Config, queue: Queue): EventPublisher {
  switch (config.events.target) {
    case 'eventbridge':
      return new EventBridgePublisher({ region: config.aws.region, bus: config.events.bus });
    case 'webhook':
      return new WebhookPublisher(queue, config.events.queue, config.aws.region);
    case 'off':
      return noEvents;
  }
}
