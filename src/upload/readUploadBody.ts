import type { Readable } from 'node:stream';
import { HttpError, tooLarge } from '../http/HttpError';
import { MultipartError, parseMultipart } from '../http/multipart';
import { boundedBody } from '../http/readBody';
import type { SpooledFile, UploadSpool } from './spool';

/**
 * Takes the image bytes out of an upload request: a multipart form with one file in the field
 * `image` (the seed's `curl -F "image=@photo.jpg"`), or a raw body with an image content type.
 * The body is read once, as it streams, into the spool; limits are enforced while reading, and
 * every refusal (a malformed form, a limit passed, the deadline) comes at once and says what was
 * expected.
 */
export interface UploadRequest {
  headers: Record<string, string | undefined>;
  body: Readable;
  /** The body's length when known before reading it (a Lambda event's; a declared content-length). */
  bodyLength?: number;
  signal: AbortSignal;
}

export interface UploadedFile {
  file: SpooledFile;
  filename?: string;
  declaredType?: string;
}

export const IMAGE_FIELD = 'image';

/** A form of one photo has no business with more than this: a few fields beside the file. */
const FORM_LIMITS = { files: 2, fields: 20, parts: 30, fieldBytes: 64 * 1024 } as const;

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

export interface ReadUploadOptions {
  maxBytes: number;
  hint?: string;
  spool: UploadSpool;
}

export async function readUploadBody(req: UploadRequest, options: ReadUploadOptions): Promise<UploadedFile> {
  const contentType = req.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(contentType)) return readMultipart(req, contentType, options);
  if (/^image\//i.test(contentType) || /^application\/octet-stream/i.test(contentType)) {
    const { maxBytes, hint = '' } = options;
    const declared = req.bodyLength;
    if (declared !== undefined && declared > maxBytes) throw tooLarge(maxBytes, declared, hint);
    const file = await options.spool.take(
      boundedBody(req.body, { maxBytes, signal: req.signal, tooLarge: () => tooLarge(maxBytes, declared, hint) }),
    );
    if (file.size === 0) {
      await file.discard();
      throw new HttpError(400, 'empty_body', 'expected image bytes in the body, got an empty body');
    }
    return { file, declaredType: contentType };
  }
  throw new HttpError(
    415,
    'unsupported_content_type',
    `expected multipart/form-data with a file field "${IMAGE_FIELD}", or a body with an image/* content type; got ${contentType ? JSON.stringify(contentType) : 'no content type'}`,
  );
}

/** busboy's findings as the answers POST /upload gives. */
function refusal(error: MultipartError, maxBytes: number, hint: string): HttpError {
  switch (error.problem) {
    case 'file_too_large':
      return tooLarge(maxBytes, undefined, hint);
    case 'too_many_files':
      return new HttpError(400, 'several_files', `expected one file in field "${IMAGE_FIELD}", got more than ${FORM_LIMITS.files} files`);
    case 'no_boundary':
      return new HttpError(400, 'bad_multipart', error.message, { cause: error });
    case 'malformed':
      return new HttpError(
        400,
        'bad_multipart',
        `expected a well-formed multipart/form-data body with a file in field "${IMAGE_FIELD}", got one that is not: ${error.cause instanceof Error ? error.cause.message : error.message}`,
        { cause: error },
      );
    default:
      return new HttpError(400, 'bad_multipart', `expected a form with one file in field "${IMAGE_FIELD}": ${error.message}`, {
        cause: error,
      });
  }
}

async function readMultipart(req: UploadRequest, contentType: string, options: ReadUploadOptions): Promise<UploadedFile> {
  const { maxBytes, hint = '', spool } = options;
  const files: UploadedFile[] = [];
  const otherFiles: string[] = [];
  const discardAll = () => Promise.all(files.map((f) => f.file.discard()));
  // Set once the parse failed: a file whose spooling ends after that is let go at once.
  let refused = false;
  const inFlight: Promise<unknown>[] = [];
  try {
    await parseMultipart(
      req.body,
      contentType,
      { ...FORM_LIMITS, fileBytes: maxBytes },
      {
        async file(name, stream, info) {
          if (name !== IMAGE_FIELD) {
            otherFiles.push(name);
            stream.resume();
            return;
          }
          const taking = spool.take(stream);
          inFlight.push(taking);
          const file = await taking;
          if (refused) return void (await file.discard());
          files.push({ file, ...(info.filename !== undefined ? { filename: info.filename } : {}), declaredType: info.mimeType });
        },
      },
      req.signal,
    );
  } catch (error) {
    refused = true;
    // The parser has ended the file streams: wait for their spooling to let go of what it wrote.
    await Promise.allSettled(inFlight);
    await discardAll();
    throw error instanceof MultipartError ? refusal(error, maxBytes, hint) : error;
  }
  if (files.length > 1) {
    await discardAll();
    throw new HttpError(400, 'several_files', `expected one file in field "${IMAGE_FIELD}", got ${files.length} files`);
  }
  const file = files[0];
  if (!file) {
    const got = otherFiles.length ? `file field(s) ${otherFiles.map((f) => JSON.stringify(f)).join(', ')}` : 'no file';
    throw new HttpError(400, 'missing_field', `expected a file in multipart field "${IMAGE_FIELD}", got ${got}`);
  }
  if (file.file.size === 0) {
    await discardAll();
    throw new HttpError(400, 'empty_body', `expected image bytes in field "${IMAGE_FIELD}", got an empty file`);
  }
  return file;
}
