import { ensureModel } from '../models/ensure-model';
import { type App, createApp } from '../src/app/createApp';
import { configFromEnvironment } from '../src/config';

/**
 * The app of a CLI that runs the embedded default (start, pipeline, load): the config of this
 * process with the tool's defaults and its arguments' overrides, the model built if need be, the
 * detector in a worker thread.
 */
export async function embeddedApp(options: Parameters<typeof configFromEnvironment>[0] = {}): Promise<App> {
  const config = configFromEnvironment(options);
  const modelPath = config.detect.modelPath ?? (await ensureModel());
  return createApp({ config: { ...config, detect: { ...config.detect, modelPath } }, detector: 'worker' });
}
