import { imageKey, STAGE_FOLDERS } from './keys';
import type { Detection } from './messages';
import { STAGE_OF_FOLDER } from './pipeline';
import { STAGES, type StageName } from './stages';

/** The `source` of every completion event (serverless.yml's rule matches it). */
export const EVENT_SOURCE = 'image-pipeline';
export const IMAGE_EVENT_TYPES = ['Image Tagged', 'Image Failed'] as const;
export type ImageEventType = (typeof IMAGE_EVENT_TYPES)[number];

/** One completion event, whichever way it is published (the EventPublisher port). */
export interface PipelineEvent {
  detailType: ImageEventType;
  /** The same for every publication of one outcome of one photo, so receivers can drop repeats. */
  id: string;
  /** ISO time of the outcome. */
  time: string;
  /** JSON-able; EventBridge's `detail`. */
  detail: Readonly<Record<string, unknown>>;
}

/**
 * The completion events of a photo (docs/search-and-events.md, "Completion events"), built from what the last stage
 * knows. `detail.event_id` (and the webhook's id) is `<image_id>:tagged` or `<image_id>:failed`:
 * the same on every repeat of one outcome, so a receiver can drop repeats — at-least-once delivery
 * (a redelivered SQS message, a retried publication) can publish an outcome twice.
 */
export interface ImageMessageFacts {
  image_id: string;
  /** Every stage's message has it (messages.ts); the upload's extension is kept. */
  original_path?: string;
  /** Whose photo it is (messages of version 2); absent for a photo stored before owners. */
  owner?: string | undefined;
  request_id?: string | undefined;
}

export interface ImageTaggedDetail {
  event_id: string;
  image_id: string;
  /** Whose photo it is (the caller who uploaded it: a token's sub, an API key's owner, `local`); absent for a photo stored before owners. */
  owner?: string;
  status: 'tagged';
  bucket: string;
  /** The four images' keys in the bucket. */
  outputs: { original: string; resized: string; grayscale: string; tagged: string };
  detections: Detection[];
  /** Each label once, in the detector's order: `{"detail": {"labels": ["dog"]}}` is a rule for dogs. */
  labels: string[];
  request_id?: string;
}

export interface ImageFailedDetail {
  event_id: string;
  image_id: string;
  /** As in ImageTaggedDetail. */
  owner?: string;
  status: 'failed';
  bucket: string;
  /** The stage that failed for good, and why (as the status API says). */
  stage: StageName;
  reason: string;
  /** The receive that failed: 1 for bad input (never retried), MAX_RECEIVE_COUNT for the last retry. */
  attempt: number;
  /** The keys of the images the stages before it wrote. */
  outputs: Partial<ImageTaggedDetail['outputs']>;
  request_id?: string;
}

function originalKey(msg: ImageMessageFacts): string {
  return msg.original_path ?? imageKey('original', msg.image_id);
}

function withRequestId<T extends object>(detail: T, requestId: string | undefined): T {
  return requestId === undefined ? detail : { ...detail, request_id: requestId };
}

/** The owner, right after the image id, when the photo has one. */
function ownerOf(msg: ImageMessageFacts): { owner?: string } {
  return msg.owner === undefined ? {} : { owner: msg.owner };
}

export function imageTaggedEvent(msg: ImageMessageFacts, detections: Detection[], bucket: string, now = new Date()): PipelineEvent {
  const id = `${msg.image_id}:tagged`;
  const detail: ImageTaggedDetail = withRequestId(
    {
      event_id: id,
      image_id: msg.image_id,
      ...ownerOf(msg),
      status: 'tagged' as const,
      bucket,
      outputs: {
        original: originalKey(msg),
        resized: imageKey('resized', msg.image_id),
        grayscale: imageKey('grayscale', msg.image_id),
        tagged: imageKey('tagged', msg.image_id),
      },
      detections,
      labels: [...new Set(detections.map((d) => d.label))],
    },
    msg.request_id,
  );
  return { detailType: 'Image Tagged', id, time: now.toISOString(), detail: { ...detail } };
}

export function imageFailedEvent(
  msg: ImageMessageFacts,
  failure: { stage: StageName; reason: string; attempt: number },
  bucket: string,
  now = new Date(),
): PipelineEvent {
  const id = `${msg.image_id}:failed`;
  // The stages before the failed one each wrote their image (their messages led here).
  const before = STAGES.slice(0, STAGES.indexOf(failure.stage));
  const outputs: ImageFailedDetail['outputs'] = {};
  for (const folder of STAGE_FOLDERS) {
    if (!before.includes(STAGE_OF_FOLDER[folder])) continue;
    outputs[folder] = folder === 'original' ? originalKey(msg) : imageKey(folder, msg.image_id);
  }
  const detail: ImageFailedDetail = withRequestId(
    { event_id: id, image_id: msg.image_id, ...ownerOf(msg), status: 'failed' as const, bucket, ...failure, outputs },
    msg.request_id,
  );
  return { detailType: 'Image Failed', id, time: now.toISOString(), detail: { ...detail } };
}
