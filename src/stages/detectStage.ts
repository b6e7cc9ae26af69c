import { type Detection, type DetectMessage, DetectMessageSchema, type TagMessage } from '../contracts';
import { inspectImage } from '../image/openImage';
import type { Stage } from './Stage';

/**
 * objectdetect_queue -> detections (no image) -> tag_queue. Looks at the copy named by
 * DETECT_SOURCE (the colour original by default; `grayscale` reproduces the seed) and converts
 * boxes to the original's pixels.
 */
export const detectStage: Stage<DetectMessage, TagMessage> = {
  name: 'detect',
  schema: DetectMessageSchema,
  inputQueue: (c) => c.queues.detect,
  outputQueue: (c) => c.queues.tag,
  async run(msg, { store, config, detect }) {
    const sourceKey = { original: msg.original_path, resized: msg.resized_path, grayscale: msg.path }[config.detect.source];
    const { body } = await store.get(sourceKey);
    const { width, height } = await inspectImage(body, config.limits);
    const found = await detect(body);
    const detections = toOriginal(found, width, height, msg.origin_w, msg.origin_h);
    return {
      outputKey: sourceKey,
      output: {
        v: 1,
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
