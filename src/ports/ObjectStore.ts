import type { Readable } from 'node:stream';

/**
 * Where images live. Keys look like `original/<id>.jpg`; the adapters are S3 (any endpoint) and
 * a folder on disk (embedded default). Stages see only this interface.
 */
export interface PutOptions {
  contentType?: string;
  /**
   * User metadata kept with the object and given back by `head` (S3's `x-amz-meta-*` headers; the
   * folder store keeps it beside the file): names of lower-case letters, digits and `-`, values of
   * printable ASCII, at most 2 KB in all (src/ports/objectMetadata.ts). A rewrite replaces it: an
   * object written without it has none.
   */
  metadata?: Readonly<Record<string, string>>;
}

/** One page of a listing: keys strictly after `startAfter` (byte order), at most `maxKeys` of them. */
export interface ListOptions {
  /** Only keys that sort after this one (it need not exist): where the previous page ended. */
  startAfter?: string;
  /** At most this many keys (a whole number from 1); all of them when absent. */
  maxKeys?: number;
}

export interface StoredObject {
  body: Buffer;
  contentType?: string;
  /**
   * The version of the object these bytes are (S3's ETag; the folder store's file identity): a
   * copy conditional on it (`copy(…, { ifMatch })`) copies exactly these bytes or nothing.
   */
  etag?: string;
}

/**
 * How a copy may be made: the new content type, and the version the source must still be. The copy
 * keeps the source's metadata unless a content type is given, which replaces both (S3's metadata
 * directive).
 */
export interface CopyOptions {
  contentType?: string;
  /** Copy only if the source is still this version (`StoredObject.etag`), else ObjectChangedError. */
  ifMatch?: string;
}

/** An object as a stream: its bytes are read as they are sent on, never whole. */
export interface ObjectStream {
  body: Readable;
  size: number;
  contentType?: string;
}

/** What a browser-style upload straight into the store may carry: one content type, exactly `size` bytes. */
export interface PresignPostOptions {
  /** The object's content type, bound exactly: the form's `Content-Type` field must equal it. */
  contentType: string;
  /** The size the client declared, bound exactly (`content-length-range` [size, size]). */
  size: number;
  /** How long the form may be used (1 s to 7 days). */
  expiresInSeconds: number;
}

/**
 * An HTML-form upload (multipart/form-data POST) the store itself checks: send every field as
 * given, then the file last in the field `file`. `url` is absolute for S3; the folder store's is
 * the path of the embedded server's own endpoint (`/bucket`), which the caller resolves against
 * its own origin. A bearer secret while it lasts: never log the fields.
 */
export interface PresignedPost {
  url: string;
  method: 'POST';
  fields: Record<string, string>;
  /** When the policy expires (ISO 8601). */
  expires_at: string;
}

/** What a valid form may store: this key, with this content type, of minBytes to maxBytes bytes. */
export interface PostGrant {
  key: string;
  contentType: string;
  minBytes: number;
  maxBytes: number;
  /** Gives the form back (it is single-use): for a post that ends up storing nothing. */
  release(): Promise<void>;
}

/** What `head` tells of an object without reading it. */
export interface ObjectHead {
  size: number;
  contentType?: string;
  /** The user metadata the object was written with (PutOptions.metadata), when it has any. */
  metadata?: Record<string, string>;
}

export interface ObjectStore {
  /** Reads a whole object; throws ObjectNotFoundError when it is absent. */
  get(key: string): Promise<StoredObject>;
  /** Writes (or overwrites) an object. Writing the same bytes twice is harmless. */
  put(key: string, body: Buffer, options?: PutOptions): Promise<void>;
  /** True when the object exists. */
  exists(key: string): Promise<boolean>;
  /** Size and content type of an object without reading it; undefined when it is absent. */
  head(key: string): Promise<ObjectHead | undefined>;
  /**
   * Writes an object only if none is at the key (S3: `If-None-Match: *`; a folder: an exclusive
   * create). True when this call wrote it, false when an object was already there: of several
   * concurrent callers exactly one gets true. A reader sees the whole object or none.
   */
  putIfAbsent(key: string, body: Buffer, options?: PutOptions): Promise<boolean>;
  /**
   * Copies an object inside the store (S3: CopyObject, no bytes through the caller), overwriting
   * the target; `options.contentType` replaces the source's. ObjectNotFoundError when the source is
   * absent; with `options.ifMatch`, ObjectChangedError (and nothing copied) when the source is no
   * longer that version (S3: `x-amz-copy-source-if-match`, checked by the store with the copy).
   */
  copy(fromKey: string, toKey: string, options?: CopyOptions): Promise<void>;
  /** Removes an object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Removes many objects (S3: DeleteObjects, one request per 1000); keys that are not there are no error. */
  deleteMany(keys: readonly string[]): Promise<void>;
  /**
   * Keys under a prefix, in lexical (byte) order; with options, one page of them: those after
   * `startAfter`, at most `maxKeys` (ask for one more than you show to learn whether more follow).
   */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
  /**
   * The object as a stream, for a store that serves its bytes itself (the folder store: the
   * embedded server sends an image as it reads it); S3 gives a presigned URL instead. Throws
   * ObjectNotFoundError when it is absent. The caller reads `body` to its end or destroys it.
   */
  getStream?(key: string): Promise<ObjectStream>;
  /**
   * Writes an object from a stream as it arrives (the folder store's POST /bucket: a 50 MiB form
   * never in memory), atomically: if `body` fails, nothing is stored. Resolves with the bytes written.
   */
  putStream?(key: string, body: Readable, options?: PutOptions): Promise<number>;
  /**
   * A URL a browser can GET for a short while, or undefined when the adapter has none
   * (the embedded store serves bytes itself).
   */
  presignGet?(key: string, expiresInSeconds: number): Promise<string | undefined>;
  /**
   * A POST policy for exactly this key, content type and size, signed for `expiresInSeconds`: the
   * store refuses any other key, type or size, and the form once expired.
   */
  presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost>;
  /**
   * Checks the fields of a form `presignPost` signed (signature, expiry, each field against the
   * policy) and says what it may store; PostPolicyError (a 4xx) when it may store nothing. A form
   * is single-use: checking it claims it, so another post of it is refused (403) unless this one
   * gives it back (`PostGrant.release`) because it stored nothing. Present on
   * a store whose forms come back to this program (the folder store: the embedded server's
   * `POST /bucket`, src/runtime/bucketPost.ts); such a store has no event notifications either, so
   * the app announces its writes itself (App.announceCreated). Absent where the store's own server
   * takes the form and notifies (S3, MinIO).
   */
  checkPost?(fields: Record<string, string>): Promise<PostGrant>;
  /**
   * Removes what writes cut short by a crash left behind (the folder store's temporary files), at
   * start; returns how many. Absent where a cut-short write leaves nothing (S3).
   */
  sweepTemporaryFiles?(): Promise<number>;
  /**
   * Creates the store's bucket unless it exists; true when it did. For dev scripts and tests only:
   * a deployment creates its bucket with its stack. Absent where there is nothing to create (a folder).
   */
  createBucket?(): Promise<boolean>;
}

/** The largest expiry of a presigned URL or form: SigV4's 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
