import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type PipelineEvent } from '../domain/imageEvents';
import { TransientError } from '../errors';
import { classifyAwsError } from './awsErrors';
import type { EventPublisher } from './EventPublisher';

/**
 * Completion events as EventBridge events on a bus (PutEvents): `source` image-pipeline,
 * `detail-type` "Image Tagged" or "Image Failed", `detail` the event's detail. A refused call or
 * entry throws a retryable error (a missing bus or permission is a fault of the deployment), so the
 * stage's record is retried and the event published again. The endpoint is the SDK's: on MiniStack
 * and LocalStack AWS_ENDPOINT_URL, which they set in every function.
 */
export interface EventBridgePublisherOptions {
  region: string;
  /** The bus name or ARN; `default` is the account's default bus. */
  bus: string;
  /** A ready client, for tests that stub the SDK. */
  client?: EventBridgeClient;
}

export class EventPublishError extends TransientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventPublishError';
  }
}

export class EventBridgePublisher implements EventPublisher {
  readonly client: EventBridgeClient;
  private readonly bus: string;

  constructor(options: EventBridgePublisherOptions) {
    this.bus = options.bus;
    this.client =
      options.client ??
      new EventBridgeClient({ region: options.region, requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } });
  }

  async publish(event: PipelineEvent): Promise<void> {
    const what = `PutEvents ${event.detailType} on ${this.bus}`;
    let out: { FailedEntryCount?: number; Entries?: Array<{ ErrorCode?: string; ErrorMessage?: string }> };
    try {
      out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.bus,
              Source: EVENT_SOURCE,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
              Time: new Date(event.time),
            },
          ],
        }),
      );
    } catch (error) {
      const classified = classifyAwsError(what, error);
      if (classified instanceof TransientError) throw classified;
      const reason = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error);
      throw new EventPublishError(`${what} failed: ${reason}`, { cause: error });
    }
    if (out.FailedEntryCount) {
      const entry = out.Entries?.find((e) => e.ErrorCode);
      throw new EventPublishError(
        `${what}: the entry was refused (${entry?.ErrorCode ?? 'no code'}: ${entry?.ErrorMessage ?? 'no message'})`,
      );
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
