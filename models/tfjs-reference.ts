/**
 * The TF.js reference: the original COCO-SSD graph model run by tfjs-converter on the wasm backend
 * with one thread. The ONNX conversion is tested and benchmarked against this.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage } from '../src/detect/preprocess';
import { labelForColumn, NUM_CLASSES } from '../src/domain/cocoLabels';
import { ensureSource } from './fetch-source';
import { readRecord } from './record';

export { tf };

export interface RawDetections {
  /** [1, 1917, 90] sigmoid scores, background dropped. */
  scores: Float32Array;
  /** [1, 1917, 4] normalised ymin, xmin, ymax, xmax (ExpandDims_1's singleton axis dropped). */
  boxes: Float32Array;
}

export interface TfjsReference {
  /** Runs the graph on an int32 [1, H, W, 3] image (the graph resizes it to 300x300 itself). */
  run(image: tf.Tensor4D): Promise<RawDetections>;
  dispose(): void;
}

let backendReady: Promise<void> | undefined;

/**
 * Selects the wasm backend once per process, single-threaded, with .wasm files from node_modules.
 * Exported for callers that create tensors before loading the model.
 */
export function initWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(`${dist}${path.sep}`);
    setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return backendReady;
}

/** A file-backed IOHandler: model.json plus its shards, concatenated in manifest order. */
function fileModelArtifacts(modelDir: string): tf.io.ModelArtifacts {
  const json = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as {
    modelTopology: unknown;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const shards = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(modelDir, p)))));
  const weightData = shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.byteLength) as ArrayBuffer;
  return { modelTopology: json.modelTopology as object, weightSpecs, weightData, format: 'graph-model' };
}

export async function loadTfjsReference(): Promise<TfjsReference> {
  await initWasmBackend();
  const record = readRecord();
  const modelDir = ensureSource(record);
  const model: GraphModel = await loadGraphModel(tf.io.fromMemory(fileModelArtifacts(modelDir)));
  const outputs = [record.tfGraph.outputs.scores, record.tfGraph.outputs.boxes];
  return {
    async run(image) {
      if (image.dtype !== 'int32') throw new TypeError(`expected an int32 image tensor, got ${image.dtype}`);
      const [scores, boxes] = (await model.executeAsync({ [record.tfGraph.input]: image }, outputs)) as tf.Tensor[];
      try {
        return { scores: (await scores!.data()) as Float32Array, boxes: (await boxes!.data()) as Float32Array };
      } finally {
        scores?.dispose();
        boxes?.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}

/** One detection as @tensorflow-models/coco-ssd 2.2.3 reports it: bbox [x, y, width, height] in pixels. */
export interface ReferenceDetection {
  label: string;
  score: number;
  bbox: [number, number, number, number];
}

/**
 * What the reference finds in an encoded photo: the photo decoded upright at full size as the
 * detector decodes it (src/detect/preprocess.ts decodeImage, so both see the same pixels), the graph
 * (which resizes to 300x300 itself), then coco-ssd 2.2.3's post-processing: each anchor's best
 * class, tf.image.nonMaxSuppression(20 boxes, IoU 0.5, score > 0.5), boxes scaled to the photo.
 */
export async function detectWithReference(
  reference: TfjsReference,
  bytes: Buffer,
): Promise<{ width: number; height: number; detections: ReferenceDetection[] }> {
  const image = await decodeImage(bytes);
  const rgb =
    image.channels === 3 ? image.data : Uint8Array.from({ length: image.width * image.height * 3 }, (_, i) => image.data[(i / 3) | 0]!);
  const input = tf.tensor4d(Int32Array.from(rgb), [1, image.height, image.width, 3], 'int32');
  let raw: RawDetections;
  try {
    raw = await reference.run(input);
  } finally {
    input.dispose();
  }
  const anchors = raw.boxes.length / 4;
  const best = new Float32Array(anchors);
  const bestColumn = new Int32Array(anchors);
  for (let a = 0; a < anchors; a++) {
    let max = Number.MIN_VALUE;
    for (let c = 0; c < NUM_CLASSES; c++) {
      const s = raw.scores[a * NUM_CLASSES + c]!;
      if (s > max) [max, bestColumn[a]] = [s, c];
    }
    best[a] = max;
  }
  const kept = tf.tidy(() => tf.image.nonMaxSuppression(tf.tensor2d(raw.boxes, [anchors, 4]), tf.tensor1d(best), 20, 0.5, 0.5));
  const indices = Array.from(await kept.data());
  kept.dispose();
  const { width, height } = image;
  const detections = indices.map((i): ReferenceDetection => {
    const [y0, x0, y1, x1] = [
      raw.boxes[i * 4]! * height,
      raw.boxes[i * 4 + 1]! * width,
      raw.boxes[i * 4 + 2]! * height,
      raw.boxes[i * 4 + 3]! * width,
    ];
    return { label: labelForColumn(bestColumn[i]!) ?? `class id ${bestColumn[i]! + 1}`, score: best[i]!, bbox: [x0, y0, x1 - x0, y1 - y0] };
  });
  return { width, height, detections };
}
