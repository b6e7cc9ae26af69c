import { z } from 'zod';
import { InvalidMessageError } from '../errors';
import { IMAGE_ID_PATTERN } from './imageId';
import { isImageKey } from './keys';
import { isOwner, OWNER_EXPECTED } from './owners';

/**
 * Messages between stages. Producers build them with these types; consumers validate them with
 * `parseMessage` at the edge, so a malformed or hostile message is rejected once, with a reason,
 * and never retried. `v` is the schema version: a consumer refuses versions it does not know.
 * Version 2 carries the photo's owner (src/domain/owners.ts) from the upload to the last stage;
 * version 1, before owners, carries none and is still read — a message queued before the change
 * goes on as an ownerless photo (`npm run assign-owner` gives it one). Producers write the version
 * of what they consumed: an owner is never added or lost on the way.
 */
export const MESSAGE_VERSIONS = [1, 2] as const;
const imageId = z.string().regex(IMAGE_ID_PATTERN, 'expected a server-generated image id (UUIDv7)');
const imageKey = z.string().refine(isImageKey, 'expected an image key like original/<image_id>.jpg');
const dimension = z.number().int().positive().max(1_000_000);

const BoxSchema = z.object({
  x: z.number().nonnegative(),
  y: z.number().nonnegative(),
  width: z.number().nonnegative(),
  height: z.number().nonnegative(),
});
export const DetectionSchema = z.object({
  label: z.string().min(1).max(64),
  score: z.number().min(0).max(1),
  box: BoxSchema,
});

const base = {
  v: z.union([z.literal(1), z.literal(2)]),
  image_id: imageId,
  original_path: imageKey,
  /** Whose photo it is: present in version 2, absent in version 1. */
  owner: z.string().refine(isOwner, `expected an owner of ${OWNER_EXPECTED}`).optional(),
  /** Request id of the upload, so every log line of one photo can be followed. */
  request_id: z.string().max(128).optional(),
};

/**
 * A stage's done record as the messages carry it on to detect, which writes it into the photo's
 * record (src/status/recordOutcome.ts): resize's and grayscale's images say they are done, and with
 * these the record says so too, so a done photo reads without a HEAD of each image.
 */
const CarriedRecordSchema = z
  .object({
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime(),
    duration_ms: z.number().int().nonnegative().max(86_400_000),
    attempt: z.number().int().positive().max(1000),
    output_key: imageKey,
  })
  .strict();
export type CarriedRecord = z.infer<typeof CarriedRecordSchema>;

/** Version 2 names the owner, version 1 does not. */
function ownerMatchesVersion(msg: { v: 1 | 2; owner?: string | undefined }, ctx: z.RefinementCtx): void {
  if (msg.v === 2 && msg.owner === undefined)
    ctx.addIssue({ code: 'custom', path: ['owner'], message: 'expected the owner in a version 2 message' });
  if (msg.v === 1 && msg.owner !== undefined)
    ctx.addIssue({ code: 'custom', path: ['owner'], message: 'expected no owner in a version 1 message' });
}

/** upload -> resize_queue */
export const ResizeMessageSchema = z
  .object({ ...base })
  .strict()
  .superRefine(ownerMatchesVersion);
/** resize -> grayscale_queue; `path` is the resized copy; origin_* are the upright original's size. */
export const GrayscaleMessageSchema = z
  .object({
    ...base,
    path: imageKey,
    origin_h: dimension,
    origin_w: dimension,
    done: z.object({ resize: CarriedRecordSchema.optional() }).strict().optional(),
  })
  .strict()
  .superRefine(ownerMatchesVersion);
/** grayscale -> objectdetect_queue; `path` is the grayscale copy. */
export const DetectMessageSchema = z
  .object({
    ...base,
    path: imageKey,
    resized_path: imageKey,
    origin_h: dimension,
    origin_w: dimension,
    done: z.object({ resize: CarriedRecordSchema.optional(), grayscale: CarriedRecordSchema.optional() }).strict().optional(),
  })
  .strict()
  .superRefine(ownerMatchesVersion);
/** detect -> tag_queue; boxes are in the upright original's pixels. */
export const TagMessageSchema = z
  .object({ ...base, origin_h: dimension, origin_w: dimension, detections: z.array(DetectionSchema).max(1000) })
  .strict()
  .superRefine(ownerMatchesVersion);

/** The version and owner fields of a message of `owner`'s photo (version 2), or of an ownerless one (version 1). */
export function versionFor(owner: string | undefined): { v: 1 } | { v: 2; owner: string } {
  return owner === undefined ? { v: 1 } : { v: 2, owner };
}

export type Detection = z.infer<typeof DetectionSchema>;
export type ResizeMessage = z.infer<typeof ResizeMessageSchema>;
export type GrayscaleMessage = z.infer<typeof GrayscaleMessageSchema>;
export type DetectMessage = z.infer<typeof DetectMessageSchema>;
export type TagMessage = z.infer<typeof TagMessageSchema>;

/** Parses a queue message body against a schema; throws InvalidMessageError saying what was wrong. */
export function parseMessage<S extends z.ZodType>(schema: S, body: string, what: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new InvalidMessageError(`${what}: body is not JSON (got ${JSON.stringify(body.slice(0, 40))})`, { cause });
  }
  const version = typeof json === 'object' && json !== null && 'v' in json ? (json as { v: unknown }).v : undefined;
  if (version !== undefined && !(MESSAGE_VERSIONS as readonly unknown[]).includes(version)) {
    throw new InvalidMessageError(`${what}: unknown message version ${JSON.stringify(version)}, expected ${MESSAGE_VERSIONS.join(' or ')}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidMessageError(`${what}: ${issues}`, { cause: result.error });
  }
  return result.data;
}
