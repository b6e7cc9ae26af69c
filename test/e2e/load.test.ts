import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureModel } from '../../models/ensure-model';
import { REPO_ROOT } from '../../scripts/repoRoot';

const run = promisify(execFile);

/** `npm run load` in small: 30 concurrent uploads on the embedded default, every one tagged. */
describe('npm run load (scripts/load.ts)', () => {
  it('30 concurrent uploads: all accepted, all tagged, none failed, dead-lettered or lost', async () => {
    const modelPath = await ensureModel();
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/load.ts', '--n', '30', '--concurrency', '10', '--timeout', '180', '--json'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, MODEL_PATH: modelPath, LOG_LEVEL: 'error' },
        timeout: 240_000,
      },
    );
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> & { latency_s: Record<string, number> };
    assert.deepEqual(
      [summary.accepted, summary.tagged, summary.failed, summary.dead_lettered, summary.lost],
      [30, 30, 0, 0, 0],
      JSON.stringify(summary),
    );
    assert.ok(
      summary.latency_s.p50! > 0 && summary.latency_s.p50! <= summary.latency_s.p95! && summary.latency_s.p95! <= summary.latency_s.p99!,
    );
  });

  it('refuses bad arguments with usage and exit code 2', async () => {
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', 'scripts/load.ts', '--target', 'ftp://x'], { cwd: REPO_ROOT }),
      (e: { code: number; stderr: string }) =>
        e.code === 2 && e.stderr.includes('--target: expected embedded or an http(s) URL, got "ftp://x"'),
    );
  });
});
