import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ObjectNotFoundError, PipelineError, TransientError } from '../errors';
import { contentTypeForKey } from './contentType';
import { FolderPostPolicy } from './folderPostPolicy';
import type { ListOptions, ObjectStore, PresignedPost, PresignPostOptions, PutOptions, StoredObject } from './ObjectStore';
import { assertListOptions, assertSafeKey, assertSafePrefix, UnsafeKeyError } from './safeKey';

/**
 * The embedded default's object store: each object is a plain file `<root>/<key>` (createPorts
 * uses `<dataDir>/images`, so `original/<id>.jpg` is `data/images/original/<id>.jpg`).
 *
 * - Keys pass `assertSafeKey` (src/ports/safeKey.ts) and the resolved path is checked to stay
 *   under the root, so no key can name a file elsewhere.
 * - Writes are atomic: the bytes go to a temporary file in the same folder (`.<name>.<random>.tmp`),
 *   are flushed to disk, then renamed over the key. A reader sees the old object or the new one,
 *   never half of one; a crash leaves at most a temporary file, which `list` ignores and the next
 *   start removes (see `sweepTemporaryFiles`).
 * - The content type is inferred from the extension (`.jpg` is image/jpeg, `.json` is
 *   application/json). When `put` is given a different one it is kept in a sidecar file
 *   `.<name>.content-type` beside the object. Keys never start a segment with `.`, so neither
 *   temporary nor sidecar files can collide with a key or show up in `list`.
 * - `presignPost` signs an S3-like POST policy with a key kept in `<root>/.post-policy.key`
 *   (folderPostPolicy.ts); the embedded server's `POST /bucket` checks it and writes with `put`.
 */
export interface FsObjectStoreOptions {
  /** Folder holding the objects; created on first write. */
  root: string;
}

const TEMP_SUFFIX = '.tmp';
const SIDECAR_SUFFIX = '.content-type';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EIO', 'ENOSPC', 'ETIMEDOUT', 'EINTR']);
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  /** Signs and checks the POST forms of `presignPost` (the embedded server's `POST /bucket`). */
  readonly postPolicy: FolderPostPolicy;

  constructor(options: FsObjectStoreOptions) {
    this.root = path.resolve(options.root);
    this.postPolicy = new FolderPostPolicy(path.join(this.root, '.post-policy.key'));
  }

  /** The file that holds `key`; throws UnsafeKeyError for a key that is not safe. */
  pathOf(key: string): string {
    assertSafeKey(key);
    const file = path.resolve(this.root, ...key.split('/'));
    // Defence in depth: assertSafeKey already rules out every way out of the root.
    if (!file.startsWith(this.root + path.sep)) throw new UnsafeKeyError(key, 'resolves outside the store');
    return file;
  }

  private sidecarOf(file: string): string {
    return path.join(path.dirname(file), `.${path.basename(file)}${SIDECAR_SUFFIX}`);
  }

  async get(key: string): Promise<StoredObject> {
    const file = this.pathOf(key);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (error) {
      if (ABSENT_CODES.has(errorCode(error) ?? '')) throw new ObjectNotFoundError(key, { cause: error });
      throw this.wrap(`reading ${key}`, error);
    }
    let contentType = contentTypeForKey(key);
    try {
      contentType = (await readFile(this.sidecarOf(file), 'utf8')).trim() || contentType;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw this.wrap(`reading the content type of ${key}`, error);
    }
    return { body, contentType };
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    try {
      await mkdir(dir, { recursive: true });
      const sidecar = this.sidecarOf(file);
      const contentType = options.contentType;
      if (contentType !== undefined && contentType !== contentTypeForKey(key)) {
        await this.writeAtomically(sidecar, Buffer.from(contentType, 'utf8'));
      } else {
        await unlink(sidecar).catch((error: unknown) => {
          if (errorCode(error) !== 'ENOENT') throw error;
        });
      }
      await this.writeAtomically(file, body);
    } catch (error) {
      if (error instanceof PipelineError) throw error;
      const code = errorCode(error);
      if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
        throw new PipelineError(`cannot store ${key}: a folder store cannot hold both an object and a key beneath it (${code})`, {
          cause: error,
        });
      }
      throw this.wrap(`writing ${key}`, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      return (await stat(file)).isFile();
    } catch (error) {
      if (ABSENT_CODES.has(errorCode(error) ?? '')) return false;
      throw this.wrap(`checking ${key}`, error);
    }
  }

  /**
   * Reads the folder the prefix names, whole, then takes the page asked for: a folder has no
   * index to seek in. The label index keeps one folder per label, so that is O(matches).
   */
  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    assertSafePrefix(prefix);
    assertListOptions(options);
    // Walk only the folder the prefix names (everything before its last "/"), then filter.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = folder === '' ? this.root : path.resolve(this.root, ...folder.split('/'));
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (ABSENT_CODES.has(errorCode(error) ?? '')) return;
        throw this.wrap(`listing ${prefix}`, error);
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue; // temporary and sidecar files
        const key = keyPrefix + entry.name;
        if (entry.isDirectory()) {
          // Descend only where keys could still start with the prefix.
          const asFolder = `${key}/`;
          if (asFolder.startsWith(prefix) || prefix.startsWith(asFolder)) await walk(path.join(dir, entry.name), asFolder);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          keys.push(key);
        }
      }
    };
    await walk(start, folder === '' ? '' : `${folder}/`);
    // Lexical order by UTF-16 code unit; keys are ASCII, so this is S3's byte order too.
    const sorted = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const { startAfter, maxKeys } = options;
    const after = startAfter === undefined ? sorted : sorted.filter((key) => key > startAfter);
    return maxKeys === undefined ? after : after.slice(0, maxKeys);
  }

  /** No URLs here: the embedded server serves the bytes itself. */
  async presignGet(key: string, _expiresInSeconds: number): Promise<string | undefined> {
    assertSafeKey(key);
    return undefined;
  }

  /**
   * A form for the embedded server's `POST /bucket` (a path: the server that answers the request
   * knows its own origin), which checks the policy as S3 would (folderPostPolicy.ts).
   */
  presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost> {
    return this.postPolicy.sign(key, options);
  }

  /**
   * Removes temporary files a crash left behind under `prefix` (older than `olderThanMs`, so a
   * write in progress in another process is not disturbed). Returns how many were removed.
   */
  async sweepTemporaryFiles(olderThanMs = 60_000): Promise<number> {
    let removed = 0;
    const now = Date.now();
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.name.startsWith('.') && entry.name.endsWith(TEMP_SUFFIX)) {
          const info = await stat(full).catch(() => undefined);
          if (info && now - info.mtimeMs >= olderThanMs) {
            await unlink(full).catch(() => undefined);
            removed += 1;
          }
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  private async writeAtomically(file: string, body: Buffer): Promise<void> {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx', 0o644);
      await handle.writeFile(body);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, file);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  private wrap(what: string, error: unknown): Error {
    const code = errorCode(error);
    if (code !== undefined && TRANSIENT_CODES.has(code)) {
      return new TransientError(`folder store: ${what} failed (${code})`, { cause: error });
    }
    return error instanceof Error ? error : new PipelineError(`folder store: ${what} failed`, { cause: error });
  }
}
