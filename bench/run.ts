/**
 * npm run bench: every benchmark in turn, each in its own process so one's warm caches do not
 * flatter the next. Each prints medians and ratios against a reference measured in the same run.
 *
 *   npm run bench                                         everything (about 10 minutes on 2 cores)
 *   npm run bench -- --only pipeline --classes 12mp --sections stages --runs 1    one part, quickly
 *   npm run bench -- --quick                              fewer iterations everywhere
 *
 * --only model,detect,pipeline,heic,http (or BENCH_ONLY) picks benchmarks; the other flags go to each of them:
 * model.bench.ts (--runs), detect.bench.ts (--seconds, --cold-runs), pipeline.bench.ts (--classes,
 * --sections stages,memory,sustained,bill, --runs, --images, --large-images), heic.bench.ts (--images, --runs),
 * http.bench.ts (--http-sections downloads,uploads, --downloads, --original-mb, --clients, --body-mb, --rate-kbps).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['model.bench.ts', 'detect.bench.ts', 'pipeline.bench.ts', 'heic.bench.ts', 'http.bench.ts'];
const { values, tokens } = parseArgs({
  strict: false,
  tokens: true,
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const only = (typeof values.only === 'string' ? values.only : process.env.BENCH_ONLY)?.split(',');
// Everything but --only/--quick goes through, in order.
const passOn: string[] = [];
const argv = process.argv.slice(2);
for (const t of tokens ?? []) {
  if (t.kind === 'option' && (t.name === 'only' || t.name === 'quick')) continue;
  if (t.kind === 'option') passOn.push(...argv.slice(t.index, t.index + (t.inlineValue === undefined && t.value !== undefined ? 2 : 1)));
  else if (t.kind === 'positional') passOn.push(t.value);
}
const quick = values.quick ? ['--runs', '1', '--seconds', '1', '--cold-runs', '1', '--images', '50', '--large-images', '12'] : [];
let failed = 0;
for (const file of BENCHES) {
  if (only && !only.some((o) => file.startsWith(o))) continue;
  console.log(`\n==================== ${file} ====================`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, file), ...quick, ...passOn], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
