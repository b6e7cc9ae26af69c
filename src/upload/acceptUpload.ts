import type { Config } from '../config';
import type { ResizeMessage } from '../contracts';
import { ImageTooLargeError, UnsupportedImageError } from '../errors';
import { HttpError } from '../http/HttpError';
import { type ImageInfo, inspectImage } from '../image/openImage';
import { newImageId } from '../imageId';
import { imageKey } from '../keys';
import type { Logger } from '../logger/createLogger';
import type { StageMetrics } from '../metrics/StageMetrics';
import type { ObjectStore } from '../ports/ObjectStore';
import type { Queue } from '../ports/Queue';
import { writeStageStatus } from '../status/stageStatus';

export interface AcceptedUpload {
  image_id: string;
  original_path: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
}

export interface AcceptDeps {
  store: ObjectStore;
  queue: Queue;
  config: Config;
  log: Logger;
  metrics?: StageMetrics;
}

/**
 * The upload stage's core: checks the bytes are an image we accept (header only, fast), stores
 * them untouched as `original/<id>.<ext>` and queues the resize. The id is made here, never taken
 * from the client.
 */
export async function acceptUpload(bytes: Buffer, deps: AcceptDeps, requestId?: string): Promise<AcceptedUpload> {
  const started = new Date();
  const t0 = performance.now();
  let info: ImageInfo;
  try {
    info = await inspectImage(bytes, deps.config.limits);
  } catch (error) {
    if (error instanceof ImageTooLargeError) throw new HttpError(413, 'too_many_pixels', error.message, { cause: error });
    if (error instanceof UnsupportedImageError) throw new HttpError(415, 'not_an_image', error.message, { cause: error });
    throw error;
  }
  const imageId = newImageId();
  const key = imageKey('original', imageId, info.ext);
  // The order decides what a failure means for the client (the handler answers 503 "nothing was
  // accepted, try again" to anything thrown here) and for the status API:
  // 1. the original fails to store: nothing exists; a retry is safe.
  // 2. the upload record fails to write: an original no record names is left behind; nothing
  //    queued, the status API does not know the id (404, and GET /images leaves it out); a retry
  //    is safe.
  // 3. the resize message fails to send: the record is rewritten as failed (best effort), so the
  //    orphan shows as failed, not as waiting for ever; nothing queued; a retry is safe.
  // 4. sent: the photo is on its way and the client gets 202. Sending last is what makes a 503
  //    true: sending first, as this did, let a failed record write answer 503 for a photo that was
  //    processed anyway, and the client's retry made a duplicate.
  await deps.store.put(key, bytes, { contentType: info.contentType });
  const finishedAt = new Date();
  const duration_ms = Math.round(performance.now() - t0);
  const record = {
    stage: 'upload',
    started_at: started.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms,
    output_key: key,
    request_id: requestId,
  } as const;
  await writeStageStatus(deps.store, imageId, { ...record, state: 'done' });
  const message: ResizeMessage = { v: 1, image_id: imageId, original_path: key, request_id: requestId };
  try {
    await deps.queue.send(deps.config.queues.resize, JSON.stringify(message));
  } catch (error) {
    const reason = `not queued, the client was told to try again: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    await writeStageStatus(deps.store, imageId, { ...record, state: 'failed', error: reason }).catch((statusError: unknown) =>
      deps.log.warn('could not record the unqueued upload as failed', { image_id: imageId, error: statusError }),
    );
    throw error;
  }
  deps.log.info('stage done', {
    stage: 'upload',
    image_id: imageId,
    request_id: requestId,
    duration_ms,
    output_key: key,
    bytes: bytes.length,
    width: info.width,
    height: info.height,
    format: info.format,
  });
  deps.metrics?.recordStage('upload', 'processed', duration_ms);
  return { image_id: imageId, original_path: key, width: info.width, height: info.height, format: info.format, bytes: bytes.length };
}
