import { errorReason, InvalidInputError } from '../errors';
import { type IngestDelivery, type IngestDeps, type IngestOutcome, ingestUpload } from './ingestUpload';
import { parseS3Notification, type S3Notification } from './s3Notification';

export type NotificationOutcome =
  | { kind: 'test' }
  | { kind: 'dead-lettered'; reason: string }
  | { kind: 'records'; outcomes: IngestOutcome[] };

/**
 * One message of `ingest_queue`: a bucket notification (src/ingest/s3Notification.ts). Each
 * ObjectCreated record of this bucket is ingested in turn (ingestUpload); other events, other
 * buckets and S3's one-off `s3:TestEvent` are logged and left. A message that is no notification
 * at all is bad input: dead-lettered at once with its reason, as processMessage does for a stage.
 * A fault in any record throws, so the whole message is retried; the records already ingested then
 * find their claims and are not done twice.
 */
export async function ingestNotification(body: string, delivery: IngestDelivery, deps: IngestDeps): Promise<NotificationOutcome> {
  const queueName = deps.config.queues.ingest;
  let notification: S3Notification;
  try {
    notification = parseS3Notification(body);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const reason = errorReason(error);
    deps.log.error('invalid message dead-lettered', { stage: 'upload', queue: queueName, reason });
    await deps.queue.deadLetter(queueName, body, reason);
    deps.metrics?.recordStage('upload', 'dead-lettered');
    return { kind: 'dead-lettered', reason };
  }
  if (notification.kind === 'test') {
    deps.log.info('s3:TestEvent ignored (sent once when the bucket notification is configured)', { queue: queueName });
    return { kind: 'test' };
  }
  if (notification.otherEvents.length > 0)
    deps.log.info('bucket events other than ObjectCreated ignored', { events: notification.otherEvents });
  const outcomes: IngestOutcome[] = [];
  for (const created of notification.created) {
    if (created.bucket !== deps.config.bucket) {
      const reason = `expected an object of bucket ${JSON.stringify(deps.config.bucket)}, got one of ${JSON.stringify(created.bucket)}`;
      deps.log.warn('bucket notification ignored: another bucket', { key: created.key.slice(0, 120), reason });
      outcomes.push({ outcome: 'ignored', key: created.key, reason });
      continue;
    }
    outcomes.push(await ingestUpload(created.key, delivery, deps));
  }
  return { kind: 'records', outcomes };
}
