import { NUM_CLASSES } from '../domain/cocoLabels';
import type { Detection } from '../domain/messages';
import { releaseNow } from '../image/releaseNow';
import { type LoadedModel, loadSession, MODEL_INPUT, type SessionOptions } from './loadSession';
import { type NmsOptions, postprocess } from './nms';
import {
  assertRawImage,
  DEFAULT_LIMIT_INPUT_PIXELS,
  decodeForModel,
  MODEL_SIZE,
  type ModelImage,
  type RawImage,
  resizeBilinear,
} from './preprocess';

/** An encoded image (JPEG, PNG, WebP...) or raw 8-bit pixels (gray, RGB or RGBA). */
export type DetectInput = Buffer | Uint8Array | RawImage;

export interface DetectOptions extends SessionOptions, NmsOptions {
  /** Refuse images with more pixels than this (ImageTooLargeError). Default 40 000 000. */
  limitInputPixels?: number;
  /** Seconds the decode may take (IMAGE_TIMEOUT_SECONDS); the default budget when absent, 0 for none. */
  imageTimeoutSeconds?: number;
}

/** Milliseconds per step of one detection. */
export interface DetectTimings {
  decode: number;
  preprocess: number;
  inference: number;
  postprocess: number;
  total: number;
}

export interface DetectResult {
  detections: Detection[];
  timings: DetectTimings;
  /** Size of the (upright) image the boxes refer to. */
  width: number;
  height: number;
}

function isRawImage(input: DetectInput): input is RawImage {
  return !(input instanceof Uint8Array) && typeof input === 'object' && input !== null && 'data' in input;
}

/**
 * Runs the model on the image and returns what it finds, best first, boxes in the upright
 * image's pixels (EXIF orientation applied), with the time each step took.
 */
export async function detectWithTimings(input: DetectInput, options: DetectOptions = {}): Promise<DetectResult> {
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  const model = await loadSession(options);

  const t0 = performance.now();
  let decoded: ModelImage;
  if (isRawImage(input)) {
    assertRawImage(input, limit);
    decoded = { image: input, width: input.width, height: input.height, shrink: 1 };
  } else {
    // Encoded bytes: decoded at reduced scale when the photo is much larger than the model input.
    decoded = await decodeForModel(
      Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength),
      limit,
      options.imageTimeoutSeconds,
    );
  }
  const t1 = performance.now();
  const tensorData = resizeBilinear(decoded.image, MODEL_SIZE, MODEL_SIZE);
  // The pixels decoded here are this call's alone (a caller's raw image is left as it is).
  if (!isRawImage(input)) releaseNow(decoded.image.data);
  const t2 = performance.now();
  const { scores, boxes } = await runModel(model, tensorData);
  const t3 = performance.now();
  const detections = postprocess(
    { scores, boxes, numAnchors: boxes.length / 4, numClasses: NUM_CLASSES },
    decoded.width,
    decoded.height,
    options,
  );
  const t4 = performance.now();
  return {
    detections,
    width: decoded.width,
    height: decoded.height,
    timings: { decode: t1 - t0, preprocess: t2 - t1, inference: t3 - t2, postprocess: t4 - t3, total: t4 - t0 },
  };
}

/** Runs the model on the image and returns what it finds, best first, in the image's pixels. */
export async function detect(input: DetectInput, options: DetectOptions = {}): Promise<Detection[]> {
  return (await detectWithTimings(input, options)).detections;
}

/** One inference on a [1, 300, 300, 3] NHWC float32 RGB 0..255 input. */
export async function runModel(model: LoadedModel, input: Float32Array): Promise<{ scores: Float32Array; boxes: Float32Array }> {
  const tensor = new model.ort.Tensor('float32', input, [1, MODEL_SIZE, MODEL_SIZE, 3]);
  const out = await model.session.run({ [MODEL_INPUT]: tensor });
  const scores = out.scores;
  const boxes = out.boxes;
  if (!scores || !boxes) throw new Error(`model ${model.modelPath} returned no scores or boxes output`);
  const result = { scores: scores.data as Float32Array, boxes: boxes.data as Float32Array };
  const anchors = boxes.data.length / 4;
  if (scores.data.length !== anchors * NUM_CLASSES) {
    throw new Error(`model ${model.modelPath}: expected scores [1, ${anchors}, ${NUM_CLASSES}], got dims [${scores.dims.join(', ')}]`);
  }
  return result;
}
