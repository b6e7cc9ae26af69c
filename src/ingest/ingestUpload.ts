import { imageFailedEvent } from '../domain/imageEvents';
import { deletedKey, imageKey, parseUploadKey, recordKey } from '../domain/keys';
import type { PhotoRef } from '../domain/owners';
import { errorReason, isRetryable, ObjectChangedError, ObjectNotFoundError } from '../errors';
import { childLogger, type Logger } from '../logger/createLogger';
import type { EventPublisher } from '../ports/EventPublisher';
import { claimUploadRecord, readPhotoRecord, type StageStatus, uploadStatusOf, writeUploadRecord } from '../status/stageStatus';
import { type AcceptDeps, checkUploadBytes, recordAndQueue, tooManyBytes } from '../upload/admitUpload';

/**
 * The bucket starts the pipeline: an object written under `uploads/<owner>/<id>.<ext>` (a presigned POST
 * from `POST /uploads`) is checked exactly as `POST /upload` checks a body (src/upload/admitUpload.ts:
 * size, magic bytes and format, pixel limit, a header that decodes), copied inside the store to
 * `original/<id>.<ext>`, recorded and sent to resize — or ends as a terminal failure of the upload
 * stage, with its reason in the record and an "Image Failed" event, and nothing queued.
 *
 * What was checked is what is stored: a form posted again while its first object is being
 * ingested (S3 lets a form be used until it expires) may replace the upload between the read and
 * the copy. So the copy is conditional on the version that was read (S3's
 * `x-amz-copy-source-if-match` on its ETag; the folder store's file identity): it copies exactly
 * the checked bytes, or nothing, and then the checked bytes, still in memory, are put instead.
 * Whatever a repeated form leaves under `uploads/` is removed by the notification of its own write,
 * which finds the upload record final (below), so nothing stays there.
 *
 * Notifications come at least once (S3 may repeat one; a retried batch repeats all its records), so
 * the work is claimed first: the upload record is written with putIfAbsent, and only the delivery
 * that wrote it goes on. A delivery that finds a record:
 * - `done`, or `failed` for bad input (`terminal`), or `failed` with the upload gone: a duplicate,
 *   or the notification of a form posted again; nothing is done again, and whatever is under the
 *   upload's key now (a replay's bytes) is removed.
 * - `failed` on a fault (not `terminal`) with the upload still there (a fault on the last receive):
 *   its redrive from the DLQ, or a repeat of it; takes the work over.
 * - `retrying` (an earlier attempt hit a fault and said so): takes the work over.
 * - `running` and claimed by the same queue message (its redelivery: the attempt died), or claimed
 *   more than CLAIM_LEASE_MS ago (twice the ingest function's timeout: no attempt runs that long):
 *   takes it over.
 * - `running`, claimed by another message, recently: a duplicate in flight; dropped — if that attempt
 *   fails, its own message is redelivered and finishes the work.
 *
 * Faults (a missing object, bucket or queue; the store or queue unreachable) are thrown, after the
 * record says `retrying` with the reason, so the queue retries them; on the last receive the record
 * says `failed` and "Image Failed" is published, as processMessage does for the stages.
 *
 * The upload's key names its owner (`uploads/<owner>/<id>.<ext>`, src/domain/keys.ts), and the
 * upload record is that owner's index entry (recordKey). The owner may delete the photo while it
 * is ingested (its record is there from the claim on): DELETE writes the photo's tombstone first,
 * and ingest looks for it after each write of the record — when it is there, ingest takes back
 * what it wrote (the record, the original) and the upload, sends nothing and publishes nothing.
 */
export interface IngestDeps extends AcceptDeps {
  events?: EventPublisher;
}

export interface IngestDelivery {
  /** The queue message carrying the notification: its redelivery may take over its own claim. */
  messageId: string;
  /** SQS ApproximateReceiveCount (1 on the first receive). */
  receiveCount: number;
}

export type IngestOutcome =
  | { outcome: 'ingested'; image_id: string; original_path: string }
  | { outcome: 'failed'; image_id: string; reason: string }
  | { outcome: 'duplicate'; image_id: string; state: StageStatus['state'] }
  | { outcome: 'ignored'; key: string; reason: string };

/** A claim older than this is an attempt that died: the ingest function's timeout is 30 s. */
export const CLAIM_LEASE_MS = 60_000;

export async function ingestUpload(
  key: string,
  delivery: IngestDelivery,
  deps: IngestDeps,
  now = () => Date.now(),
): Promise<IngestOutcome> {
  const parsed = parseUploadKey(key);
  if (!parsed) {
    const reason = `expected a key uploads/<owner>/<image id>.<extension of an accepted format>, got ${JSON.stringify(key.slice(0, 120))}`;
    deps.log.warn('bucket notification ignored: not an upload', { key: key.slice(0, 120), reason });
    return { outcome: 'ignored', key, reason };
  }
  const { imageId, owner } = parsed;
  const photo: PhotoRef = { imageId, owner };
  const log = childLogger(deps.log, { stage: 'upload', image_id: imageId });
  /** True when the owner deleted the photo meanwhile; then what ingest wrote is taken back. */
  const deleted = async (wrote: string[]): Promise<IngestOutcome | undefined> => {
    if (!(await deps.store.exists(deletedKey(imageId)))) return undefined;
    const keys = [...wrote, recordKey(photo, 'upload'), key];
    await deps.store
      .deleteMany(keys)
      .catch((error: unknown) => log.warn('could not take back a write of a deleted photo', { keys, error }));
    log.info('the photo was deleted by its owner while it was ingested: what ingest wrote is taken back, nothing is sent');
    return { outcome: 'ignored', key, reason: 'deleted by its owner' };
  };
  const startedAt = new Date(now());
  const t0 = performance.now();
  const lastTry = delivery.receiveCount >= deps.config.maxReceiveCount;
  const claim: StageStatus = {
    stage: 'upload',
    state: 'running',
    started_at: startedAt.toISOString(),
    attempt: delivery.receiveCount,
    claimed_by: delivery.messageId,
  };

  const claimed = await claimUpload(key, photo, claim, delivery, deps, log, now);
  if (claimed !== true) {
    // The photo's upload is over (done or failed for good): what is under its key now is a form
    // posted again, or nothing (a repeated notification). In flight (`running`) the claimant removes it.
    if (claimed.outcome === 'duplicate' && claimed.state !== 'running') await removeUpload(key, deps, log);
    return claimed;
  }
  const deletedAlready = await deleted([]);
  if (deletedAlready) return deletedAlready;
  /** Set when the resize message could not be sent: the record says so. */
  let unsentReason: string | undefined;

  try {
    const head = await deps.store.head(key);
    if (!head) throw new ObjectNotFoundError(key);
    const maxBytes = deps.config.limits.maxBucketUploadBytes;
    // Refused before it is read: an object over the limit is never downloaded.
    if (head.size > maxBytes) throw tooManyBytes(maxBytes, head.size);
    const { body: bytes, etag } = await deps.store.get(key);
    const info = await checkUploadBytes(bytes, deps.config, maxBytes);
    const originalKey = imageKey('original', imageId, info.ext);
    await storeChecked(key, originalKey, { bytes, etag, contentType: info.contentType }, deps, log);
    let takenBack: IngestOutcome | undefined;
    const accepted = await recordAndQueue(
      { imageId, owner, originalKey, info, bytes: bytes.length, startedAt, t0, attempt: delivery.receiveCount },
      { ...deps, log },
      {
        state: lastTry ? 'failed' : 'retrying',
        reason: (error) => {
          unsentReason = `not queued; the notification ${lastTry ? 'was on its last receive' : 'will be retried'}: ${errorReason(error)}`;
          return unsentReason;
        },
        stillWanted: async () => {
          takenBack = await deleted([originalKey]);
          return takenBack === undefined;
        },
      },
    );
    if (!accepted) return takenBack!;
    await removeUpload(key, deps, log);
    return { outcome: 'ingested', image_id: imageId, original_path: accepted.original_path };
  } catch (error) {
    const reason = unsentReason ?? errorReason(error);
    const duration_ms = Math.round(performance.now() - t0);
    const record = (state: StageStatus['state']): StageStatus => ({
      stage: 'upload',
      state,
      started_at: startedAt.toISOString(),
      finished_at: new Date(now()).toISOString(),
      duration_ms,
      attempt: delivery.receiveCount,
      error: reason,
      claimed_by: delivery.messageId,
    });
    const failed = () =>
      imageFailedEvent({ image_id: imageId, owner }, { stage: 'upload', reason, attempt: delivery.receiveCount }, deps.config.bucket);
    if (!isRetryable(error)) {
      // Bad input: the event first, then the record. If publishing throws, the record says
      // `retrying` and the error is thrown: the redelivery fails the same way and publishes again.
      // A photo its owner deleted meanwhile ends quietly, without an event.
      const goneBefore = await deleted([]);
      if (goneBefore) return goneBefore;
      try {
        await deps.events?.publish(failed());
      } catch (publishError) {
        log.error('"Image Failed" not published; the notification will be retried', { error: publishError, reason });
        await writeUploadRecord(deps.store, photo, record(lastTry ? 'failed' : 'retrying')).catch(() => undefined);
        throw publishError;
      }
      await writeUploadRecord(deps.store, photo, { ...record('failed'), terminal: true });
      const gone = await deleted([]);
      if (gone) return gone;
      log.warn('upload refused: terminal failure, nothing queued', { key, reason, attempt: delivery.receiveCount });
      deps.metrics?.recordStage('upload', 'failed', duration_ms);
      await removeUpload(key, deps, log);
      return { outcome: 'failed', image_id: imageId, reason };
    }
    await writeUploadRecord(deps.store, photo, record(lastTry ? 'failed' : 'retrying')).catch((statusError: unknown) =>
      log.warn('could not record the ingest fault', { error: statusError }),
    );
    const gone = await deleted([]).catch(() => undefined);
    if (gone) return gone;
    deps.metrics?.recordStage('upload', lastTry ? 'failed' : 'retried', duration_ms);
    if (lastTry) {
      log.error('ingest failed on its last receive; the queue dead-letters the notification', { key, error, reason });
      deps.metrics?.recordStage('upload', 'dead-lettered');
      await deps.events?.publish(failed()).catch(() => undefined);
    } else log.warn('ingest failed; will be retried', { key, error, reason, attempt: delivery.receiveCount });
    throw error;
  }
}

/** True when this delivery holds the claim; else the outcome to return. */
async function claimUpload(
  key: string,
  photo: PhotoRef,
  claim: StageStatus,
  delivery: IngestDelivery,
  deps: IngestDeps,
  log: Logger,
  now: () => number,
): Promise<true | IngestOutcome> {
  const { imageId } = photo;
  if (await claimUploadRecord(deps.store, photo, claim)) return true;
  const read = await readPhotoRecord(deps.store, photo);
  const existing = read && uploadStatusOf(read);
  const takeOver = async (why: string) => {
    log.info(`ingest takes over the upload: ${why}`, { attempt: delivery.receiveCount });
    await writeUploadRecord(deps.store, photo, claim);
    return true as const;
  };
  if (!existing) return takeOver('its record is unreadable');
  // Failed on a fault with the upload still there: the last receive failed, and this is its redrive
  // from the DLQ once the fault is fixed, or a repeat of it. (A refused upload is `terminal`: final.)
  if (existing.state === 'failed' && existing.terminal !== true && (await deps.store.exists(key))) {
    return takeOver('it failed on a fault and the upload is still there');
  }
  if (existing.state === 'done' || existing.state === 'failed') {
    log.info('duplicate notification: the upload was ingested already', { state: existing.state });
    return { outcome: 'duplicate', image_id: imageId, state: existing.state };
  }
  if (existing.state === 'retrying') return takeOver('an earlier attempt hit a fault');
  if (existing.claimed_by === delivery.messageId) return takeOver('an earlier receive of this message did not finish');
  const age = now() - Date.parse(existing.started_at ?? '');
  if (!(age < CLAIM_LEASE_MS)) return takeOver(`the claim is ${Math.round(age / 1000)} s old`);
  log.info('duplicate notification: another delivery is ingesting the upload', { claimed_by: existing.claimed_by });
  return { outcome: 'duplicate', image_id: imageId, state: existing.state };
}

/**
 * `original/` gets exactly the bytes that were checked: a server-side copy conditional on the
 * version read, and when another object has replaced the upload since (a form posted again), a
 * put of the checked bytes, which are still in memory. A store that gives no version gets the put.
 */
async function storeChecked(
  key: string,
  originalKey: string,
  checked: { bytes: Buffer; etag: string | undefined; contentType: string },
  deps: IngestDeps,
  log: Logger,
): Promise<void> {
  if (checked.etag !== undefined) {
    try {
      await deps.store.copy(key, originalKey, { contentType: checked.contentType, ifMatch: checked.etag });
      return;
    } catch (error) {
      if (!(error instanceof ObjectChangedError)) throw error;
      log.info('the upload was replaced after it was checked (its form posted again): storing the checked bytes', { key });
    }
  }
  await deps.store.put(originalKey, checked.bytes, { contentType: checked.contentType });
}

/** The upload is done with (copied, or refused for good): removed at once; the lifecycle rule is the backstop. */
async function removeUpload(key: string, deps: IngestDeps, log: Logger): Promise<void> {
  await deps.store
    .delete(key)
    .catch((error: unknown) => log.warn('could not remove the ingested upload; the lifecycle rule will', { key, error }));
}
