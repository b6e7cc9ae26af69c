import { imageFailedEvent, imageTaggedEvent } from '../domain/imageEvents';
import { imageKey, recordKey } from '../domain/keys';
import { type Detection, parseMessage } from '../domain/messages';
import { type PhotoRef, photoLabelKey } from '../domain/owners';
import { PIPELINE, type StageInput, type StageVocabulary, stageMessageSchema } from '../domain/pipeline';
import type { QueueStageName } from '../domain/stages';
import { errorReason, isRetryable } from '../errors';
import { childLogger } from '../logger/createLogger';
import { noopMetrics } from '../metrics/StageMetrics';
import type { EventPublisher } from '../ports/EventPublisher';
import type { Queue } from '../ports/Queue';
import { writeStageStatus } from '../status/stageStatus';
import type { Stage, StageContext } from './Stage';

export type MessageOutcome = 'done' | 'dead-lettered';

export interface ProcessDeps extends StageContext {
  queue: Queue;
  /** Where the photo's completion event goes ("Image Tagged", "Image Failed"); none when absent. */
  events?: EventPublisher;
}

/**
 * One message through one stage, the same on Lambda, on serverless-offline and embedded:
 * validate, run, send the next message, record the outcome (done, retrying or failed: one record
 * per stage, written once it ends). Bad input (invalid message, undecodable or
 * oversized image) goes straight to the dead-letter queue with its reason and counts as handled, so
 * it is never retried and never holds up its batch. Everything else — transient faults and faults of
 * the deployment (missing model, font, native module, bucket or queue; an object not yet there) —
 * is recorded as `retrying` with its reason and thrown: the record becomes a batch item failure, the
 * queue redelivers it, and after maxReceiveCount receives its redrive policy dead-letters it.
 *
 * A photo its owner deleted while a stage worked on it (DELETE /images/{id}: its record goes first,
 * then everything else) ends quietly: after writing its record, the stage looks for the photo's
 * record; when it is gone, the stage takes back what it wrote (its image, label entries, its
 * record), sends nothing, publishes nothing, and the message is done. Whatever the stage wrote
 * before DELETE's clean-up is removed by it; whatever after, the stage sees the record gone and
 * removes itself. A photo stored before owners has no record to look for and goes on.
 */
export async function processMessage<N extends QueueStageName>(
  stage: Stage<N>,
  body: string,
  receiveCount: number,
  deps: ProcessDeps,
): Promise<MessageOutcome> {
  const queueName = deps.config.queues[PIPELINE[stage.name].input];
  const { next } = PIPELINE[stage.name] as StageVocabulary;
  const metrics = deps.metrics ?? noopMetrics;
  let msg: StageInput<N>;
  try {
    msg = parseMessage(stageMessageSchema(stage.name), body, `${stage.name} message`);
  } catch (error) {
    const reason = errorReason(error);
    deps.log.error('invalid message dead-lettered', { stage: stage.name, queue: queueName, reason });
    await deps.queue.deadLetter(queueName, body, reason);
    metrics.recordStage(stage.name, 'dead-lettered');
    return 'dead-lettered';
  }

  const log = childLogger(deps.log, { stage: stage.name, image_id: msg.image_id, request_id: msg.request_id });
  const photo: PhotoRef = { imageId: msg.image_id, owner: msg.owner };
  /** True when the photo's owner deleted it: its record (the owner's index entry) is gone. */
  const deleted = async () => photo.owner !== undefined && !(await deps.store.exists(recordKey(photo, 'upload')));
  const takeBack = async (keys: string[]) => {
    for (const key of [...keys, recordKey(photo, stage.name)]) {
      await deps.store.delete(key).catch((error: unknown) => log.warn('could not take back a write of a deleted photo', { key, error }));
    }
    log.info('the photo was deleted by its owner while this stage ran: its writes are taken back, nothing is sent');
  };
  const startedAt = new Date();
  const t0 = performance.now();
  /** The detections, once the stage is done (the last stage's go into its event). */
  let tagged: Detection[] | undefined;
  // No "running" record: the status API tells a running stage by its predecessor's done record and
  // its own absence (src/api/imageStatus.ts), so a photo costs one status write per stage, not two.
  // A retried attempt leaves the record of the one before ('retrying', with its reason) until it ends.
  try {
    const result = await stage.run(msg, { ...deps, log });
    const duration_ms = Math.round(performance.now() - t0);
    await writeStageStatus(deps.store, photo, {
      stage: stage.name,
      state: 'done',
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      duration_ms,
      output_key: result.outputKey,
      detections: result.detail?.detections,
      attempt: receiveCount,
      request_id: msg.request_id,
    });
    // After its writes, record included: a delete that came meanwhile is seen here.
    if (await deleted()) {
      await takeBack(result.written);
      return 'done';
    }
    if (next && result.output !== undefined) await deps.queue.send(deps.config.queues[next], JSON.stringify(result.output));
    log.info('stage done', {
      duration_ms,
      output_key: result.outputKey,
      bytes: result.detail?.bytes,
      width: result.detail?.width,
      height: result.detail?.height,
      detection_count: result.detail?.detections?.length,
      attempt: receiveCount,
    });
    metrics.recordStage(stage.name, 'processed', duration_ms);
    tagged = result.detail?.detections ?? [];
  } catch (error) {
    const reason = errorReason(error);
    const retry = isRetryable(error);
    const lastTry = receiveCount >= deps.config.maxReceiveCount;
    metrics.recordStage(stage.name, retry && !lastTry ? 'retried' : 'failed', Math.round(performance.now() - t0));
    await writeStageStatus(deps.store, photo, {
      stage: stage.name,
      state: retry && !lastTry ? 'retrying' : 'failed',
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      attempt: receiveCount,
      error: reason,
      request_id: msg.request_id,
    }).catch((statusError: unknown) => log.warn('could not record failure status', { error: statusError }));
    // A photo deleted meanwhile (its input gone, say): what the stage may have written is taken back, quietly.
    if (await deleted().catch(() => false)) {
      await takeBack(mayHaveWritten(stage.name, msg, photo));
      return 'done';
    }
    const failed = () => imageFailedEvent(msg, { stage: stage.name, reason, attempt: receiveCount }, deps.config.bucket);
    if (!retry) {
      // Before dead-lettering: if publishing throws, the record is retried, fails the same way and
      // publishes again; nothing reaches the DLQ twice.
      await publish(deps.events, failed(), log, receiveCount, deps.config.maxReceiveCount);
      log.error('stage failed for good; message dead-lettered', { error, reason, attempt: receiveCount });
      await deps.queue.deadLetter(queueName, body, reason);
      metrics.recordStage(stage.name, 'dead-lettered');
      return 'dead-lettered';
    }
    if (lastTry) {
      // On its last receive the queue's redrive policy moves the message to the dead-letter queue.
      metrics.recordStage(stage.name, 'dead-lettered');
      log.error('stage failed on its last receive; the queue dead-letters it', { error, reason, attempt: receiveCount });
      // The redrive policy dead-letters the message when it would be received once more: this is
      // the photo's last attempt as far as the handler can tell. The stage's error is thrown anyway.
      await publish(deps.events, failed(), log, receiveCount, deps.config.maxReceiveCount).catch(() => undefined);
    } else log.warn('stage failed; will be retried', { error, reason, attempt: receiveCount });
    throw error;
  }
  // The last stage's photo is done: its event, outside the stage's try, so that a failure to publish
  // never records a done photo as failed. It throws, and the record is retried (the stage rewrites
  // the same objects, then publishes again); on the last receive the redrive policy keeps the
  // message in the DLQ, and `npm run dlq -- redrive` publishes it once the deployment is fixed.
  if (!next && tagged !== undefined) {
    await publish(deps.events, imageTaggedEvent(msg, tagged, deps.config.bucket), log, receiveCount, deps.config.maxReceiveCount);
  }
  return 'done';
}

/** What a stage that failed may have written before it did: its image and (tag) its label entries. */
function mayHaveWritten(stage: QueueStageName, msg: { image_id: string; detections?: { label: string }[] }, photo: PhotoRef): string[] {
  const { output } = PIPELINE[stage] as StageVocabulary;
  const labels = [...new Set((msg.detections ?? []).map((d) => d.label))];
  return [
    ...(output ? [imageKey(output, msg.image_id)] : []),
    ...(stage === 'tag'
      ? labels.flatMap((label) => {
          try {
            return [photoLabelKey(photo, label)];
          } catch {
            return [];
          }
        })
      : []),
  ];
}

/** Publishes a completion event; a failure is logged with what happens next, and thrown. */
async function publish(
  events: EventPublisher | undefined,
  event: ReturnType<typeof imageTaggedEvent>,
  log: ProcessDeps['log'],
  receiveCount: number,
  maxReceiveCount: number,
): Promise<void> {
  if (!events) return;
  try {
    await events.publish(event);
    log.info('completion event published', { event: event.detailType, event_id: event.id });
  } catch (error) {
    const next = receiveCount >= maxReceiveCount ? 'the message stays in the DLQ; redrive it once fixed' : 'the record will be retried';
    log.error(`completion event not published; ${next}`, { error, event: event.detailType, event_id: event.id, attempt: receiveCount });
    throw error;
  }
}
