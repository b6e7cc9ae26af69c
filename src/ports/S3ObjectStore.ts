import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConfigError, InvalidInputError, ObjectChangedError, ObjectNotFoundError, TransientError } from '../errors';
import { awsErrorName, classifyAwsError, httpStatusOf } from './awsErrors';
import {
  type CopyOptions,
  type ListOptions,
  MAX_PRESIGN_SECONDS,
  type ObjectHead,
  type ObjectStore,
  type PresignedPost,
  type PresignPostOptions,
  type PutOptions,
  type StoredObject,
} from './ObjectStore';
import { keptMetadata, readMetadata } from './objectMetadata';
import { provisionBucket } from './provisionBucket';
import { assertListOptions, assertPresignPostOptions, assertSafeKey, assertSafePrefix } from './safeKey';

/**
 * The ObjectStore on S3 or any S3-compatible server (MinIO, the Versity gateway, LocalStack).
 * Keys pass the same `assertSafeKey` check as the folder store, so a key means the same everywhere.
 *
 * Errors: a missing object is ObjectNotFoundError; network faults, 5xx and throttling (after the
 * SDK's own retries) are TransientError with the SDK error as `cause`; a missing bucket is a
 * ConfigError. S3 answers a read of a missing key 404 only to a role that may list the bucket
 * unconditionally; the roles in serverless.yml may list only their own prefixes (an `s3:prefix`
 * condition, which a GET or HEAD does not carry), so S3 answers them 403. A 403 on a read is
 * therefore resolved by listing exactly that key (a prefix the role may list): not listed, the
 * object is missing (ObjectNotFoundError); listed, or the listing denied too, the 403 stands. Nothing here logs credentials or presigned URLs (nothing here logs at all). Creating
 * the bucket is provisionBucket's, for the dev scripts and tests.
 */
export interface S3ObjectStoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server's URL; AWS's own endpoint when absent. */
  endpoint?: string;
  /** Path-style URLs (`http://host/bucket/key`), which S3-compatible servers want. */
  forcePathStyle?: boolean;
  /** Static credentials (local servers); the SDK's default chain when absent (Lambda role, env, profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Keys per ListObjectsV2 page (1 to 1000); tests make it small to exercise pagination. */
  listPageSize?: number;
  /** A ready client, for tests that stub the SDK; the options above are then ignored except bucket. */
  client?: S3Client;
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly client: S3Client;
  private readonly listPageSize: number;
  readonly region: string;

  constructor(options: S3ObjectStoreOptions) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new ConfigError(`bucket: expected an S3 bucket name (3 to 63 of a-z 0-9 . -), got ${JSON.stringify(options.bucket)}`);
    }
    this.bucket = options.bucket;
    this.region = options.region;
    this.listPageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > 1000) {
      throw new ConfigError(`listPageSize: expected a whole number from 1 to 1000, got ${this.listPageSize}`);
    }
    this.client =
      options.client ??
      new S3Client({
        region: options.region,
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        forcePathStyle: options.forcePathStyle ?? false,
        // Without timeouts a request on a connection to a server that died mid-way can hang for
        // ever and take its batch with it; with them it fails as a TransientError and is retried.
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
        // Compatible servers differ in which flexible checksums they know; send them only where S3 requires them.
        ...(options.endpoint !== undefined
          ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
          : {}),
      });
  }

  async get(key: string): Promise<StoredObject> {
    assertSafeKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) throw new Error(`GetObject ${key}: the response had no body`);
      // A view of the SDK's array, not a copy of it: a 50 MB upload is held once.
      const bytes = await out.Body.transformToByteArray();
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const result: StoredObject = { body };
      if (out.ContentType !== undefined) result.contentType = out.ContentType;
      if (out.ETag !== undefined) result.etag = out.ETag;
      return result;
    } catch (error) {
      throw await this.resolveDenied(key, this.translate(`GetObject ${key}`, key, error));
    }
  }

  /** PutObject of the whole body; `ifNoneMatch` makes it conditional (putIfAbsent). */
  private putObject(key: string, body: Buffer, options: PutOptions, ifNoneMatch?: '*') {
    const metadata = keptMetadata(options.metadata);
    return this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ...(ifNoneMatch !== undefined ? { IfNoneMatch: ifNoneMatch } : {}),
        ...(options.contentType !== undefined ? { ContentType: options.contentType } : {}),
        ...(metadata !== undefined ? { Metadata: metadata } : {}),
      }),
    );
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<void> {
    assertSafeKey(key);
    try {
      await this.putObject(key, body, options);
    } catch (error) {
      throw this.translate(`PutObject ${key}`, undefined, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      const translated = await this.resolveDenied(key, this.translate(`HeadObject ${key}`, key, error));
      if (translated instanceof ObjectNotFoundError) return false;
      throw translated;
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    assertSafeKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const head: ObjectHead = { size: out.ContentLength ?? 0 };
      if (out.ContentType !== undefined) head.contentType = out.ContentType;
      const metadata = readMetadata(out.Metadata);
      if (metadata !== undefined) head.metadata = metadata;
      return head;
    } catch (error) {
      const translated = await this.resolveDenied(key, this.translate(`HeadObject ${key}`, key, error));
      if (translated instanceof ObjectNotFoundError) return undefined;
      throw translated;
    }
  }

  /**
   * PutObject with `If-None-Match: *` (S3 since 2024-08, MinIO, MiniStack): 412 when an object is
   * there. A 409 (another conditional write to the key in flight) is transient: the caller retries
   * and then gets its answer.
   */
  async putIfAbsent(key: string, body: Buffer, options: PutOptions = {}): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.putObject(key, body, options, '*');
      return true;
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 412 || awsErrorName(error) === 'PreconditionFailed') return false;
      if (status === 409) {
        throw new TransientError(`PutObject ${key} (If-None-Match): another conditional write to it is in flight`, { cause: error });
      }
      throw this.translate(`PutObject ${key}`, undefined, error);
    }
  }

  /**
   * CopyObject, server-side: the bytes never pass through this process (up to 5 GB). With
   * `ifMatch`, `x-amz-copy-source-if-match`: S3 checks the source's ETag with the copy itself, and
   * answers 412 (ObjectChangedError, nothing copied) when another object has replaced it since.
   */
  async copy(fromKey: string, toKey: string, options: CopyOptions = {}): Promise<void> {
    assertSafeKey(fromKey);
    assertSafeKey(toKey);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: toKey,
          // Safe keys hold no character that needs escaping but "/", which CopySource keeps.
          CopySource: `${this.bucket}/${fromKey}`,
          ...(options.ifMatch !== undefined ? { CopySourceIfMatch: options.ifMatch } : {}),
          ...(options.contentType !== undefined ? { MetadataDirective: 'REPLACE' as const, ContentType: options.contentType } : {}),
        }),
      );
    } catch (error) {
      if (options.ifMatch !== undefined && (httpStatusOf(error) === 412 || awsErrorName(error) === 'PreconditionFailed')) {
        throw new ObjectChangedError(fromKey, { cause: error });
      }
      throw await this.resolveDenied(fromKey, this.translate(`CopyObject ${fromKey} to ${toKey}`, fromKey, error));
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      const translated = this.translate(`DeleteObject ${key}`, key, error);
      if (translated instanceof ObjectNotFoundError) return;
      throw translated;
    }
  }

  /** DeleteObjects, up to 1000 keys a request: a photo's hundred-odd keys in one. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertSafeKey(key);
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      let failed: Array<{ Key?: string; Code?: string; Message?: string }> = [];
      try {
        const out = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
        );
        failed = out.Errors ?? [];
      } catch (error) {
        throw this.translate(`DeleteObjects (${chunk.length} keys)`, undefined, error);
      }
      // Each key may fail on its own (AccessDenied for one prefix, say): a fault of the deployment.
      const first = failed.find((e) => e.Code !== 'NoSuchKey');
      if (first)
        throw new ConfigError(
          `DeleteObjects: ${first.Key}: ${first.Code}: ${first.Message ?? ''} (${failed.length} of ${chunk.length} keys not deleted)`,
        );
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    assertSafePrefix(prefix);
    assertListOptions(options);
    const keys: string[] = [];
    const max = options.maxKeys ?? Number.POSITIVE_INFINITY;
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: Math.min(this.listPageSize, max - keys.length),
            // StartAfter on the first request only: a continuation token already carries the position.
            ...(token !== undefined
              ? { ContinuationToken: token }
              : options.startAfter !== undefined
                ? { StartAfter: options.startAfter }
                : {}),
          }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated && keys.length < max ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw this.translate(`ListObjectsV2 ${prefix}`, undefined, error);
    }
    // S3 already lists in UTF-8 byte order; sorting again keeps the promise for every server (and a
    // server that returned more than MaxKeys is held to the page size asked for).
    const sorted = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return options.maxKeys === undefined ? sorted : sorted.slice(0, options.maxKeys);
  }

  /** A GET URL valid for `expiresInSeconds` (1 s to 7 days). The URL is a bearer secret: never log it. */
  async presignGet(key: string, expiresInSeconds: number): Promise<string | undefined> {
    assertSafeKey(key);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new InvalidInputError(`expiresInSeconds: expected a whole number from 1 to ${MAX_PRESIGN_SECONDS}, got ${expiresInSeconds}`);
    }
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /**
   * A POST policy (SigV4, signed locally: no request is made) that S3 itself enforces: the key
   * exactly (createPresignedPost adds `{key}`), `Content-Type` exactly, and `content-length-range`
   * [size, size], the size the client declared; S3 answers 403 AccessDenied for another key or type
   * or an expired policy, 400 EntityTooLarge / EntityTooSmall for any other size. The fields carry the credential (and the session
   * token of a Lambda role): never log them.
   */
  /** Creates the bucket unless it exists (dev scripts and tests: a deployment creates it with its stack). */
  createBucket(): Promise<boolean> {
    return provisionBucket(this);
  }

  async presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost> {
    assertSafeKey(key);
    assertPresignPostOptions(options);
    const { contentType, size, expiresInSeconds } = options;
    const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
    const { url, fields } = await createPresignedPost(this.client, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ['eq', '$Content-Type', contentType],
        ['content-length-range', size, size],
      ],
      Fields: { 'Content-Type': contentType },
      Expires: expiresInSeconds,
    });
    return { url, method: 'POST', fields, expires_at: expiresAt.toISOString() };
  }

  /**
   * A 403 on reading `key` (see the class comment): ObjectNotFoundError when a listing of exactly
   * that key finds nothing, else the error as it was. Any other error is returned as it is.
   */
  private async resolveDenied(key: string, error: unknown): Promise<unknown> {
    if (httpStatusOf(error) !== 403) return error;
    try {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }));
      if (!(page.Contents ?? []).some((o) => o.Key === key)) return new ObjectNotFoundError(key, { cause: error });
    } catch {
      // The listing is denied as well: the role may not know whether the object exists.
    }
    return error;
  }

  /** Maps an SDK error to the pipeline's: not found, missing bucket, transient, or as it is. */
  private translate(what: string, key: string | undefined, error: unknown): unknown {
    const name = awsErrorName(error);
    if (name === 'NoSuchBucket') {
      return new ConfigError(`${what}: bucket ${JSON.stringify(this.bucket)} does not exist`, { cause: error });
    }
    if (key !== undefined && (name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(error) === 404)) {
      return new ObjectNotFoundError(key, { cause: error });
    }
    return classifyAwsError(what, error);
  }
}
