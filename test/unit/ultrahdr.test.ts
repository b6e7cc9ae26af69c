import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { ULTRAHDR_FIXTURE } from '../../scripts/fixtures/make-ultrahdr-fixture';
import { detect } from '../../src/detect/Detector';
import { drawDetections } from '../../src/image/drawDetections';
import { grayscaleImage } from '../../src/image/grayscaleImage';
import { inspectImage } from '../../src/image/openImage';
import { resizeImage } from '../../src/image/resizeImage';
import { readFixture } from '../helpers/fixtures';
import { meanAbsDiff, type Pixels } from '../helpers/heicFixtures';

const limits = { maxInputPixels: 2 ** 26 };
const photo = readFileSync(ULTRAHDR_FIXTURE);

async function srgb(input: Buffer | Sharp): Promise<Pixels> {
  const image = Buffer.isBuffer(input) ? sharp(input) : input;
  const { data, info } = await image.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Ultra HDR (JPEG-R) as recent Android phones take it: an SDR JPEG in Display P3, its HDR gain map
 * a second JPEG beside it (MPF, hdrgm XMP, ISO 21496-1). The outputs are the SDR rendering, in sRGB:
 * what an SDR screen shows, the gain map applied nowhere (not by us, and not by a viewer afterwards:
 * no output carries it or its metadata).
 */
describe('Ultra HDR JPEGs (an SDR photo with an HDR gain map)', () => {
  it('the fixture is one: libvips (libultrahdr) finds its gain map; upload takes it as a JPEG', async () => {
    const meta = await sharp(photo).metadata();
    assert.ok(meta.gainMap && meta.gainMap.image.length > 1000, 'a gain map');
    assert.ok(meta.icc, 'the SDR base has a colour profile (Display P3)');
    const info = await inspectImage(photo, limits);
    assert.deepEqual([info.format, info.ext, info.width, info.height], ['jpeg', 'jpg', 768, 576]);
  });

  it('every output is the SDR rendering in sRGB, with no gain map and no gain map metadata left in it', async () => {
    const sdr = await srgb(photo);
    // sharp 0.35's withGainMap (not in its type declarations yet): the HDR rendering, gain map applied.
    const withGainMapApplied = await srgb((sharp(photo) as Sharp & { withGainMap(): Sharp }).withGainMap());
    const resized = (await resizeImage(photo, { scale: 0.5, quality: 95, limits })).data;
    const grey = (await grayscaleImage(resized, { quality: 95, limits })).data;
    const tagged = (await drawDetections(photo, [], { quality: 95, limits })).data;
    for (const [what, jpeg] of [
      ['resized', resized],
      ['grayscale', grey],
      ['tagged', tagged],
    ] as const) {
      const meta = await sharp(jpeg).metadata();
      assert.equal(meta.gainMap, undefined, `${what}: no gain map`);
      assert.equal(jpeg.indexOf('hdrgm'), -1, `${what}: no hdrgm metadata`);
      assert.equal(jpeg.indexOf(Buffer.from('MPF\0', 'latin1')), -1, `${what}: no second picture (MPF)`);
    }
    // The tagged copy (no boxes here) is the SDR rendering re-encoded, far from the gain map applied.
    const out = await srgb(tagged);
    assert.ok(meanAbsDiff(out, sdr) < 1.5, `tagged vs the SDR rendering: ${meanAbsDiff(out, sdr).toFixed(2)} levels`);
    assert.ok(meanAbsDiff(out, withGainMapApplied) > 20, 'far from the HDR rendering');
    // And it is the photo it was made from (the sample, through Display P3 and back).
    assert.ok(meanAbsDiff(out, await srgb(readFixture('dog.jpg'))) < 3);
  });

  it('the detector looks at the pixels an SDR screen shows: the same detections as on that rendering', async () => {
    const modelPath = await ensureModel();
    const shown = await sharp(photo).toColourspace('srgb').png().toBuffer();
    const [got, expected] = await Promise.all([detect(photo, { modelPath }), detect(shown, { modelPath })]);
    assert.deepEqual(
      got.map((d) => d.label),
      expected.map((d) => d.label),
    );
    for (const [i, d] of got.entries()) {
      assert.ok(Math.abs(d.score - expected[i]!.score) < 0.002, `${d.label}: ${d.score} vs ${expected[i]!.score}`);
    }
    assert.ok(got.some((d) => d.label === 'dog'));
  });
});
