/**
 * npm run pipeline -- <files or folders> [--json] [--timeout SECONDS]
 * Pushes images through all five stages on the embedded default and prints each image's
 * detections and outputs. Exits 1 when any image failed, after finishing the others.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureModel } from '../models/ensure-model';
import { loadConfig } from '../src/config';
import type { Detection } from '../src/contracts';
import { HttpError } from '../src/http/HttpError';
import { imageKey } from '../src/keys';
import { createLogger } from '../src/log';
import { IMAGE_FORMATS, isImageFileName } from '../src/ports/imageFormats';
import { startEmbedded } from '../src/runtime/startEmbedded';
import { StatusWatcher } from '../src/status/StatusWatcher';
import { acceptUpload } from '../src/upload/acceptUpload';

function usage(message?: string): never {
  if (message) process.stderr.write(`error: ${message}\n`);
  process.stderr.write('usage: npm run pipeline -- <files or folders> [--json] [--timeout SECONDS]\n');
  process.exit(2);
}

function collect(inputs: string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(input);
    } catch {
      usage(`no such file or folder: ${input}`);
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(input).sort()) if (isImageFileName(f)) files.push(path.join(input, f));
    } else files.push(input);
  }
  return files;
}

interface Line {
  file: string;
  image_id?: string;
  status: 'done' | 'failed';
  detections: Detection[];
  outputs: { original?: string; resized?: string; grayscale?: string; tagged?: string };
  error?: string;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const t = args.indexOf('--timeout');
  const timeoutMs = t >= 0 ? Number(args[t + 1]) * 1000 : 300_000;
  const inputs = args.filter((a, i) => !a.startsWith('--') && !(t >= 0 && i === t + 1));
  if (inputs.length === 0) usage('no input given');
  const files = collect(inputs);
  if (files.length === 0) usage(`no image files found (${IMAGE_FORMATS.flatMap((f) => f.fileExtensions).join(', ')})`);

  const progress = (s: string) => process.stderr.write(s);
  // Logs go to a file-free quiet level unless asked: the CLI prints its own summary.
  if (!process.env.LOG_LEVEL) process.env.LOG_LEVEL = 'warn';
  const config = loadConfig();
  const modelPath = config.detect.modelPath ?? (await ensureModel());
  const watcher = new StatusWatcher();
  const embedded = await startEmbedded({ config: { ...config, detect: { ...config.detect, modelPath } }, statusWatcher: watcher });
  const dataImages = path.join(config.dataDir, 'images');
  const onDisk = (key: string) => path.join(dataImages, key);
  const log = createLogger({}, config.logLevel);
  const t0 = performance.now();
  let finished = 0;
  let failedCount = 0;

  const results = await Promise.all(
    files.map(async (file): Promise<Line> => {
      let line: Line;
      try {
        const accepted = await acceptUpload(readFileSync(file), { ...embedded.deps, log });
        const outcome = await watcher.waitFor(accepted.image_id, timeoutMs);
        const id = accepted.image_id;
        line =
          outcome.status === 'done'
            ? {
                file,
                image_id: id,
                status: 'done',
                detections: outcome.stages.detect?.detections ?? [],
                outputs: {
                  original: onDisk(accepted.original_path),
                  resized: onDisk(imageKey('resized', id)),
                  grayscale: onDisk(imageKey('grayscale', id)),
                  tagged: onDisk(imageKey('tagged', id)),
                },
              }
            : {
                file,
                image_id: id,
                status: 'failed',
                detections: [],
                outputs: { original: onDisk(accepted.original_path) },
                error: outcome.status === 'timeout' ? `timed out after ${timeoutMs / 1000} s` : `${outcome.failedStage}: ${outcome.error}`,
              };
      } catch (error) {
        const message = error instanceof HttpError || error instanceof Error ? error.message : String(error);
        line = { file, status: 'failed', detections: [], outputs: {}, error: `upload: ${message}` };
      }
      finished++;
      if (line.status === 'failed') failedCount++;
      if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
      else {
        progress(`[${finished}/${files.length}] ${line.status === 'done' ? 'ok    ' : 'FAILED'} ${file}\n`);
        if (line.status === 'done') {
          const found = line.detections.map(
            (d) =>
              `${d.label} ${d.score.toFixed(2)} @ ${Math.round(d.box.x)},${Math.round(d.box.y)} ${Math.round(d.box.width)}x${Math.round(d.box.height)}`,
          );
          process.stdout.write(
            `  ${line.image_id}\n  detections: ${found.length ? found.join('; ') : 'none'}\n  tagged: ${line.outputs.tagged}\n`,
          );
        } else process.stdout.write(`  error: ${line.error}\n`);
      }
      return line;
    }),
  );
  await embedded.stop();
  const seconds = (performance.now() - t0) / 1000;
  progress(
    `${results.length - failedCount} done, ${failedCount} failed in ${seconds.toFixed(1)} s (${(results.length / seconds).toFixed(1)} images/s); outputs under ${dataImages}\n`,
  );
  process.exit(failedCount ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`pipeline failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
