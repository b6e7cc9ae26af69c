import { imageFailedEvent, imageTaggedEvent } from '../domain/imageEvents';
import { imageKey } from '../domain/keys';
import { type CarriedRecord, type Detection, parseMessage } from '../domain/messages';
import type { PhotoRef } from '../domain/owners';
import { PIPELINE, type StageInput, type StageVocabulary, stageMessageSchema } from '../domain/pipeline';
import type { QueueStageName } from '../domain/stages';
import { errorReason, isRetryable } from '../errors';
import { labelIndexKeys } from '../labels/writeLabelIndex';
import { childLogger } from '../logger/createLogger';
import { noopMetrics } from '../metrics/StageMetrics';
import type { EventPublisher } from '../ports/EventPublisher';
import type { Queue } from '../ports/Queue';
import { type OutputRecord, outputMetadata } from '../status/outputRecord';
import { recordOutcome } from '../status/recordOutcome';
import type { StageRecords, StageStatus } from '../status/stageStatus';
import type { Stage, StageContext } from './Stage';

export type MessageOutcome = 'done' | 'dead-lettered';

export interface ProcessDeps extends StageContext {
  queue: Queue;
  /** Where the photo's completion event goes ("Image Tagged", "Image Failed"); none when absent. */
  events?: EventPublisher;
}

/**
 * One message through one stage, the same on Lambda, on serverless-offline and embedded:
 * validate, run, record the outcome, send the next message. Bad input (invalid message,
 * undecodable or oversized image) goes straight to the dead-letter queue with its reason and counts
 * as handled, so it is never retried and never holds up its batch. Everything else — transient
 * faults and faults of the deployment (missing model, font, native module, bucket or queue; an
 * object not yet there) — is recorded as `retrying` with its reason and thrown: the record becomes
 * a batch item failure, the queue redelivers it, and after maxReceiveCount receives its redrive
 * policy dead-letters it.
 *
 * Recording costs as few writes as it can (src/status/recordOutcome.ts): a stage's image carries
 * its done record as metadata (the stage puts it with `outputMetadata`), detect writes its outcome
 * into the photo's record once, with the records of resize and grayscale its message carried, and
 * only a failure writes anything else. No "running" record: the status API tells a running stage by
 * its predecessor's done record and its own absence (src/api/imageStatus.ts); a retried attempt
 * leaves the record of the one before (`retrying`, with its reason) until it ends.
 *
 * A photo its owner deleted while a stage worked on it (DELETE /images/{id}: its tombstone, its
 * record, then everything else) ends quietly: recording the outcome reads the photo's record after
 * the stage's writes; when it is gone (or a rewrite finds the tombstone), the stage takes back what
 * it wrote (its image, label entries), sends nothing, publishes nothing, and the message is done.
 * Whatever the stage wrote before DELETE's clean-up is removed by it; whatever after, the stage
 * removes itself. A photo stored before owners cannot be deleted and goes on.
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
  /** A photo deleted while the stage ran: what it wrote (or may have, if it failed) is taken back, quietly. */
  const takeBack = async () => {
    const keys = writtenBy(stage.name, msg, photo);
    await deps.store
      .deleteMany(keys)
      .catch((error: unknown) => log.warn('could not take back a write of a deleted photo', { keys, error }));
    log.info('the photo was deleted by its owner while this stage ran: its writes are taken back, nothing is sent');
  };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let ended: { finished_at: string; duration_ms: number } | undefined;
  /** The attempt's done record: fixed when first asked for (by the image's put), so the image and the record say the same. */
  const doneRecord = (): OutputRecord => {
    ended ??= { finished_at: new Date().toISOString(), duration_ms: Math.round(performance.now() - t0) };
    return { started_at: startedAt, ...ended, attempt: receiveCount };
  };
  /** The detections, once the stage is done (the last stage's go into its event). */
  let tagged: Detection[] | undefined;
  try {
    const result = await stage.run(msg, { ...deps, log, outputMetadata: () => outputMetadata(doneRecord()) });
    const detections = result.detail?.detections;
    const done: StageStatus = {
      stage: stage.name,
      state: 'done',
      ...doneRecord(),
      output_key: result.outputKey,
      ...(detections !== undefined ? { detections } : {}),
      ...(msg.request_id !== undefined ? { request_id: msg.request_id } : {}),
    };
    // After its writes: a delete that came meanwhile is seen here.
    if ((await recordOutcome(deps.store, photo, done, carriedRecords(msg as CarriedBy))) === 'deleted') {
      await takeBack();
      return 'done';
    }
    if (next && result.output !== undefined) {
      await deps.queue.send(deps.config.queues[next], JSON.stringify(carryOn(stage.name, msg as CarriedBy, result.output, done)));
    }
    const duration_ms = Math.round(performance.now() - t0);
    log.info('stage done', {
      duration_ms,
      output_key: result.outputKey,
      bytes: result.detail?.bytes,
      width: result.detail?.width,
      height: result.detail?.height,
      detection_count: detections?.length,
      attempt: receiveCount,
    });
    metrics.recordStage(stage.name, 'processed', duration_ms);
    tagged = detections ?? [];
  } catch (error) {
    const reason = errorReason(error);
    const retry = isRetryable(error);
    const lastTry = receiveCount >= deps.config.maxReceiveCount;
    const duration_ms = Math.round(performance.now() - t0);
    metrics.recordStage(stage.name, retry && !lastTry ? 'retried' : 'failed', duration_ms);
    const failure: StageStatus = {
      stage: stage.name,
      state: retry && !lastTry ? 'retrying' : 'failed',
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      duration_ms,
      attempt: receiveCount,
      error: reason,
      ...(msg.request_id !== undefined ? { request_id: msg.request_id } : {}),
    };
    const recorded = await recordOutcome(deps.store, photo, failure).catch((statusError: unknown) => {
      log.warn('could not record failure status', { error: statusError });
      return 'recorded' as const;
    });
    // A photo deleted meanwhile (its input gone, say).
    if (recorded === 'deleted') {
      await takeBack();
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

/** What a stage's message may carry on: the done records of the stages before it. */
interface CarriedBy {
  done?: Partial<Record<QueueStageName, CarriedRecord>>;
  request_id?: string | undefined;
}

/** The done records a message carried (resize's, grayscale's), as records to write into the photo's. */
function carriedRecords(msg: CarriedBy): StageRecords {
  const out: StageRecords = {};
  for (const [stage, carried] of Object.entries(msg.done ?? {}) as Array<[QueueStageName, CarriedRecord | undefined]>) {
    if (carried) out[stage] = { stage, state: 'done', ...carried, ...(msg.request_id !== undefined ? { request_id: msg.request_id } : {}) };
  }
  return out;
}

/**
 * The next message, carrying this stage's done record on with those before it, as far as detect
 * (resize's and grayscale's messages do: src/domain/messages.ts); detect writes them into the
 * photo's record, and tag's message carries none.
 */
function carryOn(stage: QueueStageName, msg: CarriedBy, output: object, done: StageStatus): object {
  if (stage !== 'resize' && stage !== 'grayscale') return output;
  const { started_at, finished_at, duration_ms, attempt, output_key } = done;
  const own: CarriedRecord = {
    started_at: started_at!,
    finished_at: finished_at!,
    duration_ms: duration_ms!,
    attempt: attempt!,
    output_key: output_key!,
  };
  return { ...output, done: { ...msg.done, [stage]: own } };
}

/** What a stage writes: its image and (tag) its label entries; those a failed attempt may have written. */
function writtenBy(stage: QueueStageName, msg: { image_id: string; detections?: { label: string }[] }, photo: PhotoRef): string[] {
  const { output } = PIPELINE[stage] as StageVocabulary;
  return [...(output ? [imageKey(output, msg.image_id)] : []), ...(stage === 'tag' ? labelIndexKeys(photo, msg.detections ?? []) : [])];
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
