/**
 * The embedded default in a child process, for crash tests: `node --import tsx embeddedChild.ts
 * [--hold-tagged-after N] [files…]` starts the pipeline on DATA_DIR (journaled in-process queue,
 * folder store), uploads the given files through acceptUpload, prints `accepted <image_id>` for each
 * and `uploaded` after the last, then runs until killed. With `--hold-tagged-after N` the tag stage
 * writes N tagged images and then hangs on the next write, printing `holding` once: a test kills
 * the process then, on any machine, with exactly N tagged and the rest of the work in flight.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApp } from '../../src/app/createApp';
import { configFromEnvironment } from '../../src/config';
import { LOCAL_OWNER } from '../../src/domain/owners';
import { startEmbedded } from '../../src/runtime/startEmbedded';
import { acceptUpload } from '../../src/upload/acceptUpload';
import { overridingStore } from './overridingStore';

const { values, positionals } = parseArgs({ options: { 'hold-tagged-after': { type: 'string' } }, allowPositionals: true });
const holdAfter = values['hold-tagged-after'] === undefined ? Number.POSITIVE_INFINITY : Number(values['hold-tagged-after']);

const app = createApp({ config: configFromEnvironment({ defaults: { LOG_LEVEL: 'error' } }), detector: 'worker' });
// Counted when a write starts, so concurrent batches cannot both slip past the limit; `holding` is
// printed once the N writes are on disk and a further one is waiting.
let started = 0;
let written = 0;
let waiting = false;
let announced = false;
const announce = () => {
  if (waiting && written === holdAfter && !announced) {
    announced = true;
    process.stdout.write('holding\n');
  }
};
const store = overridingStore(app.store, {
  put: async (key, body, options) => {
    if (!key.startsWith('tagged/')) return app.store.put(key, body, options);
    if (started >= holdAfter) {
      waiting = true;
      announce();
      return new Promise<never>(() => undefined); // never written: the test kills this process
    }
    started += 1;
    await app.store.put(key, body, options);
    written += 1;
    announce();
  },
});
const held = { ...app, store };
const pipeline = await startEmbedded(held);
process.stdout.write('ready\n');
for (const file of positionals) {
  const accepted = await acceptUpload(readFileSync(file), held, { owner: LOCAL_OWNER });
  process.stdout.write(`accepted ${accepted.image_id}\n`);
}
process.stdout.write('uploaded\n');
process.on('SIGTERM', () => void pipeline.stop().then(() => process.exit(0)));
setInterval(() => undefined, 60_000);
