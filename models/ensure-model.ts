import { DEFAULT_MODEL } from './defaultModel';
import { ensureFloatModel } from './ensure-float-model';

/**
 * Returns the path of the default model (models/defaultModel.ts: the int8 one), building it (and
 * the float model it is made from) first when missing or not the one the record describes. Tests,
 * `npm start`, `npm run pipeline` and packaging call this, so a fresh clone works without a
 * separate build step.
 */
export async function ensureModel(): Promise<string> {
  if (DEFAULT_MODEL === 'float') return ensureFloatModel();
  const { ensureInt8Model } = await import('./build-int8');
  return ensureInt8Model();
}
