/**
 * Where images live. Keys look like `original/<id>.jpg`; the adapters are S3 (any endpoint) and
 * a folder on disk (embedded default). Stages see only this interface.
 */
export interface PutOptions {
  contentType?: string;
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
  /** Keys under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
  /**
   * A URL a browser can GET for a short while, or undefined when the adapter has none
   * (the embedded store serves bytes itself).
   */
  presignGet?(key: string, expiresInSeconds: number): Promise<string | undefined>;
}
