/**
 * The embedded default in a child process, for crash tests: `node --import tsx embeddedChild.ts
 * [files…]` starts the pipeline on DATA_DIR (journaled in-process queue, folder store), uploads the
 * given files through acceptUpload, prints `accepted <image_id>` for each and `ready` once started,
 * then runs until killed. A test SIGKILLs it mid-run and starts another on the same DATA_DIR.
 */
import { readFileSync } from 'node:fs';
import { createApp } from '../../src/app/createApp';
import { configFromEnvironment } from '../../src/config';
import { startEmbedded } from '../../src/runtime/startEmbedded';
import { acceptUpload } from '../../src/upload/acceptUpload';

const app = createApp({ config: configFromEnvironment({ defaults: { LOG_LEVEL: 'error' } }), detector: 'worker' });
const pipeline = await startEmbedded(app);
process.stdout.write('ready\n');
for (const file of process.argv.slice(2)) {
  const accepted = await acceptUpload(readFileSync(file), app);
  process.stdout.write(`accepted ${accepted.image_id}\n`);
}
process.stdout.write('uploaded\n');
process.on('SIGTERM', () => void pipeline.stop().then(() => process.exit(0)));
setInterval(() => undefined, 60_000);
