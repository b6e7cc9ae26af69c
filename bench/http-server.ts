/**
 * The embedded HTTP API alone, in a process of its own, for bench/http.bench.ts: started with
 * `--expose-gc` by `fork`, on DATA_DIR, it tells its parent its URL, then answers two messages:
 *   mark    collect garbage, note the resident set (VmRSS) as the baseline, reset the high-water mark
 *   report  the baseline and the high-water mark (VmHWM) since `mark`, in MB
 * The queue consumers do not run: what is measured is the HTTP path (bodies in, images out, the
 * store), not the stages. Linux only (/proc/self/status and clear_refs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createApp } from '../src/app/createApp';
import { configFromEnvironment } from '../src/config';
import { startHttpApi } from '../src/runtime/startEmbedded';

function status(field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`/proc/self/status has no ${field}: this benchmark needs Linux`);
  return Number(line.split(/\s+/)[1]) / 1024;
}

const app = createApp({ config: configFromEnvironment({ defaults: { LOG_LEVEL: 'error' } }), detector: async () => [] });
const server = await startHttpApi(app, 0, '127.0.0.1');
let baseline = 0;
process.on('message', (message: string) => {
  if (message === 'mark') {
    (globalThis as { gc?: () => void }).gc?.();
    baseline = status('VmRSS');
    // "5" resets the peak resident set (VmHWM) to the current one (proc(5), clear_refs).
    writeFileSync('/proc/self/clear_refs', '5');
    process.send?.({ marked: baseline });
  } else if (message === 'report') {
    process.send?.({ baselineMb: baseline, peakMb: status('VmHWM') });
  } else if (message === 'stop') {
    void server.close().then(() => app.close().then(() => process.exit(0)));
  }
});
process.send?.({ url: server.url });
