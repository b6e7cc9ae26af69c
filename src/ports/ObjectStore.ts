/**
 * Where images live. Keys look like `original/<id>.jpg`; the adapters are S3 (any endpoint) and
 * a folder on disk (embedded default). Stages see only this interface.
 */
export interface PutOptions {
  contentType?: string;
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
}

export interface ObjectStore {
  /** Reads a whole object; throws ObjectNotFoundError when it is absent. */
  get(key: string): Promise<StoredObject>;
  /** Writes (or overwrites) an object. Writing the same bytes twice is harmless. */
  put(key: string, body: Buffer, options?: PutOptions): Promise<void>;
  /** True when the object exists. */
  exists(key: string): Promise<boolean>;
  /**
   * Keys under a prefix, in lexical (byte) order; with options, one page of them: those after
   * `startAfter`, at most `maxKeys` (ask for one more than you show to learn whether more follow).
   */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
  /**
   * A URL a browser can GET for a short while, or undefined when the adapter has none
   * (the embedded store serves bytes itself).
   */
  presignGet?(key: string, expiresInSeconds: number): Promise<string | undefined>;
}
