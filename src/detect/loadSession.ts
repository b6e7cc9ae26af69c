import { stat } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import { defaultModelPath, MODEL_FILE_NAME, MODEL_PACKAGE, modelLookupDescription } from '../assets/modelPath';
import { DetectorLoadError } from './errors';

export type OrtModule = typeof Ort;

export interface SessionOptions {
  /** The .onnx file (config.detect.modelPath: MODEL_PATH); default: the model layer's package (module resolution), <repo>/layers/model/<model>. */
  modelPath?: string;
  /** Threads for one inference; default: onnxruntime's (one per physical core). */
  intraOpNumThreads?: number;
}

export interface LoadedModel {
  ort: OrtModule;
  session: Ort.InferenceSession;
  modelPath: string;
  /** Milliseconds spent importing onnxruntime-node and creating the session. */
  loadMs: number;
}

/** The model's contract (see models/): NHWC RGB 0..255 in, per-class scores and boxes out. */
export const MODEL_INPUT = 'image';
export const MODEL_OUTPUTS = ['scores', 'boxes'] as const;

/** Seams for tests: how the runtime is imported. */
export interface LoadDeps {
  importRuntime?: () => Promise<unknown>;
}

const defaultImport = () => import('onnxruntime-node');

const cache = new Map<string, Promise<LoadedModel>>();

/**
 * The inference session for a model, created once per process and per (path, threads): later
 * calls share the same promise. A failed load is not cached, so a later call retries (say, once
 * `npm run build:model` has written the file).
 */
export function loadSession(options: SessionOptions = {}, deps: LoadDeps = {}): Promise<LoadedModel> {
  const explicit = options.modelPath !== undefined;
  const modelPath = options.modelPath ?? defaultModelPath();
  const key = `${modelPath}\u0000${options.intraOpNumThreads ?? 'default'}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = createSession(modelPath, explicit, options.intraOpNumThreads, deps.importRuntime ?? defaultImport);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

/** Forgets (and releases) every cached session. For tests and benchmarks. */
export async function clearSessionCache(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) {
    try {
      await (await p).session.release();
    } catch {
      /* a failed load has nothing to release */
    }
  }
}

async function createSession(
  modelPath: string,
  explicit: boolean,
  intraOpNumThreads: number | undefined,
  importRuntime: () => Promise<unknown>,
): Promise<LoadedModel> {
  const started = performance.now();
  await assertModelFile(modelPath, explicit);
  const ort = await importOrt(importRuntime);
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      ...(intraOpNumThreads !== undefined ? { intraOpNumThreads } : {}),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (cause) {
    throw new DetectorLoadError(
      `could not load the model ${modelPath}: onnxruntime-node rejected it (the file is truncated, corrupt or not an ONNX model). ` +
        `Rebuild it with \`npm run build:model\`, or set MODEL_PATH to a valid ${MODEL_FILE_NAME}`,
      'model-invalid',
      modelPath,
      { cause },
    );
  }
  const fits = session.inputNames.includes(MODEL_INPUT) && MODEL_OUTPUTS.every((name) => session.outputNames.includes(name));
  if (!fits) {
    await session.release().catch(() => undefined);
    throw new DetectorLoadError(
      `the model ${modelPath} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}], ` +
        `expected input "${MODEL_INPUT}" and outputs "${MODEL_OUTPUTS.join('", "')}". ` +
        `Rebuild it with \`npm run build:model\`, or set MODEL_PATH to a valid ${MODEL_FILE_NAME}`,
      'model-invalid',
      modelPath,
    );
  }
  return { ort, session, modelPath, loadMs: performance.now() - started };
}

async function assertModelFile(modelPath: string, explicit: boolean): Promise<void> {
  let isFile = false;
  let cause: unknown;
  try {
    isFile = (await stat(modelPath)).isFile();
  } catch (err) {
    cause = err;
  }
  if (isFile) return;
  const looked = explicit ? '' : ` (looked in ${modelLookupDescription()})`;
  throw new DetectorLoadError(
    `model file not found: ${modelPath}${looked}. ` +
      `Build it with \`npm run build:model\` (writes layers/model/${MODEL_FILE_NAME}), set MODEL_PATH to the .onnx file, ` +
      `or on Lambda attach the model layer (\`npm run build:functions\` puts the package ${MODEL_PACKAGE} in layers/model/nodejs/node_modules/)`,
    'model-missing',
    modelPath,
    cause === undefined ? {} : { cause },
  );
}

/** Imports onnxruntime-node; on failure gathers the causes and says how to fix it (as sharp does). */
async function importOrt(importRuntime: () => Promise<unknown>): Promise<OrtModule> {
  const errors: unknown[] = [];
  let ort: OrtModule | undefined;
  try {
    const mod = (await importRuntime()) as OrtModule & { default?: OrtModule };
    ort = mod.InferenceSession ? mod : mod.default;
    if (!ort?.InferenceSession) errors.push(new Error('onnxruntime-node has no InferenceSession export'));
  } catch (err) {
    errors.push(err);
  }
  if (ort?.InferenceSession && errors.length === 0) return ort;

  const runtime = `${process.platform}-${process.arch}`;
  const help = [`could not load onnxruntime-node on the ${runtime} runtime (Node ${process.versions.node})`];
  for (const err of errors) {
    const e = err as { code?: string; message?: string };
    help.push(e.code ? `${e.code}: ${e.message ?? String(err)}` : (e.message ?? String(err)));
  }
  help.push(
    'Possible solutions:',
    '- Reinstall the dependencies with `npm ci` (offline: the CPU binaries ship in the package; its install script stays off in the allowScripts of package.json)',
    `- Check that node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/ holds onnxruntime_binding.node and libonnxruntime.so.*`,
    '- In a Lambda artefact, keep the linux/x64 binaries of onnxruntime-node when trimming the package',
  );
  throw new DetectorLoadError(help.join('\n'), 'runtime-unavailable', undefined, {
    cause: errors.length === 1 ? errors[0] : new AggregateError(errors, 'onnxruntime-node load failures'),
  });
}
