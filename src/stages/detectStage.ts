import type { Config } from '../config';
import { DECODE_MARGIN, MODEL_SIZE } from '../detect/preprocess';
import { type Detection, type DetectMessage, versionFor } from '../domain/messages';
import { inspectImage } from '../image/openImage';
import { resizedSize } from '../image/resizeImage';
import type { Stage } from './Stage';

/**
 * The copy the detector reads: the one DETECT_SOURCE names (`grayscale` reproduces the seed), where
 * `original` (the default) is read from its resized copy when that copy still has DECODE_MARGIN x
 * MODEL_SIZE (600) pixels on its short side (a photo of about 12 MP and up at the default 25 %):
 * the detector would decode the original at about that scale anyway (see decodeForModel), and the
 * copy is a tenth of the bytes to fetch and decode. Measured on 12 and 24 MP upscales of the
 * fixtures, the copy's detections are as close to the reference as the reduced decode's
 * (test/integration/detect-reduced-decode.test.ts). Smaller photos are read whole, in colour.
 */
export function detectSourceKey(msg: DetectMessage, config: Config): string {
  if (config.detect.source === 'resized') return msg.resized_path;
  if (config.detect.source === 'grayscale') return msg.path;
  const copy = resizedSize(msg.origin_w, msg.origin_h, config.resizeScale);
  return Math.min(copy.width, copy.height) >= DECODE_MARGIN * MODEL_SIZE ? msg.resized_path : msg.original_path;
}

/**
 * objectdetect_queue -> detections (no image) -> tag_queue. Looks at the copy detectSourceKey
 * picks and converts boxes to the original's pixels.
 */
export const detectStage: Stage<'detect'> = {
  name: 'detect',
  async run(msg, { store, config, detect }) {
    const sourceKey = detectSourceKey(msg, config);
    const { body } = await store.get(sourceKey);
    const { width, height } = await inspectImage(body, config.limits);
    const found = await detect(body);
    const detections = toOriginal(found, width, height, msg.origin_w, msg.origin_h);
    return {
      outputKey: sourceKey,
      output: {
        ...versionFor(msg.owner),
        image_id: msg.image_id,
        original_path: msg.original_path,
        request_id: msg.request_id,
        origin_h: msg.origin_h,
        origin_w: msg.origin_w,
        detections,
      },
      detail: { detections },
    };
  },
};

/** Scales boxes from a w x h copy to the W x H original, clamped to it, rounded to 0.1 px. */
export function toOriginal(detections: readonly Detection[], w: number, h: number, W: number, H: number): Detection[] {
  const sx = W / w;
  const sy = H / h;
  const r = (n: number) => Math.round(n * 10) / 10;
  return detections.map((d) => {
    const x0 = Math.min(W, Math.max(0, d.box.x * sx));
    const y0 = Math.min(H, Math.max(0, d.box.y * sy));
    const x1 = Math.min(W, Math.max(0, (d.box.x + d.box.width) * sx));
    const y1 = Math.min(H, Math.max(0, (d.box.y + d.box.height) * sy));
    return { label: d.label, score: Math.round(d.score * 1000) / 1000, box: { x: r(x0), y: r(y0), width: r(x1 - x0), height: r(y1 - y0) } };
  });
}
