import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { ULTRAHDR_FIXTURE } from '../../scripts/fixtures/make-ultrahdr-fixture';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { detect } from '../../src/detect/Detector';
import { DECODE_MARGIN, MODEL_SIZE } from '../../src/detect/preprocess';
import { imageKey } from '../../src/domain/keys';
import type { Detection } from '../../src/domain/messages';
import { resizedSize, resizeImage } from '../../src/image/resizeImage';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { toOriginal } from '../../src/stages/detectStage';
import { assertSameDetections } from '../helpers/boxes';
import { BORDERLINE_SCORE, heicFixturePath, heicFixtures, heicReferenceDetections } from '../helpers/heicFixtures';
import { corruptHeicData, gridBomb, ispeBomb } from '../helpers/hostileHeic';
import { largeHeic } from '../helpers/largeHeic';
import { largePhoto } from '../helpers/largePhoto';
import { waitForImage } from '../helpers/waitForImage';

/**
 * Phones' photos on the embedded default. HEIC, as a phone's photo arrives: every way in (multipart, a raw body typed
 * image/heic, image/heif or application/octet-stream, the signed form of POST /uploads), each file
 * tagged with the detections of the same picture decoded by Debian's native heif-dec, the original
 * kept byte for byte; bombs refused at upload, corrupt image data failed for good with its reason.
 * Ultra HDR JPEGs: processed from their SDR rendering, the gain map in no output.
 */
describe("phones' photos (HEIC, Ultra HDR) on the embedded default, end to end over HTTP", () => {
  let pipeline: EmbeddedPipeline;
  let modelPath: string;

  before(async () => {
    modelPath = await ensureModel();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-heic-'));
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'warn', MODEL_PATH: modelPath });
    pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
  });
  after(async () => pipeline?.stop());

  /**
   * What the pipeline finds in a decoded picture given as a PNG, the way its detect stage looks:
   * from the 25 % copy resize makes when that keeps 600 px a side (detectSourceKey), else the whole.
   */
  async function detectAsThePipeline(png: Buffer): Promise<Detection[]> {
    const { config } = pipeline.app;
    const { width, height } = (await sharp(png).metadata()) as { width: number; height: number };
    const copy = resizedSize(width, height, config.resizeScale);
    if (Math.min(copy.width, copy.height) < DECODE_MARGIN * MODEL_SIZE) return detect(png, { modelPath });
    const resized = await resizeImage(png, { scale: config.resizeScale, quality: config.jpegQuality, limits: config.limits });
    return toOriginal(await detect(resized.data, { modelPath }), resized.width, resized.height, width, height);
  }

  /** POST /upload in one of the ways a client sends a HEIC. */
  async function upload(bytes: Buffer, name: string, way: number): Promise<Response> {
    if (way % 4 === 0) {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/heic' }), name);
      return fetch(`${pipeline.url}/upload`, { method: 'POST', body: form });
    }
    const type = ['application/octet-stream', 'image/heif', 'image/heic'][(way % 4) - 1]!;
    return fetch(`${pipeline.url}/upload`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': type } });
  }

  it('tags every HEIC fixture with the detections of the same picture decoded by heif-dec, the original kept untouched', async () => {
    // With an alpha plane the pictures differ by design (the copies flatten it on white, the native
    // tools' JPEG drops it): that fixture is held to its decode in test/unit/heic-decode.test.ts.
    const fixtures = heicFixtures().filter((f) => !f.alpha);
    const accepted = await Promise.all(
      fixtures.map(async (fixture, way) => {
        const bytes = readFileSync(heicFixturePath(fixture.file));
        const res = await upload(bytes, fixture.file, way);
        assert.equal(res.status, 202, `${fixture.file}: ${await res.clone().text()}`);
        return { fixture, bytes, ...((await res.json()) as { image_id: string }) };
      }),
    );
    for (const { fixture, bytes, image_id } of accepted) {
      const outcome = await waitForImage(pipeline.app.store, image_id, { timeoutMs: 120_000 });
      assert.equal(outcome.status, 'done', `${fixture.file}: ${outcome.error ?? ''}`);
      const original = await pipeline.app.store.get(imageKey('original', image_id, 'heic'));
      assert.ok(original.body.equals(bytes), `${fixture.file}: the original is stored as sent`);
      for (const folder of ['tagged', 'resized', 'grayscale'] as const) {
        const meta = await sharp((await pipeline.app.store.get(imageKey(folder, image_id))).body).metadata();
        assert.equal(meta.format, 'jpeg', `${fixture.file} ${folder}`);
        if (folder === 'tagged') assert.deepEqual([meta.width, meta.height], [fixture.width, fixture.height], fixture.file);
      }
      const { expected, unsettled } = await heicReferenceDetections(heicFixturePath(fixture.file), detectAsThePipeline);
      assert.ok(expected.length > unsettled.length, `${fixture.file}: the reference finds something for sure`);
      assertSameDetections(outcome.stages.detect?.detections ?? [], expected, fixture.file, { unsettled, borderline: BORDERLINE_SCORE });
    }
  });

  it('tags a 12 MP HEIC laid out as phones write it (a grid of 512 px tiles) like the same picture as JPEG', async () => {
    const jpeg = (await largePhoto('horses.jpg', 12, 8)).bytes;
    const heic = largeHeic(jpeg);
    const res = await upload(heic, 'IMG_0001.HEIC', 0);
    assert.equal(res.status, 202, await res.clone().text());
    const { image_id } = (await res.json()) as { image_id: string };
    const outcome = await waitForImage(pipeline.app.store, image_id, { timeoutMs: 180_000 });
    assert.equal(outcome.status, 'done', outcome.error ?? '');
    const tagged = await sharp((await pipeline.app.store.get(imageKey('tagged', image_id))).body).metadata();
    const size = await sharp(jpeg).metadata();
    assert.deepEqual([tagged.width, tagged.height], [size.width, size.height]);
    const { expected, unsettled } = await heicReferenceDetections(heicFile(heic), detectAsThePipeline);
    assertSameDetections(outcome.stages.detect?.detections ?? [], expected, '12 MP HEIC', { unsettled, borderline: BORDERLINE_SCORE });
  });

  it('tags an Ultra HDR JPEG (SDR photo with an HDR gain map) from its SDR rendering: no gain map in any output, detections of what an SDR screen shows', async () => {
    const photo = readFileSync(ULTRAHDR_FIXTURE);
    const res = await upload(photo, 'PXL_0001.jpg', 0);
    assert.equal(res.status, 202, await res.clone().text());
    const { image_id } = (await res.json()) as { image_id: string };
    const outcome = await waitForImage(pipeline.app.store, image_id, { timeoutMs: 60_000 });
    assert.equal(outcome.status, 'done', outcome.error ?? '');
    assert.ok((await pipeline.app.store.get(imageKey('original', image_id))).body.equals(photo), 'the original keeps its gain map');
    for (const folder of ['resized', 'grayscale', 'tagged'] as const) {
      const out = (await pipeline.app.store.get(imageKey(folder, image_id))).body;
      assert.equal((await sharp(out).metadata()).gainMap, undefined, folder);
      assert.equal(out.indexOf('hdrgm'), -1, folder);
    }
    const shown = await sharp(photo).toColourspace('srgb').png().toBuffer();
    assertSameDetections(outcome.stages.detect?.detections ?? [], await detectAsThePipeline(shown), 'Ultra HDR', {
      tolerance: { iou: 0.9, score: 0.002 },
    });
  });

  it('refuses HEIC bombs at upload, before decoding, like any other format: a declared size and a grid that assembles larger', async () => {
    const bombs = [
      ['declares 40000 x 40000', ispeBomb(readFileSync(heicFixturePath('dog.heic')), 40000, 40000), 'got 40000x40000 = 1600000000'],
      [
        'a grid of 773 x 512 that assembles to 60000 x 60000',
        gridBomb(readFileSync(heicFixturePath('horses-grid.heic')), 60000, 60000),
        'got 60000x60000 = 3600000000 (the size its tiles assemble to; it declares 773x512)',
      ],
    ] as const;
    for (const [what, bytes, got] of bombs) {
      const res = await upload(bytes, 'bomb.heic', 0);
      assert.equal(res.status, 413, `${what}: ${await res.clone().text()}`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'too_many_pixels', what);
      assert.equal(body.error.message, `expected at most 67108864 pixels, ${got}`, what);
    }
  });

  it('fails a HEIC whose image data is corrupt for good, at its first decode, with the reason', async () => {
    const bytes = corruptHeicData(readFileSync(heicFixturePath('dog.heic')));
    const res = await upload(bytes, 'corrupt.heic', 0);
    assert.equal(res.status, 202, await res.clone().text());
    const { image_id } = (await res.json()) as { image_id: string };
    const outcome = await waitForImage(pipeline.app.store, image_id, { timeoutMs: 60_000 });
    assert.equal(outcome.status, 'failed');
    const resize = outcome.stages.resize;
    assert.equal(resize?.state, 'failed');
    assert.equal(resize?.attempt ?? 1, 1, 'bad input is not retried');
    assert.equal(
      resize?.error,
      'UnsupportedImageError: HEIF: cannot decode the image: Decoder plugin generated an error: Unexpected end of file',
    );
  });
});

/** A HEIC held in memory, as a file for the native decoders. */
function heicFile(heic: Buffer): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'heic-large-ref-')), 'photo.heic');
  writeFileSync(file, heic);
  return file;
}
