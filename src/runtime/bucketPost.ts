import type http from 'node:http';
import { pipeline, Transform } from 'node:stream';
import { isClientGone } from '../http/clientGone';
import { HttpError } from '../http/HttpError';
import { MultipartError, parseMultipart } from '../http/multipart';
import { boundedBody, declaredLength } from '../http/readBody';
import { childLogger, type Logger } from '../logger/createLogger';
import { FOLDER_POST_PATH, POST_FILE_FIELD, PostPolicyError, type ReleaseClaim } from '../ports/folderPostPolicy';
import type { ObjectStore, PostGrant } from '../ports/ObjectStore';
import { closeAfterAnswer } from './closeAfterAnswer';
import type { RawRoute } from './httpServer';
import { s3ErrorBody } from './s3ErrorBody';

/**
 * The embedded server's `POST /bucket`: the folder store's answer to an S3 form upload (the form
 * POST /uploads hands out). The fields before the file are checked against their signed policy
 * before a byte of the file is kept; the file is counted as it streams and refused over the
 * policy's size (400 EntityTooLarge) or empty (400 EntityTooSmall); nothing is stored unless all
 * of it passes. Errors are S3's XML `<Error><Code>…</Code><Message>…</Message></Error>` (JSON
 * `{error: {code, message}}` when the client asks for application/json), the same codes and
 * statuses as S3, so a client handles both alike. Success is S3's default: 204, no body.
 * A form is single-use (ObjectStore.checkPost claims it): once its policy checks out it is marked used, and
 * posting it again is refused with 403, so what ingest checked is never overwritten under its key.
 * After the write, `announceCreated(key)` tells the pipeline (S3's ObjectCreated notification).
 * A post that stores nothing (a refusal, a fault, a client gone), or whose write cannot be announced
 * (503), gives the form back: the client may post it again.
 */
export interface BucketPostDeps {
  /** Checks the form's fields against the policy it was signed with (ObjectStore.checkPost). */
  checkPost(fields: Record<string, string>): Promise<PostGrant>;
  /** Where the object is written as it streams in (the app's store, so wrappers see the write). */
  store: ObjectStore & Required<Pick<ObjectStore, 'putStream'>>;
  /** The whole request's largest size: the largest file any policy allows plus the form's framing. */
  maxRequestBytes: number;
  announceCreated?: (key: string) => void | Promise<void>;
  log: Logger;
}

type Refusal = { status: number; code: string; message: string };

function refusal(error: unknown): Refusal | undefined {
  return error instanceof PostPolicyError ? { status: error.status, code: error.code, message: error.message } : undefined;
}

/**
 * The bucket answers any origin, as an S3 bucket with `AllowedOrigins: *` would: its form is the
 * credential (signed, bound to one key, type and size), not the page that sends it, and the form's
 * URL is the server's public one (PUBLIC_URL), which need not be the origin the gallery was opened at.
 */
const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-amz-request-id, location' } as const;

/** The answer to a browser's preflight of a cross-origin form POST (one with upload progress events has one). */
function servePreflight(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  res.once('finish', () => {
    if (!req.complete) req.destroy();
  });
  res.writeHead(204, {
    ...CORS,
    'access-control-allow-methods': 'POST',
    'access-control-allow-headers': 'content-type, accept',
    'access-control-max-age': '600',
  });
  res.end();
  return Promise.resolve();
}

/** `close`: the connection goes after the answer, gently when a body is still coming (closeAfterAnswer). */
function replyError(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal, requestId: string, close = false): void {
  if (res.headersSent) return;
  if (close && !req.complete) closeAfterAnswer(req, res);
  const json = /application\/json/i.test(req.headers.accept ?? '');
  const body = json
    ? JSON.stringify({ error: { code: r.code, message: r.message }, request_id: requestId })
    : s3ErrorBody(r.code, r.message, requestId);
  res.writeHead(r.status, {
    ...CORS,
    'content-type': json ? 'application/json; charset=utf-8' : 'application/xml',
    'x-amz-request-id': requestId,
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

const tooLarge = (max: number, got: number | 'more'): Refusal => ({
  status: 400,
  code: 'EntityTooLarge',
  message: `Your proposed upload exceeds the maximum allowed size: expected at most ${max} bytes, got ${got}`,
});

export async function serveBucketPost(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  context: { signal: AbortSignal; requestId: string },
  bucket: BucketPostDeps,
): Promise<void> {
  const { signal, requestId } = context;
  const deps = { ...bucket, log: childLogger(bucket.log, { stage: 'upload', request_id: requestId }) };
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    return replyError(
      req,
      res,
      {
        status: 412,
        code: 'PreconditionFailed',
        message: `expected a multipart/form-data POST (the fields of POST /uploads, then the file in "${POST_FILE_FIELD}"), got ${contentType ? JSON.stringify(contentType) : 'no content type'}`,
      },
      requestId,
      true,
    );
  }
  const declared = declaredLength(req);
  if (declared !== undefined && declared > deps.maxRequestBytes) {
    // Refused before reading: the connection is closed after the answer rather than drained.
    replyError(req, res, tooLarge(deps.maxRequestBytes, declared), requestId, true);
    return;
  }

  let outcome: FormOutcome;
  try {
    outcome = await readForm(req, signal, deps);
  } catch (error) {
    // readForm gave the form back: nothing was stored.
    if (isClientGone(error)) {
      // Nobody to answer; the server logs that the client left, at info.
      deps.log.debug('request ended: the client went away', { method: 'POST', path: FOLDER_POST_PATH });
      return;
    }
    deps.log.error('bucket POST could not store the object', { error });
    return replyError(
      req,
      res,
      { status: 500, code: 'InternalError', message: 'the object could not be stored; post the form again' },
      requestId,
      true,
    );
  }
  if ('refused' in outcome) {
    await outcome.release?.();
    replyError(req, res, outcome.refused, requestId, outcome.destroy);
    deps.log.warn('bucket POST refused', { status: outcome.refused.status, code: outcome.refused.code, reason: outcome.refused.message });
    return;
  }
  const { grant, size, release } = outcome;
  try {
    await deps.announceCreated?.(grant.key);
  } catch (error) {
    await release();
    deps.log.error('bucket POST stored the object but could not announce it', { key: grant.key, error });
    return replyError(
      req,
      res,
      { status: 503, code: 'ServiceUnavailable', message: 'the object was stored but the pipeline was not told; post the same form again' },
      requestId,
    );
  }
  deps.log.info('bucket POST stored', { key: grant.key, bytes: size });
  res.writeHead(204, { ...CORS, 'x-amz-request-id': requestId, location: `/bucket/${grant.key}` });
  res.end();
}

type FormOutcome =
  | { grant: PostGrant; size: number; release: ReleaseClaim }
  | { refused: Refusal; destroy?: boolean; release?: ReleaseClaim };

/** A refusal found while the form streams in: it ends the parse (see readForm for which wait for the end). */
class FormRefusal extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
    this.name = 'FormRefusal';
  }
}

/** busboy's and the request's failures as S3 names them. */
function parseRefusal(error: unknown, maxRequestBytes: number): Refusal | undefined {
  if (error instanceof FormRefusal) return error.refusal;
  if (error instanceof HttpError) {
    return error.statusCode === 413
      ? tooLarge(maxRequestBytes, 'more')
      : {
          status: 400,
          code: 'RequestTimeout',
          message: `Your socket connection to the server was not read from or written to in time: ${error.message}`,
        };
  }
  if (!(error instanceof MultipartError)) return undefined;
  switch (error.problem) {
    case 'no_boundary':
    case 'malformed':
      return {
        status: 400,
        code: 'MalformedPOSTRequest',
        message: `The body of your POST request is not well-formed multipart/form-data: ${error.cause instanceof Error ? error.cause.message : error.message}`,
      };
    case 'file_too_large':
      return tooLarge(maxRequestBytes, 'more');
    case 'too_many_files':
      return { status: 400, code: 'InvalidArgument', message: 'POST requires exactly one file upload per request' };
    default:
      return {
        status: 400,
        code: 'MaxPostPreDataLengthExceeded',
        message: `Your POST request fields preceding the upload file were too large: ${error.message}`,
      };
  }
}

/**
 * Parses the form as it streams: fields, then the file (S3 ignores fields after it), written
 * straight to the store as it arrives (never held whole in memory) and kept only if it is within
 * the policy. A malformed form, a limit of the form passed or the request's deadline ends it at
 * once (the answer closes the connection). A refusal of the policy (signature, expiry, fields, the
 * file's size) still reads the rest of the request — bounded by maxRequestBytes and the request's
 * deadline — so the client gets the answer rather than a reset connection mid-upload.
 */
async function readForm(req: http.IncomingMessage, signal: AbortSignal, deps: BucketPostDeps): Promise<FormOutcome> {
  const fields: Record<string, string> = {};
  let fileSeen = false;
  let failure: Refusal | undefined;
  let stored: { grant: PostGrant; size: number } | undefined;
  /** The claim of the form, once its policy checked out: given back if this post stores nothing. */
  let release: ReleaseClaim | undefined;
  const refuse = (refused: Refusal, destroy?: boolean): FormOutcome => ({
    refused,
    ...(destroy ? { destroy } : {}),
    ...(release ? { release } : {}),
  });
  let writing: Promise<number> | undefined;
  const body = boundedBody(req, { maxBytes: deps.maxRequestBytes, signal, tooLarge: () => new HttpError(413, 'too_large', 'too large') });
  try {
    await parseMultipart(
      body,
      req.headers['content-type'] ?? '',
      { files: 1, fields: 30, parts: 40, fieldBytes: 16 * 1024, fileBytes: deps.maxRequestBytes },
      {
        field(name, value) {
          if (!fileSeen) fields[name] = value;
        },
        async file(name, stream) {
          if (fileSeen || name.toLowerCase() !== POST_FILE_FIELD) {
            failure ??= {
              status: 400,
              code: 'InvalidArgument',
              message: `POST requires exactly one file upload per request, in the field "${POST_FILE_FIELD}" after the others; got a file in ${JSON.stringify(name)}`,
            };
            stream.resume();
            return;
          }
          fileSeen = true;
          let grant: PostGrant;
          try {
            grant = await deps.checkPost(fields);
            release = grant.release;
          } catch (error) {
            const r = refusal(error);
            if (!r) throw error;
            failure ??= r;
            stream.resume();
            return;
          }
          const gate = sizeGate(grant);
          // pipeline, not pipe: a file cut short (a malformed form, the client gone) ends the write too.
          writing = deps.store.putStream(
            grant.key,
            pipeline(stream, gate, () => undefined),
            { contentType: grant.contentType },
          );
          try {
            stored = { grant, size: await writing };
          } catch (error) {
            // Past the policy's size or under it: the store kept nothing; the rest was read and counted.
            if (gate.refusal === undefined) throw error;
            failure ??= gate.refusal;
          }
        },
      },
      signal,
    );
  } catch (error) {
    // The parser has ended the file's stream: wait for the store to let go of what it wrote.
    await writing?.catch(() => undefined);
    if (stored) await deps.store.delete(stored.grant.key).catch(() => undefined);
    const r = parseRefusal(error, deps.maxRequestBytes);
    if (r) return refuse(r, true);
    await release?.();
    throw error;
  }
  if (failure) {
    if (stored) await deps.store.delete(stored.grant.key);
    return refuse(failure);
  }
  if (!fileSeen || !stored || !release) {
    return refuse({
      status: 400,
      code: 'InvalidArgument',
      message: `POST requires exactly one file upload per request, in the field "${POST_FILE_FIELD}"; got none`,
    });
  }
  return { ...stored, release };
}

/**
 * Passes the file on while it is within the grant's size; past it, passes nothing more but reads
 * (and counts) the rest, and fails at the end (EntityTooLarge with the size, or EntityTooSmall), so
 * that the store keeps nothing and the answer says what came.
 */
function sizeGate(grant: PostGrant): Transform & { refusal?: Refusal } {
  let size = 0;
  const gate: Transform & { refusal?: Refusal } = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(null, size > grant.maxBytes ? undefined : chunk);
    },
    flush(done) {
      if (size > grant.maxBytes) gate.refusal = tooLarge(grant.maxBytes, size);
      else if (size < grant.minBytes) {
        gate.refusal = {
          status: 400,
          code: 'EntityTooSmall',
          message: `Your proposed upload is smaller than the minimum allowed size: expected at least ${grant.minBytes} bytes, got ${size}`,
        };
      }
      done(gate.refusal ? new FormRefusal(gate.refusal) : null);
    },
  });
  return gate;
}

/**
 * The `POST /bucket` route (and its CORS preflight, `OPTIONS /bucket`) for a store that checks its
 * own forms and takes a stream (ObjectStore.checkPost and putStream: the folder store, also behind
 * a wrapper such as StatusWatcher's), or none for one whose forms go elsewhere (S3).
 */
export function bucketRoutes(store: ObjectStore, deps: Omit<BucketPostDeps, 'checkPost' | 'store'>): RawRoute[] {
  const { checkPost, putStream } = store;
  if (!checkPost || !putStream) return [];
  const bound = {
    ...deps,
    checkPost: (fields: Record<string, string>) => checkPost.call(store, fields),
    store: store as BucketPostDeps['store'],
  };
  return [
    { method: 'POST', path: FOLDER_POST_PATH, serve: (req, res, context) => serveBucketPost(req, res, context, bound) },
    { method: 'OPTIONS', path: FOLDER_POST_PATH, serve: servePreflight },
  ];
}
