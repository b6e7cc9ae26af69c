/**
 * npm run pipeline -- <files or folders> [--json] [--timeout SECONDS]
 * Pushes images through all five stages on the embedded default and prints each image's
 * detections and outputs. Exits 1 when any image failed, after finishing the others, 2 on bad
 * arguments. Quiet: no log lines unless LOG_LEVEL asks for them (the CLI prints its own summary).
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { IMAGE_FORMATS, isImageFileName } from '../src/domain/imageFormats';
import { imageKey } from '../src/domain/keys';
import type { Detection } from '../src/domain/messages';
import { LOCAL_OWNER } from '../src/domain/owners';
import { HttpError } from '../src/http/HttpError';
import { childLogger } from '../src/logger/createLogger';
import { startEmbedded } from '../src/runtime/startEmbedded';
import { StatusWatcher } from '../src/status/StatusWatcher';
import { acceptUpload } from '../src/upload/acceptUpload';
import { parseCliArgs, usageError, wholeNumber } from './cliArgs';
import { embeddedApp } from './embeddedApp';
import { photoAdmission } from './photoAdmission';

const USAGE = 'usage: npm run pipeline -- <files or folders> [--json] [--timeout SECONDS]';
/** The CLI's log level when LOG_LEVEL is unset: errors only. */
const PIPELINE_LOG_LEVEL = 'error';
/**
 * Photos in the pipeline at once (see photoAdmission): 64 fill the queues' batches of 10 with
 * small photos; 100 MP is four 24 MP photos or eight of 12 MP, enough to keep two cores busy.
 */
const IN_FLIGHT = { maxPhotos: 64, maxPixels: 100_000_000 };

/** A photo's pixels, from its header (a file sharp cannot read weighs one: the pipeline refuses it). */
async function pixelsOf(file: string): Promise<number> {
  try {
    const { width = 1, height = 1 } = await sharp(file, { limitInputPixels: false }).metadata();
    return Math.max(1, width * height);
  } catch {
    return 1;
  }
}

function usage(message?: string): never {
  return usageError(USAGE, message);
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
  const { values, positionals: inputs } = parseCliArgs(USAGE, {
    options: { json: { type: 'boolean', default: false }, timeout: { type: 'string' } },
    allowPositionals: true,
  });
  const json = values.json;
  const timeoutMs = wholeNumber(USAGE, '--timeout', values.timeout, 300, 1, 86_400) * 1000;
  if (inputs.length === 0) usage('no input given');
  const files = collect(inputs);
  if (files.length === 0) usage(`no image files found (${IMAGE_FORMATS.flatMap((f) => f.fileExtensions).join(', ')})`);

  const progress = (s: string) => process.stderr.write(s);
  // Read once, quiet by default: one level for every logger of the app, the ports' included.
  const app = await embeddedApp({ defaults: { LOG_LEVEL: PIPELINE_LOG_LEVEL } });
  // Told of every stage record as it is written: the CLI waits on those, it does not poll.
  const watcher = new StatusWatcher();
  const watched = { ...app, store: watcher.wrap(app.store) };
  const embedded = await startEmbedded(watched);
  const dataImages = path.join(app.config.dataDir, 'images');
  const onDisk = (key: string) => path.join(dataImages, key);
  const log = childLogger(app.log, { stage: 'upload' });
  const t0 = performance.now();
  let finished = 0;
  let failedCount = 0;

  const admit = photoAdmission(IN_FLIGHT);
  const results = await Promise.all(
    files.map(async (file): Promise<Line> => {
      let line: Line;
      try {
        // This machine's one person's photos, as AUTH=none's callers': `npm start` shows them.
        const { accepted, outcome } = await admit(await pixelsOf(file), async () => {
          const accepted = await acceptUpload(await readFile(file), { ...watched, log }, { owner: LOCAL_OWNER });
          return { accepted, outcome: await watcher.waitFor(accepted.image_id, timeoutMs) };
        });
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
