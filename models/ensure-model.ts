import { DEFAULT_MODEL } from './defaultModel';
import { ensureFloatModel } from './ensure-float-model';

/**
 * Returns the path of the default model (models/defaultModel.ts: the float one), building it first
 * when missing or not the one the record describes. Tests, `npm start` and `npm run pipeline` call
 * this, so a fresh clone works without a separate build step.
 */
export async function ensureModel(): Promise<string> {
  if (DEFAULT_MODEL === 'float') return ensureFloatModel();
  const { ensureInt8Model } = await import('./build-int8');
  return ensureInt8Model();
}

/**
 * Both models, default first: what the model layer carries (the other one is one MODEL_PATH away on
 * Lambda too). Packaging calls this; the int8 build fetches its calibration photos once.
 */
export async function ensureLayerModels(): Promise<string[]> {
  const { ensureInt8Model } = await import('./build-int8');
  const float = await ensureFloatModel();
  const int8 = await ensureInt8Model();
  return DEFAULT_MODEL === 'float' ? [float, int8] : [int8, float];
}
