import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ImageTooLargeError, UnsupportedImageError } from '../../src/errors';
import { type ConcurrencyLimit, concurrencyLimit } from '../../src/image/concurrencyLimit';
import { decodeHeif, inspectHeif } from '../../src/image/heif/decodeHeif';
import { isHeic, sharpReadable } from '../../src/image/heif/sharpReadable';
import { resizeImage } from '../../src/image/resizeImage';
import { fixturePath, readFixture } from '../helpers/fixtures';
import { heicFixturePath, heicFixtures, meanAbsDiff, type Pixels, recentReferencePng, referenceDecode } from '../helpers/heicFixtures';
import { gridBomb, ispeBomb, truncatedHeic } from '../helpers/hostileHeic';

const limits = { maxInputPixels: 2 ** 26 };

async function srgbPixels(bytes: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(bytes, { autoOrient: false })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('HEIC decoding (libheif in WebAssembly) against Debian’s native decoder', () => {
  for (const fixture of heicFixtures()) {
    it(`${fixture.file}: ${fixture.tests}`, async () => {
      // Prepare
      const bytes = readFileSync(heicFixturePath(fixture.file));
      // Act
      const ours = await srgbPixels(await sharpReadable(bytes, limits));
      const reference = await referenceDecode(heicFixturePath(fixture.file));
      // Assess: the upright size the manifest says, and the same pixels as the native decode
      // (a mean difference of 1-3 levels: libheif 1.23's chroma upsampling against 1.15's, and the
      // reference's JPEG at quality 100)
      assert.deepEqual([ours.width, ours.height, ours.channels], [fixture.width, fixture.height, 3]);
      assert.deepEqual([reference.width, reference.height], [fixture.width, fixture.height]);
      const diff = meanAbsDiff(ours, reference);
      assert.ok(diff < 3.5, `mean difference from heif-dec ${diff.toFixed(2)} levels, expected < 3.5`);
      assert.deepEqual(await inspectHeif(bytes, limits), { width: fixture.width, height: fixture.height });
    });
  }

  it('keeps 10-bit samples (Main 10) as 16 for sharp to reduce, with rounding, as the native decoders do', async () => {
    const file = heicFixturePath('person-10bit.heic');
    const decoded = await decodeHeif(readFileSync(file), limits);
    assert.deepEqual([decoded.codedBits, decoded.bits], [10, 16]);
    assert.equal(decoded.data.length, decoded.width * decoded.height * 3 * 2);
    // libheif 1.23's native heif-dec writes 16-bit PNG: the same samples, read the same way.
    const ours = await srgbPixels(await sharpReadable(readFileSync(file), limits));
    const native = await srgbPixels(await recentReferencePng(file));
    assert.ok(meanAbsDiff(ours, native) < 0.5, `${meanAbsDiff(ours, native).toFixed(3)} levels from libheif 1.23's native decode`);
  });

  it('converts a Display P3 ICC profile and an nclx that says P3 to sRGB, like the sample they were made from', async () => {
    for (const [file, source] of [
      ['dog-p3-icc.heic', 'dog.jpg'],
      ['kite-nclx-p3.heic', 'kite.jpg'],
    ] as const) {
      const decoded = await decodeHeif(readFileSync(heicFixturePath(file)), limits);
      assert.ok(decoded.icc && decoded.icc.length > 100, `${file}: expected a colour profile to convert from`);
      // Compared at 1/16 of the size, where the coding noise averages out and the colours remain.
      const small = async (input: Buffer | { raw: Pixels }) =>
        srgbPixels(
          await ('raw' in input
            ? sharp(input.raw.data, { raw: { width: input.raw.width, height: input.raw.height, channels: 3 } })
            : sharp(input)
          )
            .resize(Math.round(decoded.width / 16), Math.round(decoded.height / 16), { fit: 'fill' })
            .png()
            .toBuffer(),
        );
      const converted = await small(await sharpReadable(readFileSync(heicFixturePath(file)), limits));
      const unconverted = await small({ raw: { data: decoded.data, width: decoded.width, height: decoded.height, channels: 3 } });
      const sample = await small(readFixture(source));
      const closer = meanAbsDiff(converted, sample);
      const further = meanAbsDiff(unconverted, sample);
      // What is left (about 2 levels for the kite) is the codec's own: an sRGB HEIC of the same photo is as far.
      assert.ok(closer < 0.8 * further, `${file}: converted ${closer.toFixed(2)} levels from ${source}, unconverted ${further.toFixed(2)}`);
    }
  });

  it('keeps an alpha plane, which the copies flatten on white (as a PNG), not black as the colour under it', async () => {
    const bytes = readFileSync(heicFixturePath('person-alpha.heic'));
    const decoded = await decodeHeif(bytes, limits);
    assert.equal(decoded.channels, 4);
    assert.equal(decoded.data[3], 0, 'the frame is transparent');
    assert.equal(decoded.data[(212 * 640 + 320) * 4 + 3], 255, 'the photo is opaque');
    const resized = await resizeImage(bytes, { scale: 0.5, quality: 95, limits });
    const { data } = await sharp(resized.data).raw().toBuffer({ resolveWithObject: true });
    assert.ok(data[0]! > 245 && data[1]! > 245 && data[2]! > 245, `the frame comes out white: ${data.subarray(0, 3).join(',')}`);
  });

  it('decodes the primary image, not the thumbnails or the second image', async () => {
    const ours = await srgbPixels(await sharpReadable(readFileSync(heicFixturePath('giraffe-multi.heic')), limits));
    const giraffe = await srgbPixels(await sharp(fixturePath('giraffe.jpg')).toBuffer());
    assert.deepEqual([ours.width, ours.height], [500, 500]);
    assert.ok(meanAbsDiff(ours, giraffe) < 12);
  });

  it('is HEIC for HEVC in HEIF, and not for JPEG or AVIF (AV1 in the same container, which sharp decodes)', async () => {
    const avif = await sharp(readFixture('dog.jpg')).avif({ quality: 40 }).toBuffer();
    assert.equal(await isHeic(readFileSync(heicFixturePath('dog.heic'))), true);
    assert.equal(await isHeic(readFixture('dog.jpg')), false);
    assert.equal(await isHeic(avif), false);
    assert.equal(await sharpReadable(avif, limits), avif);
  });

  it('resizes a HEIC inside the whole-photo limit (it is decoded whole), a JPEG outside it (shrink-on-load)', async () => {
    let active = 0;
    let most = 0;
    let calls = 0;
    const one = concurrencyLimit(1);
    const wholePhoto: ConcurrencyLimit = (run) => {
      calls++;
      return one(async () => {
        most = Math.max(most, ++active);
        try {
          return await run();
        } finally {
          active--;
        }
      });
    };
    const heics = ['dog.heic', 'horses-grid.heic', 'person-10bit.heic'].map((f) => readFileSync(heicFixturePath(f)));
    const out = await Promise.all(heics.map((bytes) => resizeImage(bytes, { scale: 0.25, quality: 85, limits, wholePhoto })));
    assert.deepEqual(
      out.map((o) => [o.width, o.height]),
      [
        [192, 144],
        [193, 128],
        [160, 106],
      ],
    );
    assert.deepEqual([calls, most], [3, 1]);
    await resizeImage(readFixture('dog.jpg'), { scale: 0.25, quality: 85, limits, wholePhoto });
    assert.equal(calls, 3, 'a JPEG does not wait for a slot');
  });

  it('refuses a file that declares more pixels than the limit before decoding anything', async () => {
    const bomb = ispeBomb(readFileSync(heicFixturePath('dog.heic')), 40000, 40000);
    await assert.rejects(inspectHeif(bomb, limits), (e: Error) => {
      assert.ok(e instanceof ImageTooLargeError);
      assert.equal(e.message, 'expected at most 67108864 pixels, got 40000x40000 = 1600000000');
      return true;
    });
  });

  it('refuses a grid whose tiles assemble to more than the limit although it declares a small size', async () => {
    const bomb = gridBomb(readFileSync(heicFixturePath('horses-grid.heic')), 60000, 60000);
    assert.equal((await sharp(bomb).metadata()).width, 773, 'the container declares 773 px: sharp alone would let it through');
    await assert.rejects(inspectHeif(bomb, limits), (e: Error) => {
      assert.ok(e instanceof ImageTooLargeError);
      assert.equal(
        e.message,
        'expected at most 67108864 pixels, got 60000x60000 = 3600000000 (the size its tiles assemble to; it declares 773x512)',
      );
      return true;
    });
  });

  it('says why a cut-short file cannot be read (bad input, not a fault)', async () => {
    const cut = truncatedHeic(readFileSync(heicFixturePath('dog.heic')));
    await assert.rejects(decodeHeif(cut, limits), (e: Error) => {
      assert.ok(e instanceof UnsupportedImageError);
      assert.match(e.message, /^HEIF: cannot read the HEIF container: Invalid input: Unexpected end of file: /);
      return true;
    });
  });
});
