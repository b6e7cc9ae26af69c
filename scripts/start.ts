/**
 * npm start [-- --port 3000] [--host 127.0.0.1]
 * The embedded default. Serves the HTTP API (POST /upload, the status API, the gallery) on
 * http://127.0.0.1:3000 (PORT, HOST) and runs the four queue consumers in this process; images
 * land under ./data/images (DATA_DIR).
 */
import { startEmbedded } from '../src/runtime/startEmbedded';
import { parseCliArgs, wholeNumber } from './cliArgs';
import { embeddedApp } from './embeddedApp';

const USAGE = 'usage: npm start [-- --port PORT] [--host HOST]';

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, { options: { port: { type: 'string' }, host: { type: 'string' } } });
  const port = values.port === undefined ? undefined : String(wholeNumber(USAGE, '--port', values.port, 0, 0, 65_535));
  const app = await embeddedApp({ overrides: { PORT: port, HOST: values.host } });
  const embedded = await startEmbedded(app, { port: app.config.http.port, host: app.config.http.host });
  process.stderr.write(
    `image pipeline (embedded) listening on ${embedded.url}\n` +
      `  gallery: ${embedded.url}/  (drop photos there, watch them go through)\n` +
      `  upload:  curl -X POST -F "image=@photo.jpg" ${embedded.url}/upload\n` +
      `  outputs: ${app.config.dataDir}/images/{original,resized,grayscale,tagged}/\n` +
      '  Ctrl-C to stop\n',
  );
  // Every signal is handled, not only the first: a Ctrl-C reaches npm and this process both, and
  // npm forwards its copy, so a second one arrives while the first is stopping the pipeline.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping…\n');
    await embedded.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
