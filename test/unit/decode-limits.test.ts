import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp, { type JpegOptions } from 'sharp';
import { DEFAULT_MAX_JPEG_SCANS } from '../../src/config';
import { ImageTooLargeError, isRetryable, UnsupportedImageError } from '../../src/errors';
import { isTimeBudgetError, JPEG_MAX_SIDE, timeBudgetError } from '../../src/image/decodeLimits';
import { readJpegStructure } from '../../src/image/jpegStructure';
import { imageEncodeError, inspectImage } from '../../src/image/openImage';
import { fixtureNames, readFixture } from '../helpers/fixtures';
import { MAX_CRAFTED_SCANS, progressiveJpeg } from '../helpers/progressiveJpeg';

/**
 * What an image may cost is decided before it is decoded (src/image/decodeLimits.ts): a JPEG's
 * scans counted by walking its markers, its structure whole, each side within what a JPEG output
 * holds; and a decode or encode that runs out of its time budget is bad input like the others.
 */
const limits = { maxInputPixels: 2 ** 26 };

function refusal(e: unknown, name: string, message: string): true {
  assert.ok(e instanceof Error, String(e));
  assert.equal(`${e.name}: ${e.message}`, `${name}: ${message}`);
  assert.equal(isRetryable(e), false, 'bad input is never retried');
  return true;
}

describe('the scans of a JPEG, counted from its markers', () => {
  it('what real encoders write stays far below the limit: libjpeg-turbo and mozjpeg through sharp, and every fixture', async () => {
    // Prepare: colour, grey and CMYK, baseline and progressive, with mozjpeg's scan optimisation too.
    const dog = readFixture('dog.jpg');
    const written: Array<[string, JpegOptions, number[]]> = [
      ['baseline', {}, [1, 1, 1]],
      ['progressive (libjpeg simple progression)', { progressive: true }, [10, 6, 18]],
      ['mozjpeg, scans optimised', { progressive: true, optimiseScans: true }, [9, 5, 18]],
      ['mozjpeg preset', { mozjpeg: true }, [7, 5, 18]],
    ];
    for (const [what, options, expected] of written) {
      const counts = [];
      for (const space of ['srgb', 'b-w', 'cmyk'] as const) {
        counts.push(readJpegStructure(await sharp(dog).toColourspace(space).jpeg(options).toBuffer()).scans);
      }
      // Assess
      assert.deepEqual(counts, expected, what);
      assert.ok(Math.max(...counts) * 1.5 < DEFAULT_MAX_JPEG_SCANS, what);
    }
    for (const name of fixtureNames()) assert.ok(readJpegStructure(readFixture(name)).scans <= 3, name);
  });

  it('counts every scan of a crafted progressive JPEG, up to the 883 of the attack', () => {
    for (const n of [1, 10, 32, 33, 100, MAX_CRAFTED_SCANS]) {
      assert.deepEqual(readJpegStructure(progressiveJpeg(64, 48, n)), { scans: n, progressive: true }, `${n} scans`);
    }
  });

  it('inspectImage takes 32 scans and refuses 33 (MAX_JPEG_SCANS), and the limit is configurable', async () => {
    assert.equal((await inspectImage(progressiveJpeg(64, 48, 32), limits)).format, 'jpeg');
    await assert.rejects(inspectImage(progressiveJpeg(64, 48, 33), limits), (e: unknown) => {
      assert.ok(e instanceof ImageTooLargeError);
      assert.equal(e.limit, 'scans');
      return refusal(
        e,
        'ImageTooLargeError',
        'expected a JPEG of at most 32 scans, got 33 (a progressive JPEG is decoded one pass over the whole image per scan)',
      );
    });
    assert.equal((await inspectImage(progressiveJpeg(64, 48, 100), { ...limits, maxJpegScans: 100 })).format, 'jpeg');
  });

  it('refuses the 240 KB, 8192x8192 JPEG of 883 scans from its markers alone (its decode costs 15 s of CPU)', async () => {
    const attack = progressiveJpeg(8192, 8192, MAX_CRAFTED_SCANS);
    assert.equal(attack.length, 240_594);
    await assert.rejects(inspectImage(attack, limits), (e: unknown) =>
      refusal(
        e,
        'ImageTooLargeError',
        'expected a JPEG of at most 32 scans, got 883 (a progressive JPEG is decoded one pass over the whole image per scan)',
      ),
    );
  });
});

describe('the marker structure of a JPEG', () => {
  const dog = readFixture('dog.jpg');
  const sos = dog.indexOf(Buffer.from([0xff, 0xda]));
  /** dog.jpg starts with its EXIF segment (APP1): the byte after it is where the next marker must be. */
  const app1Length = dog.readUInt16BE(4);
  const afterApp1 = 4 + app1Length;
  const eoi = dog.lastIndexOf(Buffer.from([0xff, 0xd9]));
  const corrupt = (bytes: Buffer, message: string) => () => {
    assert.throws(
      () => readJpegStructure(bytes),
      (e: unknown) => {
        assert.ok(e instanceof UnsupportedImageError && e.corrupt, String(e));
        assert.equal(e.message, message);
        return true;
      },
    );
  };

  it(
    'refuses bytes cut short after the last scan',
    corrupt(
      dog.subarray(0, eoi),
      `truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (${eoi} bytes)`,
    ),
  );
  it(
    'refuses bytes cut inside a segment',
    corrupt(dog.subarray(0, 30), `truncated JPEG: the segment FF E1 at byte 2 declares ${app1Length} bytes, 26 are left`),
  );
  it(
    'refuses bytes that do not start with FF D8',
    corrupt(Buffer.concat([Buffer.from([0x00]), dog]), 'malformed JPEG: expected the start-of-image marker FF D8, got 00 FF'),
  );
  it(
    'refuses a byte where a marker must be',
    corrupt(
      Buffer.concat([dog.subarray(0, afterApp1), Buffer.from([0x42]), dog.subarray(afterApp1)]),
      `malformed JPEG: expected a marker at byte ${afterApp1}, got 42`,
    ),
  );
  it('refuses a scan before the frame header', () => {
    const sof = dog.indexOf(Buffer.from([0xff, 0xc0]));
    const noFrame = Buffer.concat([dog.subarray(0, sof), dog.subarray(sof + 2 + dog.readUInt16BE(sof + 2))]);
    corrupt(noFrame, `malformed JPEG: a scan (FF DA) at byte ${sos - (dog.readUInt16BE(sof + 2) + 2)} comes before the frame header`)();
  });
  it('refuses a second frame header', () => {
    const sof = dog.indexOf(Buffer.from([0xff, 0xc0]));
    const frame = dog.subarray(sof, sof + 2 + dog.readUInt16BE(sof + 2));
    corrupt(
      Buffer.concat([dog.subarray(0, sos), frame, dog.subarray(sos)]),
      `malformed JPEG: a second frame header (FF C0) at byte ${sos}`,
    )();
  });
  it('refuses an end of image before any scan', () => {
    corrupt(
      Buffer.concat([dog.subarray(0, sos), Buffer.from([0xff, 0xd9])]),
      `malformed JPEG: the end-of-image marker at byte ${sos} comes before any scan`,
    )();
  });
  it('takes fill bytes before a marker, restart markers in a scan, and anything after the end of the image (a phone appends its video)', () => {
    const filled = Buffer.concat([dog.subarray(0, sos), Buffer.from([0xff, 0xff, 0xff]), dog.subarray(sos)]);
    assert.equal(readJpegStructure(filled).scans, 1);
    const restarts = Buffer.concat([dog.subarray(0, sos + 20), Buffer.from([0xff, 0xd0]), dog.subarray(sos + 20)]);
    assert.equal(readJpegStructure(restarts).scans, 1);
    const appended = Buffer.concat([dog, Buffer.from('....ftypmp42 and a whole video after the picture')]);
    assert.equal(readJpegStructure(appended).scans, 1);
  });
  it('inspectImage refuses a malformed JPEG as corrupt, whatever sharp makes of its header', async () => {
    await assert.rejects(inspectImage(dog.subarray(0, eoi), limits), (e: unknown) =>
      refusal(
        e,
        'UnsupportedImageError',
        `truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (${eoi} bytes)`,
      ),
    );
  });
});

describe('the sides the outputs can hold', () => {
  it(`refuses an image with a side over ${JPEG_MAX_SIDE} px (libjpeg's largest), either way round, at the header`, async () => {
    for (const [w, h] of [
      [70_000, 1],
      [1, 70_000],
      [65_501, 2],
    ] as const) {
      const png = await sharp({ create: { width: w, height: h, channels: 3, background: '#808080' } })
        .png()
        .toBuffer();
      await assert.rejects(inspectImage(png, limits), (e: unknown) => {
        assert.ok(e instanceof ImageTooLargeError);
        assert.equal(e.limit, 'side');
        return refusal(e, 'ImageTooLargeError', `expected at most 65500 pixels a side (the most a JPEG output can hold), got ${w}x${h}`);
      });
    }
  });

  it('takes 65500 px, which libjpeg still writes', async () => {
    const png = await sharp({ create: { width: 65_500, height: 1, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    assert.equal((await inspectImage(png, limits)).width, 65_500);
    const raw = Buffer.alloc(65_500 * 3, 128);
    assert.equal(
      (
        await sharp(raw, { raw: { width: 65_500, height: 1, channels: 3 } })
          .jpeg()
          .toBuffer()
      )[0],
      0xff,
    );
  });
});

describe('errors of decoders and encoders are bad input', () => {
  it("an encoder's refusal: terminal, with what was being written", async () => {
    const raw = Buffer.alloc(65_501 * 3, 128);
    const cause = await sharp(raw, { raw: { width: 65_501, height: 1, channels: 3 } })
      .jpeg()
      .toBuffer()
      .then(
        () => assert.fail('libjpeg wrote 65501 px'),
        (e: unknown) => e,
      );
    refusal(
      imageEncodeError(cause, 'tag', 65_501, 1, limits),
      'UnsupportedImageError',
      'tag: cannot encode the 65501x1 image as JPEG: VipsJpeg: Maximum supported image dimension is 65500 pixels',
    );
  });

  it("the time budget's error: terminal, saying the budget and how far it got", () => {
    const cause = new Error('timeout: 3% complete');
    assert.equal(isTimeBudgetError(cause), true);
    assert.equal(isTimeBudgetError(new Error('Input buffer contains unsupported image format')), false);
    const e = timeBudgetError('resize', { ...limits, imageTimeoutSeconds: 20 }, cause);
    assert.equal(e.limit, 'time');
    refusal(e, 'ImageTooLargeError', 'resize: expected the image to be processed within 20 s, stopped at 3% after 20 s');
  });
});
