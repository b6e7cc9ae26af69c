/**
 * npm run bench: every benchmark in turn, each in its own process so one's warm caches do not
 * flatter the next. Each prints medians and ratios against a reference measured in the same run.
 * Extra arguments go to each benchmark (for example `npm run bench -- --seconds 5`).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['model.bench.ts', 'detect.bench.ts', 'pipeline.bench.ts'];
const only = process.env.BENCH_ONLY?.split(',');
let failed = 0;
for (const file of BENCHES) {
  if (only && !only.some((o) => file.startsWith(o))) continue;
  console.log(`\n==================== ${file} ====================`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, file), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
