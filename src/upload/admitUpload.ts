import type { Config } from '../config';
import { type ResizeMessage, versionFor } from '../domain/messages';
import { PIPELINE } from '../domain/pipeline';
import { ImageTooLargeError } from '../errors';
import { type ImageInfo, inspectImage } from '../image/openImage';
import type { Logger } from '../logger/createLogger';
import type { StageMetrics } from '../metrics/StageMetrics';
import type { ObjectStore } from '../ports/ObjectStore';
import type { Queue } from '../ports/Queue';
import { type StageStatus, writeUploadRecord } from '../status/stageStatus';

/**
 * What the two ways into the pipeline share — `POST /upload` (src/upload/acceptUpload.ts) and an
 * object written under `uploads/` by a presigned POST (src/ingest/ingestUpload.ts): the check of
 * the bytes, then the upload stage's record and the resize message, in that order. Each caller
 * stores the original its own way (a put of the request's bytes; a server-side copy).
 */
export interface AcceptDeps {
  store: ObjectStore;
  queue: Queue;
  config: Config;
  log: Logger;
  metrics?: StageMetrics;
}

export interface AcceptedUpload {
  image_id: string;
  original_path: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
}

/**
 * The check of an upload's bytes: at most `maxBytes` when given (POST /upload's body limit is
 * enforced while streaming, by readUploadBody), then the header only — magic bytes and format
 * (an accepted one), upright size within the pixel limit, a header that decodes. Throws
 * ImageTooLargeError or UnsupportedImageError (bad input: never retried).
 */
export async function checkUploadBytes(bytes: Buffer, config: Config, maxBytes?: number): Promise<ImageInfo> {
  if (maxBytes !== undefined && bytes.length > maxBytes) throw tooManyBytes(maxBytes, bytes.length);
  return inspectImage(bytes, config.limits);
}

/** An upload over the byte limit (bad input), said the same way wherever it is found. */
export function tooManyBytes(maxBytes: number, got: number): ImageTooLargeError {
  return new ImageTooLargeError(`expected an upload of at most ${maxBytes} bytes, got ${got}`, { limit: 'bytes' });
}

export interface StoredOriginal {
  imageId: string;
  /** Whose photo it is; undefined only for an upload signed before owners existed (ingest). */
  owner?: string | undefined;
  /** `original/<id>.<ext>`, already in the store. */
  originalKey: string;
  info: ImageInfo;
  bytes: number;
  startedAt: Date;
  /** performance.now() when the upload's work began. */
  t0: number;
  requestId?: string;
  /** The receive of the notification that carried it (ingest), for the record. */
  attempt?: number;
}

/** What the record says when the resize message could not be sent (the caller then throws). */
export interface Unsent {
  state: Extract<StageStatus['state'], 'failed' | 'retrying'>;
  reason: (error: unknown) => string;
  /**
   * Asked after the record is written, before the message is sent: false when the photo was
   * deleted meanwhile (ingest: DELETE's tombstone). Then nothing is sent and undefined is answered.
   */
  stillWanted?: () => Promise<boolean>;
}

/**
 * Records the upload stage as done, then sends the resize message: sending last means a failure
 * before it queued nothing (the caller's retry makes no duplicate). If the send fails the record
 * is rewritten (best effort) as `unsent` says, and the error is thrown.
 */
export async function recordAndQueue(
  stored: StoredOriginal,
  deps: AcceptDeps,
  unsent: Unsent & { stillWanted: () => Promise<boolean> },
): Promise<AcceptedUpload | undefined>;
export async function recordAndQueue(stored: StoredOriginal, deps: AcceptDeps, unsent: Unsent): Promise<AcceptedUpload>;
export async function recordAndQueue(stored: StoredOriginal, deps: AcceptDeps, unsent: Unsent): Promise<AcceptedUpload | undefined> {
  const { imageId, originalKey: key, info, requestId } = stored;
  const photo = { imageId, owner: stored.owner };
  const duration_ms = Math.round(performance.now() - stored.t0);
  const record = {
    stage: 'upload',
    started_at: stored.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    duration_ms,
    output_key: key,
    ...(stored.attempt !== undefined ? { attempt: stored.attempt } : {}),
    request_id: requestId,
  } as const;
  await writeUploadRecord(deps.store, photo, { ...record, state: 'done' });
  if (unsent.stillWanted && !(await unsent.stillWanted())) return undefined;
  const message: ResizeMessage = { ...versionFor(stored.owner), image_id: imageId, original_path: key, request_id: requestId };
  try {
    await deps.queue.send(deps.config.queues[PIPELINE.upload.next], JSON.stringify(message));
  } catch (error) {
    await writeUploadRecord(deps.store, photo, { ...record, state: unsent.state, error: unsent.reason(error) }).catch(
      (statusError: unknown) => deps.log.warn('could not record the unqueued upload', { image_id: imageId, error: statusError }),
    );
    throw error;
  }
  deps.log.info('stage done', {
    stage: 'upload',
    image_id: imageId,
    request_id: requestId,
    duration_ms,
    output_key: key,
    bytes: stored.bytes,
    width: info.width,
    height: info.height,
    format: info.format,
  });
  deps.metrics?.recordStage('upload', 'processed', duration_ms);
  return { image_id: imageId, original_path: key, width: info.width, height: info.height, format: info.format, bytes: stored.bytes };
}
