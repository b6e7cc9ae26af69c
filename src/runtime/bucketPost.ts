import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import busboy from 'busboy';
import type { Logger } from '../logger/createLogger';
import { FOLDER_POST_PATH, POST_FILE_FIELD, PostPolicyError } from '../ports/folderPostPolicy';
import type { ObjectStore, PostGrant } from '../ports/ObjectStore';
import type { RawRoute } from './httpServer';

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
 * A post that stores nothing, or whose write cannot be announced (503), gives the form back: the
 * client may post it again.
 */
export interface BucketPostDeps {
  /** Checks the form's fields against the policy it was signed with (ObjectStore.checkPost). */
  checkPost(fields: Record<string, string>): Promise<PostGrant>;
  /** Where the object is written (the app's store, so wrappers see the write). */
  store: ObjectStore;
  /** The whole request's largest size: the largest file any policy allows plus the form's framing. */
  maxRequestBytes: number;
  announceCreated?: (key: string) => void | Promise<void>;
  log: Logger;
}

type Refusal = { status: number; code: string; message: string };

function refusal(error: unknown): Refusal | undefined {
  return error instanceof PostPolicyError ? { status: error.status, code: error.code, message: error.message } : undefined;
}

/** Element text: only & < > need escaping (the quotes of a policy condition stay readable). */
const xmlEscape = (s: string) => s.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`);

function replyError(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal, requestId: string, close = false): void {
  if (res.headersSent) return;
  const json = /application\/json/i.test(req.headers.accept ?? '');
  const body = json
    ? JSON.stringify({ error: { code: r.code, message: r.message }, request_id: requestId })
    : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(r.code)}</Code><Message>${xmlEscape(r.message)}</Message><RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(r.status, {
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

export async function serveBucketPost(req: http.IncomingMessage, res: http.ServerResponse, deps: BucketPostDeps): Promise<void> {
  const requestId = randomUUID();
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    req.resume();
    return replyError(
      req,
      res,
      {
        status: 412,
        code: 'PreconditionFailed',
        message: `expected a multipart/form-data POST (the fields of POST /uploads, then the file in "${POST_FILE_FIELD}"), got ${contentType ? JSON.stringify(contentType) : 'no content type'}`,
      },
      requestId,
    );
  }
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > deps.maxRequestBytes) {
    // Refused before reading: the connection is closed after the answer rather than drained.
    replyError(req, res, tooLarge(deps.maxRequestBytes, declared), requestId, true);
    req.destroy();
    return;
  }

  const outcome = await readForm(req, deps);
  if ('refused' in outcome) {
    await outcome.release?.();
    if (outcome.destroy) {
      replyError(req, res, outcome.refused, requestId, true);
      res.on('finish', () => req.destroy());
    } else replyError(req, res, outcome.refused, requestId);
    deps.log.warn('bucket POST refused', { status: outcome.refused.status, code: outcome.refused.code, reason: outcome.refused.message });
    return;
  }
  const { grant, body, release } = outcome;
  try {
    await deps.store.put(grant.key, body, { contentType: grant.contentType });
  } catch (error) {
    await release();
    deps.log.error('bucket POST could not store the object', { key: grant.key, error });
    return replyError(
      req,
      res,
      { status: 500, code: 'InternalError', message: 'the object could not be stored; post the form again' },
      requestId,
    );
  }
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
  deps.log.info('bucket POST stored', { key: grant.key, bytes: body.length });
  res.writeHead(204, { 'x-amz-request-id': requestId, location: `/bucket/${grant.key}` });
  res.end();
}

/** Gives a claimed form back (PostGrant.release). */
type ReleaseClaim = PostGrant['release'];

type FormOutcome =
  | { grant: PostGrant; body: Buffer; release: ReleaseClaim }
  | { refused: Refusal; destroy?: boolean; release?: ReleaseClaim };

/**
 * Parses the form as it streams: fields, then the file (S3 ignores fields after it). A refusal
 * of the policy still reads the rest of the request (bounded by maxRequestBytes) so the client gets
 * the answer rather than a reset connection mid-upload.
 */
function readForm(req: http.IncomingMessage, deps: BucketPostDeps): Promise<FormOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: FormOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 30, fieldSize: 16 * 1024, parts: 40 },
      });
    } catch (cause) {
      req.resume();
      settle({
        refused: {
          status: 400,
          code: 'MalformedPOSTRequest',
          message: `expected a multipart body with a boundary: ${(cause as Error).message}`,
        },
      });
      return;
    }
    const fields: Record<string, string> = {};
    let fileSeen = false;
    let failure: Refusal | undefined;
    let fileDone: Promise<{ grant: PostGrant; body: Buffer } | undefined> = Promise.resolve(undefined);
    /** The claim of the form, once its policy checked out: given back if this post stores nothing. */
    let release: ReleaseClaim | undefined;
    const refuse = (refused: Refusal, destroy?: boolean): FormOutcome => ({
      refused,
      ...(destroy ? { destroy } : {}),
      ...(release ? { release } : {}),
    });
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > deps.maxRequestBytes) {
        // Past any policy's size and framing: stop reading, answer, close.
        req.unpipe(parser);
        settle(refuse(tooLarge(deps.maxRequestBytes, 'more'), true));
      }
    });
    req.on('error', () => settle(refuse({ status: 400, code: 'IncompleteBody', message: 'the request ended before its body did' }, true)));

    parser.on('field', (name, value) => {
      if (!fileSeen) fields[name] = value;
    });
    parser.on('file', (name, stream) => {
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
      stream.pause();
      const claimed = deps.checkPost(fields).then((grant) => {
        release = grant.release;
        return grant;
      });
      fileDone = claimed.then(
        (grant) =>
          new Promise((done) => {
            const chunks: Buffer[] = [];
            let size = 0;
            stream.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > grant.maxBytes) failure ??= tooLarge(grant.maxBytes, 'more');
              else chunks.push(chunk);
            });
            stream.on('end', () => {
              if (size > grant.maxBytes) failure = tooLarge(grant.maxBytes, size);
              else if (size < grant.minBytes) {
                failure ??= {
                  status: 400,
                  code: 'EntityTooSmall',
                  message: `Your proposed upload is smaller than the minimum allowed size: expected at least ${grant.minBytes} bytes, got ${size}`,
                };
              }
              done(failure ? undefined : { grant, body: Buffer.concat(chunks, size) });
            });
            stream.resume();
          }),
        (error: unknown) => {
          const r = refusal(error);
          if (!r) throw error;
          failure ??= r;
          stream.resume();
          return undefined;
        },
      );
    });
    parser.on('filesLimit', () => {
      failure ??= { status: 400, code: 'InvalidArgument', message: 'POST requires exactly one file upload per request' };
    });
    parser.on('error', (cause: Error) => {
      failure ??= {
        status: 400,
        code: 'MalformedPOSTRequest',
        message: `The body of your POST request is not well-formed multipart/form-data: ${cause.message}`,
      };
      req.resume();
      void fileDone.finally(() => settle(refuse(failure!)));
    });
    parser.on('close', () => {
      fileDone.then(
        (file) => {
          if (failure) return settle(refuse(failure));
          if (!fileSeen || !file || !release) {
            return settle(
              refuse({
                status: 400,
                code: 'InvalidArgument',
                message: `POST requires exactly one file upload per request, in the field "${POST_FILE_FIELD}"; got none`,
              }),
            );
          }
          settle({ ...file, release });
        },
        (error: unknown) => {
          deps.log.error('bucket POST policy check failed', { error });
          settle(refuse({ status: 500, code: 'InternalError', message: 'the form could not be checked; try again' }));
        },
      );
    });
    req.pipe(parser);
  });
}

/**
 * The `POST /bucket` route for a store that checks its own forms (ObjectStore.checkPost: the folder
 * store, also behind a wrapper such as StatusWatcher's), or undefined for one whose forms go
 * elsewhere (S3).
 */
export function bucketPostRoute(store: ObjectStore, deps: Omit<BucketPostDeps, 'checkPost' | 'store'>): RawRoute | undefined {
  if (!store.checkPost) return undefined;
  const checkPost = (fields: Record<string, string>) => store.checkPost!(fields);
  return { method: 'POST', path: FOLDER_POST_PATH, serve: (req, res) => serveBucketPost(req, res, { ...deps, checkPost, store }) };
}
