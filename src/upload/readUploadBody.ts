import { Readable } from 'node:stream';
import busboy from 'busboy';
import { HttpError } from '../http/HttpError';

/**
 * Takes the image bytes out of an upload request: a multipart form with one file in the field
 * `image` (the seed's `curl -F "image=@photo.jpg"`), or a raw body with an image content type.
 * Limits are enforced while parsing; what is refused says what was expected.
 */
export interface UploadRequest {
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface UploadedFile {
  bytes: Buffer;
  filename?: string;
  declaredType?: string;
}

export const IMAGE_FIELD = 'image';

/**
 * `hint` follows "got …" in the message: why the limit is what it is, and where larger photos go
 * (uploadLimitHint).
 */
export function tooLarge(limit: number, got?: number, hint = ''): HttpError {
  return new HttpError(413, 'too_large', `expected an upload of at most ${limit} bytes, got ${got === undefined ? 'more' : got}${hint}`);
}

/** What a 413 of POST /upload adds: the Lambda cap when that is the limit, and POST /uploads when it takes more. */
export function uploadLimitHint(limits: {
  maxUploadBytes: number;
  maxUploadBytesIsLambdaCap: boolean;
  maxBucketUploadBytes: number;
}): string {
  const why = limits.maxUploadBytesIsLambdaCap ? ' (the most a Lambda invocation carries: 6 MB, base64-encoded)' : '';
  const where =
    limits.maxBucketUploadBytes > limits.maxUploadBytes
      ? `; send larger photos with POST /uploads (up to ${limits.maxBucketUploadBytes} bytes)`
      : '';
  return why + where;
}

export async function readUploadBody(req: UploadRequest, maxBytes: number, hint = ''): Promise<UploadedFile> {
  const contentType = req.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(contentType)) return readMultipart(req, contentType, maxBytes, hint);
  if (/^image\//i.test(contentType) || /^application\/octet-stream/i.test(contentType)) {
    if (req.body.length > maxBytes) throw tooLarge(maxBytes, req.body.length, hint);
    if (req.body.length === 0) throw new HttpError(400, 'empty_body', 'expected image bytes in the body, got an empty body');
    return { bytes: req.body, declaredType: contentType };
  }
  throw new HttpError(
    415,
    'unsupported_content_type',
    `expected multipart/form-data with a file field "${IMAGE_FIELD}", or a body with an image/* content type; got ${contentType ? JSON.stringify(contentType) : 'no content type'}`,
  );
}

function readMultipart(req: UploadRequest, contentType: string, maxBytes: number, hint: string): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType }, limits: { fileSize: maxBytes, files: 2, fields: 20, parts: 30 } });
    } catch (cause) {
      reject(new HttpError(400, 'bad_multipart', `expected a multipart body with a boundary: ${(cause as Error).message}`, { cause }));
      return;
    }
    const files: UploadedFile[] = [];
    const otherFields: string[] = [];
    let failed: HttpError | undefined;
    const fail = (e: HttpError) => {
      failed ??= e;
    };
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        chunks.push(c);
      });
      stream.on('limit', () => fail(tooLarge(maxBytes, undefined, hint)));
      stream.on('close', () => {
        if (name !== IMAGE_FIELD) otherFields.push(name);
        else files.push({ bytes: Buffer.concat(chunks, size), filename: info.filename, declaredType: info.mimeType });
      });
    });
    parser.on('filesLimit', () =>
      fail(new HttpError(400, 'several_files', `expected one file in field "${IMAGE_FIELD}", got more than 2 files`)),
    );
    parser.on('error', (cause: Error) =>
      fail(new HttpError(400, 'bad_multipart', `malformed multipart body: ${cause.message}`, { cause })),
    );
    parser.on('close', () => {
      if (failed) return reject(failed);
      if (files.length > 1)
        return reject(new HttpError(400, 'several_files', `expected one file in field "${IMAGE_FIELD}", got ${files.length} files`));
      const file = files[0];
      if (!file) {
        const got = otherFields.length ? `file field(s) ${otherFields.map((f) => JSON.stringify(f)).join(', ')}` : 'no file';
        return reject(new HttpError(400, 'missing_field', `expected a file in multipart field "${IMAGE_FIELD}", got ${got}`));
      }
      if (file.bytes.length === 0)
        return reject(new HttpError(400, 'empty_body', `expected image bytes in field "${IMAGE_FIELD}", got an empty file`));
      resolve(file);
    });
    Readable.from([req.body]).pipe(parser);
  });
}
