import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ObjectNotFoundError } from '../errors';
import type { Logger } from '../logger/createLogger';
import { contentTypeForKey } from '../ports/contentType';
import { FsObjectStore } from '../ports/FsObjectStore';
import { FOLDER_POST_PATH, type FolderPostPolicy, PostPolicyError } from '../ports/folderPostPolicy';
import type { ObjectStore, ObjectStream } from '../ports/ObjectStore';
import { assertSafeKey } from '../ports/safeKey';
import type { RawRoute } from './httpServer';
import { s3ErrorBody } from './s3ErrorBody';

/**
 * The embedded server's `GET /bucket/<key>?X-Expires=…&X-Signature=…`: the folder store's answer to
 * a presigned GET (FsObjectStore.presignGet), as S3 answers its own. The API hands such a URL out
 * only after it has checked whose photo it is, for one object, for PRESIGN_EXPIRES_SECONDS: the
 * gallery's <img> carries no credentials, and this is what lets it show the caller's photos and
 * no one else's. A URL that is not signed, signed for another key or expired is a 403 with S3's
 * XML error; an object that is gone is 404 NoSuchKey.
 */
export interface BucketGetDeps {
  policy: FolderPostPolicy;
  /** The object is streamed from its file as the client takes it, never read whole (a 45 MB original, ten clients). */
  store: ObjectStore & Required<Pick<ObjectStore, 'getStream'>>;
  log: Logger;
}

function replyError(res: http.ServerResponse, status: number, code: string, message: string, requestId: string): void {
  res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'cache-control': 'no-store' });
  res.end(s3ErrorBody(code, message, requestId));
}

export async function serveBucketGet(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  requestId: string,
  deps: BucketGetDeps,
): Promise<void> {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://localhost');
  let key: string;
  try {
    key = url.pathname
      .slice(FOLDER_POST_PATH.length + 1)
      .split('/')
      .map(decodeURIComponent)
      .join('/');
    assertSafeKey(key);
  } catch {
    return replyError(res, 400, 'InvalidArgument', 'expected the path of a URL the API handed out', requestId);
  }
  try {
    await deps.policy.checkGet(key, url.searchParams);
  } catch (error) {
    if (error instanceof PostPolicyError) return replyError(res, error.status, error.code, error.message, requestId);
    throw error;
  }
  let object: ObjectStream;
  try {
    object = await deps.store.getStream(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return replyError(res, 404, 'NoSuchKey', 'The specified key does not exist.', requestId);
    deps.log.error('bucket GET failed', { error, key });
    return replyError(res, 503, 'ServiceUnavailable', 'the object could not be read; try again', requestId);
  }
  const expires = Number(url.searchParams.get('X-Expires'));
  res.writeHead(200, {
    'content-type': object.contentType ?? contentTypeForKey(key),
    'content-length': String(object.size),
    'x-content-type-options': 'nosniff',
    // As long as the URL lives, and no longer; never in a shared cache.
    'cache-control': `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}`,
  });
  if (req.method === 'HEAD') {
    object.body.destroy();
    res.end();
    return;
  }
  // Chunk by chunk as the client reads; a client that leaves ends the read (and closes the file).
  await pipeline(object.body, res);
}

/** The route, for a folder store (S3 and MinIO serve their own presigned URLs). */
export function bucketGetRoute(store: ObjectStore, log: Logger): RawRoute | undefined {
  if (!(store instanceof FsObjectStore)) return undefined;
  const policy = store.postPolicy;
  // The app's store (a wrapper of the folder store inherits its getStream).
  const streaming = store as BucketGetDeps['store'];
  return {
    method: 'GET',
    path: FOLDER_POST_PATH,
    prefix: true,
    serve: (req, res, { requestId }) => serveBucketGet(req, res, requestId, { policy, store: streaming, log }),
  };
}
