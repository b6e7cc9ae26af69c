import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import { IMAGE_EXTENSIONS } from '../../src/domain/imageFormats';
import { LOCAL_OWNER } from '../../src/domain/owners';
import { InvalidInputError } from '../../src/errors';
import { HttpError } from '../../src/http/HttpError';
import { acceptUpload } from '../../src/upload/acceptUpload';
import { checkUploadBytes } from '../../src/upload/admitUpload';
import { testApp } from '../helpers/factories';
import { FIXTURES_DIR, readFixture } from '../helpers/fixtures';
import { fuzz, mutated } from '../helpers/fuzz';

/**
 * The upload checks (src/upload/admitUpload.ts: what POST /upload and the bucket's ingest run before
 * anything is stored or queued) against mutated images of every accepted format: each answer is an
 * image within the limits or bad input (InvalidInputError, never retried), given before a deadline;
 * acceptUpload turns bad input into a 413, 415 or 422, nothing else. Seeds are fixed; see
 * test/helpers/fuzz.ts for FUZZ_SEED, FUZZ_RUNS and FUZZ_PATH.
 */
const FILE = 'test/unit/fuzz-checks.test.ts';
const DEADLINE_MS = 10_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS} ms: ${what}`)), DEADLINE_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Each format the pipeline takes: the fixtures of test/fixtures (JPEG, Ultra HDR JPEG, HEIC: single,
 * grid, with alpha, 10-bit), and the others made from a fixture, small (96x72) so that a run costs
 * milliseconds.
 */
async function everyFormat(): Promise<Array<[string, Buffer]>> {
  const small = sharp(readFixture('dog.jpg')).resize(96, 72);
  const fixture = (...parts: string[]) => readFileSync(path.join(FIXTURES_DIR, ...parts));
  return [
    ['jpeg', readFixture('dog.jpg')],
    ['jpeg (Ultra HDR)', fixture('ultrahdr', 'dog-ultrahdr.jpg')],
    ['heic', fixture('heic', 'dog.heic')],
    ['heic (grid)', fixture('heic', 'horses-grid.heic')],
    ['heic (alpha)', fixture('heic', 'person-alpha.heic')],
    ['heic (10-bit)', fixture('heic', 'person-10bit.heic')],
    ['jpeg (small, progressive)', await small.clone().jpeg({ progressive: true }).toBuffer()],
    ['png', await small.clone().png().toBuffer()],
    ['webp', await small.clone().webp().toBuffer()],
    ['gif', await small.clone().gif().toBuffer()],
    ['tiff', await small.clone().tiff().toBuffer()],
    ['avif', await small.clone().avif({ effort: 0 }).toBuffer()],
  ];
}

describe('fuzz: the upload checks on mutated images of every format', () => {
  let formats: Array<[string, Buffer]>;
  before(async () => {
    formats = await everyFormat();
  });

  it('checkUploadBytes: an image within the limits, or bad input, at once', async () => {
    const app = testApp({ env: { MAX_INPUT_PIXELS: String(4096 * 4096) } });
    for (const [format, bytes] of formats) {
      await fuzz(
        { name: 'checkUploadBytes: an image within the limits, or bad input, at once', file: FILE, defaultSeed: 17_001, defaultRuns: 300 },
        fc.asyncProperty(mutated(bytes, 1024), async (input) => {
          try {
            const info = await within(checkUploadBytes(input, app.config, 1_000_000), `${format}: ${input.length} bytes`);
            assert.ok(info.width >= 1 && info.height >= 1, `${format}: ${info.width}x${info.height}`);
            assert.ok(info.width * info.height <= app.config.limits.maxInputPixels, `${format}: ${info.width}x${info.height}`);
            assert.ok(IMAGE_EXTENSIONS.includes(info.ext), `${format}: a format the pipeline takes, got ${info.format} (${info.ext})`);
          } catch (error) {
            if (error instanceof Error && error.message.startsWith('no answer within')) throw error;
            assert.ok(error instanceof InvalidInputError, `${format}: expected bad input, got ${String(error)}`);
            assert.equal(error.retryable, false);
          }
        }),
      );
    }
  });

  it('acceptUpload: 202 or a 413/415/422 with a reason, nothing else', async () => {
    const app = testApp();
    for (const [format, bytes] of formats) {
      await fuzz(
        { name: 'acceptUpload: 202 or a 413/415/422 with a reason, nothing else', file: FILE, defaultSeed: 17_002, defaultRuns: 60 },
        fc.asyncProperty(mutated(bytes, 1024), async (input) => {
          try {
            const accepted = await within(acceptUpload(input, app, { owner: LOCAL_OWNER }), `${format}: ${input.length} bytes`);
            assert.equal(await app.store.exists(accepted.original_path), true);
          } catch (error) {
            if (error instanceof Error && error.message.startsWith('no answer within')) throw error;
            assert.ok(error instanceof HttpError, `${format}: expected a refusal, got ${String(error)}`);
            assert.ok([413, 415, 422].includes(error.statusCode), `${format}: ${error.statusCode} ${error.message}`);
            assert.ok(error.message.length > 0);
          }
        }),
      );
    }
  });
});
