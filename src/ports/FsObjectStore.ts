import { randomBytes } from 'node:crypto';
import { type BigIntStats, createWriteStream, type Dirent, existsSync } from 'node:fs';
import { copyFile, type FileHandle, link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectChangedError, ObjectNotFoundError, PipelineError, TransientError } from '../errors';
import { contentTypeForKey } from './contentType';
import { FolderPostPolicy } from './folderPostPolicy';
import type {
  CopyOptions,
  ListOptions,
  ObjectHead,
  ObjectStore,
  ObjectStream,
  PostGrant,
  PresignedPost,
  PresignPostOptions,
  PutOptions,
  StoredObject,
} from './ObjectStore';
import { keptMetadata, readMetadata } from './objectMetadata';
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
 *   `.<name>.content-type` beside the object, and its user metadata, when it has any, in
 *   `.<name>.metadata` (JSON). Keys never start a segment with `.`, so neither temporary nor
 *   sidecar files can collide with a key or show up in `list`.
 * - An object's version (`StoredObject.etag`) is the identity of its file: inode, size and
 *   modification time. Every write makes a new file and renames it into place, so a rewrite always
 *   changes it; `copy` with `ifMatch` copies from the file it opened after checking that identity,
 *   so it copies exactly that version or nothing (ObjectChangedError), as S3's conditional copy.
 * - `presignPost` signs an S3-like POST policy with a key kept in `<root>/.post-policy.key`
 *   (folderPostPolicy.ts); the embedded server's `POST /bucket` checks it and writes with `put`.
 */
export interface FsObjectStoreOptions {
  /** Folder holding the objects; created on first write. */
  root: string;
}

const TEMP_SUFFIX = '.tmp';
const SIDECAR_SUFFIX = '.content-type';
const METADATA_SUFFIX = '.metadata';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EIO', 'ENOSPC', 'ETIMEDOUT', 'EINTR']);
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** Creates `file` (it must not exist) with `body`, flushed to disk. */
async function writeFileSynced(file: string, body: Buffer): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'wx', 0o644);
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle?.close();
  }
}

/** Flushes a file written by a stream or a copy to disk before it is renamed into place. */
async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** An object's version: its file's identity, which every write changes (a new file renamed into place). */
function versionOf(info: BigIntStats): string {
  return `"${info.ino.toString(16)}-${info.size.toString(16)}-${info.mtimeNs.toString(16)}"`;
}

/** Copies `from` into the new file `to` if `from` is still version `ifMatch`, else ObjectChangedError. */
async function copyVersion(from: string, to: string, key: string, ifMatch: string): Promise<void> {
  const source = await open(from, 'r');
  try {
    if (versionOf(await source.stat({ bigint: true })) !== ifMatch) throw new ObjectChangedError(key);
    const target = await open(to, 'wx', 0o644);
    try {
      const chunk = Buffer.allocUnsafe(1 << 20);
      for (let position = 0; ; ) {
        const { bytesRead } = await source.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        await target.write(chunk, 0, bytesRead);
        position += bytesRead;
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  /** Signs and checks the POST forms of `presignPost` (the embedded server's `POST /bucket`). */
  readonly postPolicy: FolderPostPolicy;
  /** Folders this store made or found: a photo's ten writes need no mkdir each (see inFolder). */
  private readonly folders = new Set<string>();

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

  private sidecarOf(file: string, suffix = SIDECAR_SUFFIX): string {
    return path.join(path.dirname(file), `.${path.basename(file)}${suffix}`);
  }

  async get(key: string): Promise<StoredObject> {
    const file = this.pathOf(key);
    let body: Buffer;
    let etag: string;
    let handle: FileHandle | undefined;
    try {
      // The bytes and their version from one open file: a rename over the key cannot come between.
      handle = await open(file, 'r');
      etag = versionOf(await handle.stat({ bigint: true }));
      body = await handle.readFile();
    } catch (error) {
      if (ABSENT_CODES.has(errorCode(error) ?? '')) throw new ObjectNotFoundError(key, { cause: error });
      throw this.wrap(`reading ${key}`, error);
    } finally {
      await handle?.close();
    }
    return { body, contentType: await this.contentTypeOf(key, file), etag };
  }

  /** The file, opened: a stream that closes it when it ends or is destroyed. */
  async getStream(key: string): Promise<ObjectStream> {
    const file = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (ABSENT_CODES.has(errorCode(error) ?? '')) throw new ObjectNotFoundError(key, { cause: error });
      throw this.wrap(`reading ${key}`, error);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new ObjectNotFoundError(key);
      const contentType = await this.contentTypeOf(key, file);
      return { body: handle.createReadStream(), size: info.size, contentType };
    } catch (error) {
      await handle.close();
      throw error instanceof ObjectNotFoundError ? error : this.wrap(`reading ${key}`, error);
    }
  }

  /** Streams into a temporary file beside the key, flushed, then renamed over it (atomic, like put). */
  async putStream(key: string, body: Readable, options: PutOptions = {}): Promise<number> {
    const file = this.pathOf(key);
    let written = 0;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const temp = await this.writeTemporary(file, async (t) => {
        const out = createWriteStream(t, { flags: 'wx', mode: 0o644 });
        await pipeline(body, out);
        written = out.bytesWritten;
        await syncFile(t);
      });
      await this.commit(temp, key, file, options.contentType, keptMetadata(options.metadata));
      return written;
    } catch (error) {
      throw this.writeError(key, error);
    }
  }

  /** The sidecar's content type, else the one the key's extension names. */
  private async contentTypeOf(key: string, file: string): Promise<string> {
    try {
      return (await readFile(this.sidecarOf(file), 'utf8')).trim() || contentTypeForKey(key);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw this.wrap(`reading the content type of ${key}`, error);
      return contentTypeForKey(key);
    }
  }

  /** Writes the sidecar when the content type differs from the extension's, removes it otherwise. */
  private async writeContentType(key: string, file: string, contentType: string | undefined): Promise<void> {
    const sidecar = this.sidecarOf(file);
    if (contentType !== undefined && contentType !== contentTypeForKey(key)) {
      await this.writeAtomically(sidecar, Buffer.from(contentType, 'utf8'));
    } else await removeSidecar(sidecar);
  }

  /** The sidecars of a written temporary file, then the file renamed over the key's (removed if that fails). */
  private async commit(
    temp: string,
    key: string,
    file: string,
    contentType: string | undefined,
    metadata: Readonly<Record<string, string>> | undefined,
  ): Promise<void> {
    try {
      await this.writeContentType(key, file, contentType);
      await this.writeMetadata(file, metadata);
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** The metadata sidecar's entries, or undefined when the object has none. */
  private async metadataOf(key: string, file: string): Promise<Record<string, string> | undefined> {
    let text: string;
    try {
      text = await readFile(this.sidecarOf(file, METADATA_SUFFIX), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw this.wrap(`reading the metadata of ${key}`, error);
    }
    try {
      return readMetadata(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  /** Writes the metadata sidecar when there is metadata, removes a stale one otherwise. */
  private async writeMetadata(file: string, metadata: Readonly<Record<string, string>> | undefined): Promise<void> {
    const sidecar = this.sidecarOf(file, METADATA_SUFFIX);
    if (metadata !== undefined) await this.writeAtomically(sidecar, Buffer.from(JSON.stringify(metadata), 'utf8'));
    else await removeSidecar(sidecar);
  }

  /**
   * Runs `write` once `dir` exists. The folders already made are remembered; if one was removed
   * since (by hand, or `rm -r` of a prefix), the write fails with ENOENT and runs again after a mkdir.
   */
  private async inFolder<T>(dir: string, write: () => Promise<T>): Promise<T> {
    if (this.folders.has(dir)) {
      try {
        return await write();
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
        this.folders.delete(dir);
      }
    }
    await mkdir(dir, { recursive: true });
    this.folders.add(dir);
    return write();
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const metadata = keptMetadata(options.metadata);
    try {
      await this.inFolder(dir, async () => {
        await this.writeContentType(key, file, options.contentType);
        await this.writeMetadata(file, metadata);
        await this.writeAtomically(file, body);
      });
    } catch (error) {
      throw this.writeError(key, error);
    }
  }

  /**
   * An exclusive create: the bytes go to a temporary file, which is then hard-linked to the key's
   * name — link(2) fails with EEXIST when the name is taken, atomically, so of concurrent callers
   * (in this process or another) exactly one wins, and a reader sees the whole object or none.
   */
  async putIfAbsent(key: string, body: Buffer, options: PutOptions = {}): Promise<boolean> {
    const file = this.pathOf(key);
    const metadata = keptMetadata(options.metadata);
    let temp: string | undefined;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      temp = await this.writeTemporary(file, (t) => writeFileSynced(t, body));
      try {
        await link(temp, file);
      } catch (error) {
        if (errorCode(error) === 'EEXIST' && (await stat(file).catch(() => undefined))?.isFile()) return false;
        throw error;
      }
      await this.writeContentType(key, file, options.contentType);
      await this.writeMetadata(file, metadata);
      return true;
    } catch (error) {
      throw this.writeError(key, error);
    } finally {
      if (temp !== undefined) await unlink(temp).catch(() => undefined);
    }
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    const file = this.pathOf(key);
    try {
      const info = await stat(file);
      if (!info.isFile()) return undefined;
      const head: ObjectHead = { size: info.size, contentType: await this.contentTypeOf(key, file) };
      const metadata = await this.metadataOf(key, file);
      if (metadata !== undefined) head.metadata = metadata;
      return head;
    } catch (error) {
      if (ABSENT_CODES.has(errorCode(error) ?? '')) return undefined;
      throw this.wrap(`checking ${key}`, error);
    }
  }

  /**
   * A file copy to a temporary file beside the target, flushed, then renamed over it (atomic, like
   * put). With `ifMatch`, the source is opened, its version checked, and the copy made from that
   * open file: a rename over the source after the check cannot change what is copied.
   */
  async copy(fromKey: string, toKey: string, options: CopyOptions = {}): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    try {
      const contentType = options.contentType ?? (await this.contentTypeOf(fromKey, from));
      // As S3's metadata directive: kept unless a new content type replaces it.
      const metadata = options.contentType === undefined ? await this.metadataOf(fromKey, from) : undefined;
      await mkdir(path.dirname(to), { recursive: true });
      const temp = await this.writeTemporary(to, async (t) => {
        try {
          if (options.ifMatch === undefined) await copyFile(from, t);
          else await copyVersion(from, t, fromKey, options.ifMatch);
        } catch (error) {
          if (ABSENT_CODES.has(errorCode(error) ?? '')) throw new ObjectNotFoundError(fromKey, { cause: error });
          throw error;
        }
        await syncFile(t);
      });
      await this.commit(temp, toKey, to, contentType, metadata);
    } catch (error) {
      throw this.writeError(toKey, error);
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      if (!(await stat(file).catch(() => undefined))?.isFile()) return;
      await unlink(file);
      for (const sidecar of [this.sidecarOf(file), this.sidecarOf(file, METADATA_SUFFIX)]) await removeSidecar(sidecar);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw this.wrap(`removing ${key}`, error);
    }
  }

  private writeError(key: string, error: unknown): Error {
    if (error instanceof PipelineError) return error;
    const code = errorCode(error);
    if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
      return new PipelineError(`cannot store ${key}: a folder store cannot hold both an object and a key beneath it (${code})`, {
        cause: error,
      });
    }
    return this.wrap(`writing ${key}`, error);
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
  /** Every key removed, a few at a time; keys that are not there are no error. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertSafeKey(key);
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) await this.delete(key);
      }),
    );
  }

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

  /**
   * A path the embedded server's `GET /bucket/<key>` serves the object at until it expires, signed
   * like S3's presigned URLs (folderPostPolicy.ts); the server that answers knows its own origin.
   */
  presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return this.postPolicy.signGet(key, expiresInSeconds);
  }

  /**
   * A form for the embedded server's `POST /bucket` (a path: the server that answers the request
   * knows its own origin), which checks the policy as S3 would (folderPostPolicy.ts).
   */
  presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost> {
    return this.postPolicy.sign(key, options);
  }

  /** The form's policy checked, then the form claimed: a second post of it is refused (single-use). */
  async checkPost(fields: Record<string, string>): Promise<PostGrant> {
    const checked = await this.postPolicy.check(fields);
    const release = await this.postPolicy.claim(checked);
    const { key, contentType, minBytes, maxBytes } = checked;
    return { key, contentType, minBytes, maxBytes, release };
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
    const temp = await this.writeTemporary(file, (t) => writeFileSynced(t, body));
    try {
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** A temporary file beside `file` (`.<name>.<random>.tmp`, never a key) filled by `fill`; removed if that fails. */
  private async writeTemporary(file: string, fill: (temp: string) => Promise<void>): Promise<string> {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    try {
      await fill(temp);
      return temp;
    } catch (error) {
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

/** Removes a sidecar if there is one. Looked for first: nearly every object has none, and a failed unlink costs an error object. */
async function removeSidecar(sidecar: string): Promise<void> {
  if (!existsSync(sidecar)) return;
  await unlink(sidecar).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
}
