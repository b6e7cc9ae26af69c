import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { assertRawImage, decodeImage, flattenOnWhite, type RawImage, resizeBilinear } from '../../src/detect/preprocess';
import { ImageTooLargeError, UnsupportedImageError } from '../../src/errors';

/** Deterministic pseudo-random bytes (mulberry32), so a failure can be replayed. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** tf.image.resizeBilinear(alignCorners false, halfPixelCenters false) on the cpu backend. */
function tfResize(image: RawImage, outH: number, outW: number): Float32Array {
  return tf.tidy(() => {
    const t = tf.tensor3d(Array.from(image.data), [image.height, image.width, image.channels], 'float32');
    const rgb = image.channels === 1 ? tf.tile(t, [1, 1, 3]) : t;
    return tf.image.resizeBilinear(rgb as tf.Tensor3D, [outH, outW], false, false).dataSync() as Float32Array;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('resizeBilinear equals tf.image.resizeBilinear (alignCorners false, halfPixelCenters false)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  const cases: [string, number, number, 1 | 3, number, number][] = [
    ['downscale 3-channel 517x389 to 300x300', 517, 389, 3, 300, 300],
    ['upscale 3-channel 123x77 to 300x300', 123, 77, 3, 300, 300],
    ['1-channel gray 640x480 to 300x300 (replicated to RGB)', 640, 480, 1, 300, 300],
    ['non-square output and a 1-pixel-wide input', 1, 50, 3, 7, 13],
  ];
  for (const [title, width, height, channels, outH, outW] of cases) {
    it(title, () => {
      // Prepare
      const image: RawImage = { data: randomBytes(width * height * channels, width * 7919 + height), width, height, channels };
      // Act
      const ours = resizeBilinear(image, outH, outW);
      const theirs = tfResize(image, outH, outW);
      // Assess
      assert.equal(ours.length, outH * outW * 3);
      assert.ok(maxAbsDiff(ours, theirs) <= 1e-4, `max difference ${maxAbsDiff(ours, theirs)}`);
    });
  }

  it('is the identity at the same size', () => {
    const image: RawImage = { data: randomBytes(300 * 300 * 3, 1), width: 300, height: 300, channels: 3 };
    assert.deepEqual(resizeBilinear(image), Float32Array.from(image.data));
  });
});

describe('flattenOnWhite', () => {
  it('composites RGBA on white: opaque pixels unchanged, transparent ones white, half-transparent in between', () => {
    // Prepare
    const image: RawImage = { data: new Uint8Array([10, 20, 30, 255, 10, 20, 30, 0, 0, 0, 0, 128]), width: 3, height: 1, channels: 4 };
    // Act
    const flat = flattenOnWhite(image);
    // Assess
    assert.equal(flat.channels, 3);
    assert.deepEqual([...flat.data], [10, 20, 30, 255, 255, 255, 127, 127, 127]);
  });
});

describe('decodeImage', () => {
  it('applies the EXIF orientation: a 40x20 photo tagged "rotate 90" decodes as 20x40', async () => {
    // Prepare: left half red, right half blue, orientation 6 (rotate 90 clockwise to view)
    const left = { input: { create: { width: 20, height: 20, channels: 3 as const, background: '#ff0000' } }, left: 0, top: 0 };
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#0000ff' } })
      .composite([left])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    // Act
    const image = await decodeImage(jpeg);
    // Assess: upright is 20 wide, 40 high; red (the old left) is now on top
    assert.deepEqual([image.width, image.height, image.channels], [20, 40, 3]);
    const top = image.data.subarray(10 * 20 * 3 + 10 * 3, 10 * 20 * 3 + 10 * 3 + 3);
    assert.ok(top[0]! > 200 && top[2]! < 60, `top pixel ${[...top]}`);
  });

  it('decodes a single-channel JPEG to equal R, G, B and flattens a transparent PNG on white', async () => {
    const gray = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#808080' } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    assert.equal((await sharp(gray).metadata()).channels, 1);
    const png = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const g = await decodeImage(gray);
    const p = await decodeImage(png);
    assert.deepEqual([g.width, g.height, g.channels], [8, 6, 3]);
    assert.equal(g.data[0], g.data[1]);
    assert.equal(g.data[1], g.data[2]);
    assert.deepEqual([p.width, p.height, p.channels], [4, 4, 3]);
    assert.deepEqual([...p.data.subarray(0, 3)], [255, 255, 255]);
  });

  it('rejects bytes that are not an image with UnsupportedImageError', async () => {
    await assert.rejects(decodeImage(Buffer.from('definitely not an image')), (err: unknown) => {
      assert.ok(err instanceof UnsupportedImageError);
      assert.match(
        err.message,
        /^cannot decode image: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC bytes, got 23 bytes starting 646566696e697465 \(/,
      );
      return true;
    });
    await assert.rejects(decodeImage(Buffer.alloc(0)), {
      name: 'UnsupportedImageError',
      message: 'cannot decode image: expected JPEG, PNG or WebP bytes, got an empty buffer',
    });
  });

  it('rejects an image over the pixel limit with ImageTooLargeError', async () => {
    const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await assert.rejects(decodeImage(png, 9_999), (err: unknown) => {
      assert.ok(err instanceof ImageTooLargeError);
      assert.match(err.message, /^image is larger than the limit of 9999 pixels/);
      return true;
    });
  });
});

describe('assertRawImage', () => {
  it('accepts gray, RGB and RGBA pixels of the right length', () => {
    for (const channels of [1, 3, 4] as const) {
      assert.doesNotThrow(() => assertRawImage({ data: new Uint8Array(6 * channels), width: 3, height: 2, channels }));
    }
  });

  it('says what it expected and what arrived', () => {
    assert.throws(() => assertRawImage({ data: new Uint8Array(5), width: 3, height: 2, channels: 1 }), {
      name: 'UnsupportedImageError',
      message: 'raw image: expected 6 bytes (3x2x1), got 5',
    });
    assert.throws(() => assertRawImage({ data: new Uint8Array(12), width: 3, height: 2, channels: 2 as 1 }), {
      name: 'UnsupportedImageError',
      message: 'raw image: expected 1, 3 or 4 channels, got 2',
    });
    assert.throws(() => assertRawImage({ data: new Uint8Array(0), width: 0, height: 2, channels: 3 }), {
      name: 'UnsupportedImageError',
      message: 'raw image: expected positive whole width and height, got 0x2',
    });
    assert.throws(() => assertRawImage({ data: new Uint8Array(300), width: 10, height: 10, channels: 3 }, 99), {
      name: 'ImageTooLargeError',
      message: 'image is larger than the limit of 99 pixels (10x10)',
    });
  });
});
