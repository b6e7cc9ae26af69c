import { multipartBody } from './factories';
import { readFixture } from './fixtures';
import { corruptPixelsPng, noisyPng, pngBomb, realPngBomb } from './hostileImages';
import { MAX_CRAFTED_SCANS, progressiveJpeg } from './progressiveJpeg';

/**
 * Hostile uploads and what each must end in, whatever runs the pipeline (the embedded default in
 * test/e2e/bad-input.test.ts, the deployed stack in test/e2e/deployed-stack.test.ts): a clear 4xx
 * at upload with our message, or an accepted upload that fails for good at a stage with its reason.
 * Limits are the defaults' (2^26 = 67,108,864 pixels); cases that depend on MAX_UPLOAD_BYTES stay in bad-input.test.ts.
 */
export const OUR_FORMATS = 'JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC';

export interface UploadRequest {
  body: Buffer | FormData;
  headers?: Record<string, string>;
}

export function imageForm(bytes: Buffer, options: { field?: string; filename?: string; type?: string } = {}): FormData {
  const f = new FormData();
  f.append(
    options.field ?? 'image',
    new Blob([new Uint8Array(bytes)], { type: options.type ?? 'image/jpeg' }),
    options.filename ?? 'photo.jpg',
  );
  return f;
}

const raw = (body: Buffer, contentType: string): UploadRequest => ({ body, headers: { 'content-type': contentType } });
const multipart = (m: { body: Buffer; contentType: string }): UploadRequest => raw(m.body, m.contentType);

export interface RefusedUpload {
  name: string;
  request: () => UploadRequest;
  status: number;
  code: string;
  message: string | RegExp;
}

const text = Buffer.from('hello, this is not a photo at all');

const truncatedDog = (): Buffer => {
  const dog = readFixture('dog.jpg');
  return dog.subarray(0, Math.floor(dog.length / 2));
};

/** A grey PNG of 70000x1, made by hand (zlib only): sharp is not needed to build a test input. */
const wideStrip = (): Buffer => realPngBomb(70_000, 1);

const notAnImage = `expected ${OUR_FORMATS} image bytes, got ${text.length} bytes starting 68 65 6c 6c 6f 2c 20 74 that sharp cannot read`;

export const REFUSED_UPLOADS: readonly RefusedUpload[] = [
  {
    name: 'an empty multipart file',
    request: () => ({ body: imageForm(Buffer.alloc(0)) }),
    status: 400,
    code: 'empty_body',
    message: 'expected image bytes in field "image", got an empty file',
  },
  {
    name: 'an empty raw body',
    request: () => raw(Buffer.alloc(0), 'image/jpeg'),
    status: 400,
    code: 'empty_body',
    message: 'expected image bytes in the body, got an empty body',
  },
  {
    name: 'non-image bytes as a multipart image/jpeg',
    request: () => ({ body: imageForm(text) }),
    status: 415,
    code: 'not_an_image',
    message: notAnImage,
  },
  {
    name: 'non-image bytes as a raw image/jpeg',
    request: () => raw(text, 'image/jpeg'),
    status: 415,
    code: 'not_an_image',
    message: notAnImage,
  },
  {
    name: 'a claimed 30000x30000 PNG (decompression bomb at the header)',
    request: () => ({ body: imageForm(pngBomb(30_000, 30_000)) }),
    status: 413,
    code: 'too_many_pixels',
    message: 'expected at most 67108864 pixels, got 30000x30000 = 900000000',
  },
  {
    name: 'a real deflate-of-zeros 10000x10000 PNG bomb',
    request: () => ({ body: imageForm(realPngBomb(10_000, 10_000)) }),
    status: 413,
    code: 'too_many_pixels',
    message: 'expected at most 67108864 pixels, got 10000x10000 = 100000000',
  },
  {
    name: 'a valid progressive JPEG of 883 scans (each a pass over the image: the decode-cost attack)',
    request: () => ({ body: imageForm(progressiveJpeg(64, 48, MAX_CRAFTED_SCANS)) }),
    status: 413,
    code: 'too_many_scans',
    message: 'expected a JPEG of at most 32 scans, got 883 (a progressive JPEG is decoded one pass over the whole image per scan)',
  },
  {
    name: 'a PNG of 70000x1 (no JPEG output can hold it)',
    request: () => ({ body: imageForm(wideStrip(), { filename: 'strip.png', type: 'image/png' }) }),
    status: 413,
    code: 'side_too_long',
    message: 'expected at most 65500 pixels a side (the most a JPEG output can hold), got 70000x1',
  },
  {
    name: 'a truncated JPEG (its header is whole)',
    request: () => ({ body: imageForm(truncatedDog()) }),
    status: 422,
    code: 'corrupt_image',
    message: `truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after 1 scan (${truncatedDog().length} bytes)`,
  },
  {
    name: 'a multipart body with no file field',
    request: () => multipart(multipartBody([{ name: 'caption', data: 'a dog' }])),
    status: 400,
    code: 'missing_field',
    message: 'expected a file in multipart field "image", got no file',
  },
  {
    name: 'a file in the wrong field',
    request: () => ({ body: imageForm(readFixture('dog.jpg'), { field: 'photo' }) }),
    status: 400,
    code: 'missing_field',
    message: 'expected a file in multipart field "image", got file field(s) "photo"',
  },
  {
    name: 'two files',
    request: () =>
      multipart(
        multipartBody(
          ['a', 'b'].map((n) => ({ name: 'image', filename: `${n}.jpg`, contentType: 'image/jpeg', data: readFixture('dog.jpg') })),
        ),
      ),
    status: 400,
    code: 'several_files',
    message: 'expected one file in field "image", got 2 files',
  },
  {
    name: 'three files',
    request: () =>
      multipart(
        multipartBody(
          [1, 2, 3].map((i) => ({ name: 'image', filename: `${i}.jpg`, contentType: 'image/jpeg', data: readFixture('dog.jpg') })),
        ),
      ),
    status: 400,
    code: 'several_files',
    message: 'expected one file in field "image", got more than 2 files',
  },
  {
    name: 'a multipart content type with no boundary',
    request: () => raw(Buffer.from('x'), 'multipart/form-data'),
    status: 400,
    code: 'bad_multipart',
    message: /^expected a multipart body with a boundary: /,
  },
  {
    name: 'a JSON body',
    request: () => raw(Buffer.from('{}'), 'application/json'),
    status: 415,
    code: 'unsupported_content_type',
    message: 'expected multipart/form-data with a file field "image", or a body with an image/* content type; got "application/json"',
  },
];

export interface FailingUpload {
  name: string;
  request: () => UploadRequest;
  /** The stage that fails it for good, at its first attempt (bad input is not retried). */
  stage: 'resize' | 'grayscale' | 'detect' | 'tag';
  /** The exact error: derived from the bytes (src/image/decodeFailure.ts), the same under any load. */
  reason: string;
}

export const FAILING_UPLOADS: readonly FailingUpload[] = [
  {
    name: 'a PNG whose pixel data is damaged (its header and chunks are whole)',
    request: () => ({ body: imageForm(corruptPixelsPng(noisyPng(256, 64)), { filename: 'damaged.png', type: 'image/png' }) }),
    stage: 'resize',
    // Read from the bytes (src/image/decodeFailure.ts): libvips's own text can be lost when other
    // decodes run at the same time.
    reason:
      'UnsupportedImageError: resize: cannot decode image: damaged PNG data: the CRC of the IDAT chunk at byte 33 does not match its bytes',
  },
];
