import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ImageTooLargeError, UnsupportedImageError } from '../../src/errors';
import { drawDetections, labelMetrics } from '../../src/image/drawDetections';
import { grayscaleImage } from '../../src/image/grayscaleImage';
import { inspectImage } from '../../src/image/openImage';
import { resizeImage } from '../../src/image/resizeImage';
import { isSrgbProfile } from '../../src/image/srgbProfile';
import { fixtureNames, readFixture, referenceDetections } from '../helpers/fixtures';
import { corruptDeflatePng, corruptPixelsPng, pngBomb } from '../helpers/hostileImages';

const limits = { maxInputPixels: 40_000_000 };

describe('resizeImage', () => {
  for (const name of fixtureNames()) {
    it(`makes a 25 % JPEG of ${name}`, async () => {
      // Prepare
      const input = readFixture(name);
      const meta = await sharp(input).metadata();
      // Act
      const out = await resizeImage(input, { scale: 0.25, quality: 85, limits });
      // Assess
      const got = await sharp(out.data).metadata();
      assert.equal(got.format, 'jpeg');
      assert.equal(got.width, Math.round(meta.width! * 0.25));
      assert.equal(got.height, Math.round(meta.height! * 0.25));
      assert.equal(got.channels, 3);
      assert.deepEqual([out.originWidth, out.originHeight], [meta.width, meta.height]);
    });
  }

  it('keeps at least one pixel a side (1x1 and 12000x8 inputs)', async () => {
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const thin = await sharp({ create: { width: 12000, height: 8, channels: 3, background: '#0f0' } })
      .png()
      .toBuffer();
    const a = await resizeImage(tiny, { scale: 0.25, quality: 85, limits });
    const b = await resizeImage(thin, { scale: 0.25, quality: 85, limits });
    assert.deepEqual([a.width, a.height], [1, 1]);
    assert.deepEqual([b.width, b.height], [3000, 2]);
  });

  it('applies EXIF orientation 6: a 40x20 landscape stored rotated comes out 5x10 upright', async () => {
    const stored = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#00f' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const out = await resizeImage(stored, { scale: 0.25, quality: 85, limits });
    assert.deepEqual([out.originWidth, out.originHeight, out.width, out.height], [20, 40, 5, 10]);
  });

  it('refuses a decompression bomb by its header, before decoding', async () => {
    const bomb = pngBomb(30_000, 30_000);
    assert.ok(bomb.length < 1000);
    await assert.rejects(resizeImage(bomb, { scale: 0.25, quality: 85, limits }), (e: unknown) => {
      assert.ok(e instanceof ImageTooLargeError);
      assert.equal(e.message, 'expected at most 40000000 pixels, got 30000x30000 = 900000000');
      return true;
    });
  });

  it('refuses bytes that are not an image with a clear message', async () => {
    await assert.rejects(inspectImage(Buffer.from('hello, world'), limits), (e: unknown) => {
      assert.ok(e instanceof UnsupportedImageError);
      assert.equal(
        e.message,
        'expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got 12 bytes starting 68 65 6c 6c 6f 2c 20 77 that sharp cannot read',
      );
      return true;
    });
  });

  it('fails a truncated JPEG as bad input (not retryable), from its markers, before decoding', async () => {
    const truncated = readFixture('dog.jpg').subarray(0, 20_000);
    await assert.rejects(resizeImage(truncated, { scale: 0.25, quality: 85, limits }), (e: unknown) => {
      assert.ok(e instanceof UnsupportedImageError, String(e));
      assert.equal(e.corrupt, true);
      assert.equal(
        e.message,
        'truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (20000 bytes)',
      );
      return true;
    });
  });

  it('gives the same reason for a truncated JPEG under concurrency (libvips can lose its per-thread error text)', async () => {
    // Prepare: truncated photos, small and large, decoded many at once (this gave "Unknown error")
    const small = readFixture('dog.jpg');
    const large = await sharp(small).resize(3000, 2250).jpeg({ quality: 92 }).toBuffer();
    const inputs = Array.from({ length: 24 }, (_, i) =>
      (i % 2 ? small : large).subarray(0, Math.floor((i % 2 ? small : large).length / 2)),
    );
    // Act
    const messages = await Promise.all(
      inputs.map((bytes, i) =>
        (i % 3 === 0 ? grayscaleImage(bytes, { quality: 85, limits }) : resizeImage(bytes, { scale: 0.25, quality: 85, limits })).then(
          () => 'decoded',
          (e: Error) => e.message.replace(/^\w+: /, ''),
        ),
      ),
    );
    // Assess
    assert.deepEqual(
      messages,
      inputs.map(
        (b) => `truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (${b.length} bytes)`,
      ),
    );
  });

  it("names a truncated PNG and a damaged chunk from the bytes, and keeps libvips's reason for other damage", async () => {
    const png = await sharp(readFixture('dog.jpg')).png().toBuffer();
    await assert.rejects(resizeImage(png.subarray(0, 5000), { scale: 0.25, quality: 85, limits }), {
      message: 'resize: cannot decode image: premature end of PNG data: expected an IEND chunk, got 5000 bytes without one',
    });
    // A JPEG with all its markers but a bogus Huffman table: refused at its header, before a decode.
    const jpeg = Buffer.from(readFixture('dog.jpg'));
    const dht = jpeg.indexOf(Buffer.from([0xff, 0xc4]));
    jpeg.fill(0xff, dht + 5, dht + 21);
    await assert.rejects(grayscaleImage(jpeg, { quality: 85, limits }), {
      name: 'UnsupportedImageError',
      message: `expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got ${jpeg.length} bytes starting ff d8 ff e1 02 e6 45 78 that sharp cannot read`,
    });
    // Pixel data damaged, its chunk's CRC left wrong: the reason is read from the bytes.
    await assert.rejects(grayscaleImage(corruptPixelsPng(png), { quality: 85, limits }), {
      name: 'UnsupportedImageError',
      message: 'grayscale: cannot decode image: damaged PNG data: the CRC of the IDAT chunk at byte 54 does not match its bytes',
    });
    // The same damage with every CRC right: only inflating says what is wrong, so libvips's own
    // reason is kept (and asked for again, alone, if a concurrent call lost it).
    await assert.rejects(grayscaleImage(corruptDeflatePng(png), { quality: 85, limits }), {
      name: 'UnsupportedImageError',
      message: 'grayscale: cannot decode image: vipspng: libpng read error',
    });
  });
});

describe('grayscaleImage', () => {
  it('makes a single-channel JPEG of the same size', async () => {
    const resized = await resizeImage(readFixture('dog.jpg'), { scale: 0.25, quality: 85, limits });
    const out = await grayscaleImage(resized.data, { quality: 85, limits });
    const meta = await sharp(out.data).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.channels, 1);
    assert.deepEqual([meta.width, meta.height], [resized.width, resized.height]);
  });

  it('converts a CMYK JPEG and a 16-bit PNG', async () => {
    const cmyk = await sharp(readFixture('eagle.jpg')).toColourspace('cmyk').jpeg().toBuffer();
    const png16 = await sharp(readFixture('eagle.jpg')).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    assert.equal((await sharp(png16).metadata()).depth, 'ushort');
    for (const input of [cmyk, png16]) {
      const out = await grayscaleImage(input, { quality: 85, limits });
      assert.equal((await sharp(out.data).metadata()).channels, 1);
    }
  });
});

describe('drawDetections', () => {
  it('keeps the original size and changes pixels only near the boxes', async () => {
    // Prepare
    const input = readFixture('dog.jpg');
    const ref = referenceDetections()['dog.jpg']!;
    const detections = ref.detections.map((d) => ({
      label: d.label,
      score: d.score,
      box: { x: d.bbox[0], y: d.bbox[1], width: d.bbox[2], height: d.bbox[3] },
    }));
    // Act
    const out = await drawDetections(input, detections, { quality: 90, limits });
    // Assess
    const meta = await sharp(out.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', ref.width, ref.height, 3]);
    const a = await sharp(input).raw().toBuffer();
    const b = await sharp(out.data).raw().toBuffer();
    const { fontPx, pad, lineWidth } = labelMetrics(ref.width, ref.height);
    const margin = fontPx + 2 * pad + lineWidth + 4; // label band above a box, plus JPEG ringing
    const near = (x: number, y: number) =>
      detections.some((d) => {
        const { x: bx, y: by, width: w, height: h } = d.box;
        const inOuter = x >= bx - margin && x <= bx + w + margin && y >= by - margin && y <= by + h + margin;
        const inInner = x > bx + margin && x < bx + w - margin && y > by + margin && y < by + h - margin;
        return inOuter && !inInner;
      });
    let changedNear = 0;
    let changedFar = 0;
    for (let y = 0; y < ref.height; y++) {
      for (let x = 0; x < ref.width; x++) {
        const i = (y * ref.width + x) * 3;
        const diff = Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
        if (diff > 150) {
          if (near(x, y)) changedNear++;
          else changedFar++;
        }
      }
    }
    assert.ok(changedNear > 2000, `boxes drawn: ${changedNear} pixels changed near boxes`);
    assert.equal(changedFar, 0, `${changedFar} pixels changed away from the boxes`);
  });

  it('scales labels with the image', () => {
    assert.equal(labelMetrics(100, 80).fontPx, 11);
    assert.equal(labelMetrics(768, 576).fontPx, 16);
    assert.equal(labelMetrics(6000, 4000).fontPx, 64);
  });
});

describe('isSrgbProfile', () => {
  it('knows a plain sRGB profile from others, so only those skip the conversion', async () => {
    // Prepare: the fixtures' IEC sRGB profile, sharp's own sRGB, Display P3, a CMYK profile, none
    const profileOf = async (bytes: Buffer) => (await sharp(bytes).metadata()).icc;
    const dog = readFixture('dog.jpg');
    const tagged = async (profile: string) => sharp(dog).withIccProfile(profile).jpeg().toBuffer();
    // Act / Assess
    assert.equal(isSrgbProfile(await profileOf(dog)), true);
    assert.equal(isSrgbProfile(await profileOf(await tagged('srgb'))), true);
    assert.equal(isSrgbProfile(await profileOf(await tagged('p3'))), false);
    assert.equal(isSrgbProfile(await profileOf(await tagged('cmyk'))), false);
    assert.equal(isSrgbProfile(await profileOf(await sharp(dog).jpeg().toBuffer())), false);
    assert.equal(isSrgbProfile(Buffer.from('not a profile')), false);
  });

  it('still converts a Display P3 photo to sRGB (its greens and reds move)', async () => {
    // Prepare: the same pixels, tagged P3 (sharp converts sRGB -> P3 when tagging)
    const p3 = await sharp(readFixture('dog.jpg')).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    // Act
    const converted = await resizeImage(p3, { scale: 0.25, quality: 95, limits });
    const asIs = await sharp(p3, { ignoreIcc: true }).resize(192, 144).jpeg({ quality: 95 }).toBuffer();
    const original = await resizeImage(readFixture('dog.jpg'), { scale: 0.25, quality: 95, limits });
    // Assess: the converted copy is closer to the sRGB original than the unconverted pixels are
    const diff = async (a: Buffer, b: Buffer) => {
      const [x, y] = [await sharp(a).raw().toBuffer(), await sharp(b).raw().toBuffer()];
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
      return sum / x.length;
    };
    assert.ok((await diff(converted.data, original.data)) < (await diff(asIs, original.data)));
  });
});
