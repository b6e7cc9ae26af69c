import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureModel } from '../../models/ensure-model';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { fixturePath } from '../helpers/fixtures';
import { heicFixturePath } from '../helpers/heicFixtures';

const run = promisify(execFile);

/** Lines of the output that are JSON log records (Powertools: an object with a `level`). */
function logLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return parsed !== null && typeof parsed === 'object' && 'level' in parsed ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/**
 * `npm run pipeline` prints its own summary and no log lines unless LOG_LEVEL asks for them, the
 * ports' lines included: its quiet level reaches every logger because the config is read once and
 * the app's one logger is handed down, to the ports too (createPorts' `log`). (It used to set
 * LOG_LEVEL after the process-wide logger was made, so a port's warning still came out; and a port
 * on a logger of its own would say nothing when LOG_LEVEL does ask.)
 */
describe('npm run pipeline (scripts/pipeline.ts) is quiet', () => {
  let env: NodeJS.ProcessEnv;
  before(async () => {
    const { LOG_LEVEL: _ignored, ...rest } = process.env;
    env = { ...rest, MODEL_PATH: await ensureModel() };
  });

  /** A data folder whose resize queue journal ends in a torn line, as a crash mid-write leaves it: the queue warns on start. */
  function dataDirWithTornJournal(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-cli-'));
    mkdirSync(path.join(dir, 'queues'));
    writeFileSync(path.join(dir, 'queues', 'resize_queue.jsonl'), '{"op":"send","id":"torn","bo');
    return dir;
  }

  const pipeline = (dir: string, extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/pipeline.ts', fixturePath('dog.jpg')], {
      cwd: REPO_ROOT,
      env: { ...env, DATA_DIR: dir, ...extra },
    });

  it('by default: one fixture tagged, the summary printed, not one JSON log line on stdout or stderr', async () => {
    const { stdout, stderr } = await pipeline(dataDirWithTornJournal());
    assert.match(stdout, /detections: .*dog 0\.\d\d/);
    assert.match(stderr, /^1 done, 0 failed in /m);
    assert.deepEqual(logLines(stdout), []);
    assert.deepEqual(logLines(stderr), []);
  });

  it("with LOG_LEVEL=info: the queue's warning about the torn journal, through the app's logger", async () => {
    const dir = dataDirWithTornJournal();
    const { stdout, stderr } = await pipeline(dir, { LOG_LEVEL: 'info', POWERTOOLS_SERVICE_NAME: 'pipeline-cli-test' });
    const lines = [...logLines(stdout), ...logLines(stderr)];
    const torn = lines.filter((l) => l.message === 'queue journal: skipping an unreadable line');
    // The port's line carries the app's settings (its service name, Powertools' keys): the app's logger, not one of its own.
    assert.deepEqual(
      torn.map((l) => [l.level, l.service, l.file, l.line]),
      [['WARN', 'pipeline-cli-test', path.join(dir, 'queues', 'resize_queue.jsonl'), 1]],
    );
    assert.match(String(torn[0]!.timestamp), /^\d{4}-\d\d-\d\dT/);
  });

  it('with LOG_LEVEL=warn: that warning and no info line', async () => {
    const { stdout, stderr } = await pipeline(dataDirWithTornJournal(), { LOG_LEVEL: 'warn' });
    const lines = [...logLines(stdout), ...logLines(stderr)];
    assert.deepEqual(
      lines.map((l) => [l.level, l.message]),
      [['WARN', 'queue journal: skipping an unreadable line']],
    );
  });

  it('with LOG_LEVEL=info: the stage lines of the one photo, followed by its image_id', async () => {
    const { stdout, stderr } = await pipeline(dataDirWithTornJournal(), { LOG_LEVEL: 'info' });
    const lines = [...logLines(stdout), ...logLines(stderr)];
    const done = lines.filter((l) => l.message === 'stage done');
    assert.deepEqual(
      done.map((l) => l.stage),
      ['upload', 'resize', 'grayscale', 'detect', 'tag'],
    );
    assert.equal(new Set(done.map((l) => l.image_id)).size, 1);
  });
});

describe("npm run pipeline takes phones' photos", () => {
  it('picks .heic and .heif files from a folder (any case) and tags them; the originals stay HEIC', async () => {
    const photos = mkdtempSync(path.join(os.tmpdir(), 'pipeline-cli-heic-'));
    copyFileSync(heicFixturePath('dog.heic'), path.join(photos, 'IMG_0001.HEIC'));
    copyFileSync(heicFixturePath('horses-grid.heic'), path.join(photos, 'horses.heif'));
    writeFileSync(path.join(photos, 'notes.txt'), 'not a photo');
    const { LOG_LEVEL: _ignored, ...rest } = process.env;
    const { stdout } = await run('npm', ['run', '-s', 'pipeline', '--', photos, '--json'], {
      cwd: REPO_ROOT,
      env: { ...rest, MODEL_PATH: await ensureModel(), DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'pipeline-cli-data-')) },
    });
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; status: string; detections: Array<{ label: string }>; outputs: Record<string, string> });
    assert.deepEqual(lines.map((l) => [path.basename(l.file), l.status]).sort(), [
      ['IMG_0001.HEIC', 'done'],
      ['horses.heif', 'done'],
    ]);
    for (const l of lines) assert.match(l.outputs.original!, /\.heic$/);
    assert.ok(lines.find((l) => l.file.endsWith('HEIC'))!.detections.some((d) => d.label === 'dog'));
    assert.ok(lines.find((l) => l.file.endsWith('heif'))!.detections.some((d) => d.label === 'horse'));
  });
});

/**
 * `npm run pipeline` and `npm start` run Node with glibc's MALLOC_ARENA_MAX at 2 unless the
 * environment sets it (docs/using.md): with an arena per thread, the image threads' freed buffers
 * stayed in their arenas (24 real photos peaked at 860 MB, 620 MB with 2). Seen from inside the
 * script's own Node process: a --require probe prints what it was started with.
 */
describe('npm run pipeline and npm start: the memory arenas', () => {
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'arena-probe-'));
  const probe = path.join(probeDir, 'probe.cjs');
  writeFileSync(
    probe,
    [
      'if (process.argv.some((a) => /scripts[\\\\/](pipeline|start)\\.ts$/.test(a)))',
      "  process.stderr.write('ARENAS=' + process.env.MALLOC_ARENA_MAX + '\\n');",
      '',
    ].join('\n'),
  );
  const { MALLOC_ARENA_MAX: _unset, ...base } = process.env;
  const arenas = async (script: string[], extra: NodeJS.ProcessEnv = {}) => {
    // npm run pipeline with no input stops at once (usage, exit 2); npm start is stopped once it has said.
    const child = execFile('npm', ['run', '-s', ...script], {
      cwd: REPO_ROOT,
      env: {
        ...base,
        ...extra,
        NODE_OPTIONS: `--require=${probe}`,
        PORT: '0',
        DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'arena-data-')),
      },
    });
    let stderr = '';
    const said = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const found = /^ARENAS=(.*)$/m.exec(stderr);
        if (found) resolve(found[1]!);
      });
      child.on('exit', () => reject(new Error(`npm run ${script.join(' ')} ended without the probe's line; stderr:\n${stderr}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.on('exit', resolve) : resolve(undefined)));
    return said;
  };

  it("npm run pipeline: 2 by default, the caller's value when set", async () => {
    assert.equal(await arenas(['pipeline']), '2');
    assert.equal(await arenas(['pipeline'], { MALLOC_ARENA_MAX: '4' }), '4');
  });

  it('npm start: 2 by default', async () => {
    assert.equal(await arenas(['start']), '2');
  });
});
