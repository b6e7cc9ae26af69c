import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The default model's file: the int8 one (models/defaultModel.ts says why). The float model,
 * ssdlite_mobilenet_v2_coco.onnx beside it, is one setting away: MODEL_PATH.
 */
export const MODEL_FILE_NAME = 'ssdlite_mobilenet_v2_coco.int8.onnx';
/** Where the model layer is mounted on Lambda. */
export const LAMBDA_LAYER_MODEL_PATH = `/opt/${MODEL_FILE_NAME}`;

/**
 * `<repo>/layers/model/<file>` resolved from this source file (src/detect/), or undefined when
 * import.meta.url is not a file URL (e.g. bundled into CommonJS, where it is empty).
 */
function repoModelPath(): string | undefined {
  try {
    const url = import.meta.url;
    if (typeof url !== 'string' || !url.startsWith('file:')) return undefined;
    return path.resolve(path.dirname(fileURLToPath(url)), '../../layers/model', MODEL_FILE_NAME);
  } catch {
    return undefined;
  }
}

/**
 * Where to look for the model, in order: MODEL_PATH, the Lambda layer mount (/opt), the repository's
 * layers/model/ (from this file, then from the working directory, for bundles that moved the code).
 */
export function modelPathCandidates(env: Record<string, string | undefined> = process.env): string[] {
  if (env.MODEL_PATH) return [path.resolve(env.MODEL_PATH)];
  const candidates = [LAMBDA_LAYER_MODEL_PATH];
  const fromSource = repoModelPath();
  if (fromSource) candidates.push(fromSource);
  const fromCwd = path.resolve('layers/model', MODEL_FILE_NAME);
  if (!candidates.includes(fromCwd)) candidates.push(fromCwd);
  return candidates;
}

/**
 * The default model path: MODEL_PATH when set (even if missing, so the error names it), else the
 * first candidate that exists, else the repository path (the one `npm run build:model` writes).
 */
export function defaultModelPath(env: Record<string, string | undefined> = process.env): string {
  const candidates = modelPathCandidates(env);
  if (env.MODEL_PATH) return candidates[0]!;
  return candidates.find((p) => existsSync(p)) ?? candidates[1] ?? candidates[0]!;
}
