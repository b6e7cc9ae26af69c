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

/**
 * The upload stage's core: checks the bytes are an image we accept (header only, fast), stores
 * them untouched as `original/<id>.<ext>` and queues the resize. The id is made here, never taken
 * from the client.
 */
export interface AcceptDeps {
  store: ObjectStore;
  queue: Queue;
  config: Config;
  log: Logger;
  metrics?: StageMetrics;
}

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
  await deps.store.put(key, bytes, { contentType: info.contentType });
  const message: ResizeMessage = { v: 1, image_id: imageId, original_path: key, request_id: requestId };
  await deps.queue.send(deps.config.queues.resize, JSON.stringify(message));
  const duration_ms = Math.round(performance.now() - t0);
  await writeStageStatus(deps.store, imageId, {
    stage: 'upload',
    state: 'done',
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    duration_ms,
    output_key: key,
    request_id: requestId,
  });
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
