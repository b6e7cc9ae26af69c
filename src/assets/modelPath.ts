import { existsSync } from 'node:fs';
import path from 'node:path';
import { layerPackageFile, layerPackageLookupDirs, repoPathFromSource } from './layerPackage';

/**
 * The two models `npm run build:model` writes to layers/model/: the conversion itself (float) and
 * its int8 quantization (models/quantize.ts, calibrated on photos that are not the fixtures).
 */
export const MODEL_FILES = {
  float: 'ssdlite_mobilenet_v2_coco.onnx',
  int8: 'ssdlite_mobilenet_v2_coco.int8.onnx',
} as const;

/**
 * Which model the pipeline runs by default, defined here only (models/defaultModel.ts re-exports
 * it for the build; src/ may not import models/): the float model, the only one that finds what the
 * reference finds (same objects, nothing added, no score moved by more than 0.02) on the evaluation
 * photos (test/integration/model-faithful.test.ts). The int8 model, about half the inference time,
 * moves borderline scores by up to 0.06 (models/README.md): an option, one MODEL_PATH away.
 */
export const DEFAULT_MODEL: keyof typeof MODEL_FILES = 'float';

/** The default model's file name: what the runtime looks for, and what the model layer's package carries. */
export const MODEL_FILE_NAME: string = MODEL_FILES[DEFAULT_MODEL];

/**
 * The package the model layer carries under `nodejs/node_modules/` (its package.json `main` is the
 * model file). Lambda runtimes put each layer's `nodejs/node_modules` on NODE_PATH (`/opt/nodejs/node_modules`
 * on AWS, one folder per layer on MiniStack), so module resolution finds it wherever the layer is.
 */
export const MODEL_PACKAGE = '@image-pipeline/model';

/** The repository's copy (what `npm run build:model` writes): for the embedded default and serverless-offline. */
function repoModelPaths(): string[] {
  const fromSource = repoPathFromSource(import.meta.url, '../../layers/model', MODEL_FILE_NAME);
  const fromCwd = path.resolve('layers/model', MODEL_FILE_NAME);
  return [...new Set([...(fromSource ? [fromSource] : []), fromCwd])];
}

/**
 * Where to look for the model, in order: the configured path alone when there is one (MODEL_PATH,
 * config.detect.modelPath); else the model layer's package found by module resolution; else the
 * repository's layers/model/ (from this file, then from the working directory, for bundles that
 * moved the code).
 */
export function modelPathCandidates(configured?: string): string[] {
  if (configured) return [path.resolve(configured)];
  const layer = layerPackageFile(import.meta.url, MODEL_PACKAGE);
  return [...(layer ? [layer] : []), ...repoModelPaths()];
}

/**
 * The model path: the configured one when there is one (even if missing, so the error names it),
 * else the first candidate that exists, else the repository path (the one `npm run build:model` writes).
 */
export function defaultModelPath(configured?: string): string {
  const candidates = modelPathCandidates(configured);
  if (configured) return candidates[0]!;
  return candidates.find((p) => existsSync(p)) ?? repoModelPaths()[0]!;
}

/** Where the default lookup looked, for the error that says the model is missing. */
export function modelLookupDescription(): string {
  return (
    `MODEL_PATH (unset), the package ${MODEL_PACKAGE} (the model layer) in ${layerPackageLookupDirs(import.meta.url, MODEL_PACKAGE).join(', ')}, ` +
    `and ${repoModelPaths().join(', ')}`
  );
}
