/**
 * npm start: the embedded default. Serves POST /upload on http://localhost:3000 (PORT) and runs
 * the four queue consumers in this process; images land under ./data/images (DATA_DIR).
 */

import { ensureModel } from '../models/ensure-model';
import { loadConfig } from '../src/config';
import { apiRoutes } from '../src/runtime/apiRoutes';
import { startEmbedded } from '../src/runtime/startEmbedded';

async function main(): Promise<void> {
  const config = loadConfig();
  const modelPath = config.detect.modelPath ?? (await ensureModel());
  const port = Number(process.env.PORT ?? 3000);
  const embedded = await startEmbedded({
    config: { ...config, detect: { ...config.detect, modelPath } },
    port,
    host: process.env.HOST ?? '127.0.0.1',
    routes: apiRoutes(),
  });
  process.stderr.write(
    `image pipeline (embedded) listening on ${embedded.url}\n` +
      `  gallery: ${embedded.url}/  (drop photos there, watch them go through)\n` +
      `  upload:  curl -X POST -F "image=@photo.jpg" ${embedded.url}/upload\n` +
      `  outputs: ${config.dataDir}/images/{original,resized,grayscale,tagged}/\n` +
      '  Ctrl-C to stop\n',
  );
  const stop = async () => {
    process.stderr.write('stopping…\n');
    await embedded.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
