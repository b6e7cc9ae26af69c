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
import { ensureSource } from '../models/fetch-source';
import { readRecord } from '../models/record';

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
