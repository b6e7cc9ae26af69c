import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { PipelineError } from '../errors';
import { ClientGoneError, isClientGone } from './clientGone';
import { abortError } from './deadline';

/**
 * A multipart/form-data body parsed as it streams (busboy), for POST /upload and the embedded
 * bucket's POST /bucket. It settles at the first of: the whole form read, a malformed part (busboy's
 * `error`: a control byte or a space in a part header's name, more than 16 KB of part headers, a
 * cut-off form), a limit passed (parts, files, fields, a file's or a field's size), an error of the
 * body or of a file's consumer, or the request's signal. busboy reports a malformed part with
 * `error` and then never `close`: waiting for `close` alone hung such requests for ever.
 *
 * After a failure the body is unpiped and left paused: the caller answers, then decides what to do
 * with the rest of the request.
 */
export type MultipartProblem =
  | 'no_boundary'
  | 'malformed'
  | 'too_many_parts'
  | 'too_many_files'
  | 'too_many_fields'
  | 'file_too_large'
  | 'field_too_large';

export class MultipartError extends PipelineError {
  constructor(
    readonly problem: MultipartProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MultipartError';
  }
}

export interface MultipartLimits {
  /** The largest file part, in bytes. */
  fileBytes: number;
  files: number;
  /** Parts that are not files. */
  fields: number;
  /** Every part, files and fields. */
  parts: number;
  /** The largest field value, in bytes (its name: 100 bytes, busboy's default). */
  fieldBytes: number;
}

export interface FileInfo {
  /** The part's file name, as the client sent it (never a path to use). */
  filename?: string;
  mimeType: string;
}

export interface MultipartHandlers {
  field?(name: string, value: string): void;
  /**
   * A file part: `stream` must be read to its end (or resumed, to skip it). The promise is awaited
   * before the parse resolves; a rejection ends the parse with that error.
   */
  file(name: string, stream: Readable, info: FileInfo): Promise<void>;
}

const TOO_MANY: Record<'parts' | 'files' | 'fields', MultipartProblem> = {
  parts: 'too_many_parts',
  files: 'too_many_files',
  fields: 'too_many_fields',
};

export function parseMultipart(
  body: Readable,
  contentType: string,
  limits: MultipartLimits,
  handlers: MultipartHandlers,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: {
          fileSize: limits.fileBytes,
          files: limits.files,
          fields: limits.fields,
          parts: limits.parts,
          fieldSize: limits.fieldBytes,
        },
      });
    } catch (cause) {
      reject(new MultipartError('no_boundary', `expected a multipart body with a boundary: ${(cause as Error).message}`, { cause }));
      return;
    }
    const pending: Promise<void>[] = [];
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // The error listener stays: a request destroyed later still emits its error, which must not crash.
      body.off('close', onBodyClose);
      if (error) {
        body.unpipe(parser);
        body.pause();
        // Ends the file stream in progress, whose consumer then lets go of what it held. Not from
        // inside busboy's own event (a limit, a part): it carries on with the chunk after it.
        queueMicrotask(() => parser.destroy());
        reject(error);
      } else resolve();
    };
    const fail = (error: unknown) => settle(error instanceof Error ? error : new Error(String(error)));
    const onAbort = () => settle(abortError(signal));
    const onBodyError = (error: Error) => settle(isClientGone(error) ? new ClientGoneError(undefined, { cause: error }) : error);
    const onBodyClose = () => {
      if (!body.readableEnded) settle(new ClientGoneError('the request ended before its body did'));
    };

    parser.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) {
        const what = info.nameTruncated ? 'a field name of at most 100 bytes' : `a field value of at most ${limits.fieldBytes} bytes`;
        return settle(new MultipartError('field_too_large', `expected ${what}, got more in ${JSON.stringify(name)}`));
      }
      try {
        handlers.field?.(name, value);
      } catch (error) {
        fail(error);
      }
    });
    parser.on('file', (name, stream, info) => {
      // Errors reach the parse through `fail`; a consumer that is not listening any more must not crash the process.
      stream.on('error', () => undefined);
      stream.on('limit', () =>
        settle(new MultipartError('file_too_large', `expected a file of at most ${limits.fileBytes} bytes, got more`)),
      );
      // Called at once, so its consumer is listening before busboy goes on (and may end the stream).
      let handled: Promise<void>;
      try {
        handled = handlers.file(name, stream, {
          ...(info.filename !== undefined ? { filename: info.filename } : {}),
          mimeType: info.mimeType,
        });
      } catch (error) {
        handled = Promise.reject(error);
      }
      handled = handled.catch((error: unknown) => {
        stream.resume();
        fail(error);
      });
      pending.push(handled);
    });
    for (const limit of ['parts', 'files', 'fields'] as const) {
      parser.on(`${limit}Limit`, () => settle(new MultipartError(TOO_MANY[limit], `expected at most ${limits[limit]} ${limit}, got more`)));
    }
    parser.on('error', (cause: Error) => settle(new MultipartError('malformed', `malformed multipart body: ${cause.message}`, { cause })));
    parser.on('close', () => {
      void Promise.all(pending).then(() => settle(), fail);
    });
    if (signal.aborted) return onAbort();
    if (body.destroyed) return settle(new ClientGoneError('the request body was gone before it was read'));
    signal.addEventListener('abort', onAbort, { once: true });
    body.on('error', onBodyError).on('close', onBodyClose);
    body.pipe(parser);
  });
}
