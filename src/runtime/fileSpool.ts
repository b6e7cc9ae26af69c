import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { type ConcurrencyLimit, concurrencyLimit } from '../image/concurrencyLimit';
import type { SpooledFile, UploadSpool } from '../upload/spool';

/**
 * The embedded server's spool for POST /upload: each photo is written to a file as it arrives, so
 * fifty clients sending 10 MB at 100 KB/s hold a few kilobytes each in memory, not 500 MB between
 * them; once a photo is whole, it is read back for its check and store, at most `readers` at a time
 * (one per core by default), each into a buffer of its own that the next photo reuses: memory holds
 * that many photos whatever the number of clients, and no garbage of 10 MB buffers piles up ahead of
 * the collector when fifty photos end at once. A file whose request failed or whose client left is
 * removed at once; `open` empties the folder of what a crash left behind (one process owns a DATA_DIR).
 */
export class FileSpool implements UploadSpool {
  private readonly limit: ConcurrencyLimit;
  /** Read buffers not in use; never more than `readers` exist, each as large as the largest photo read into it. */
  private readonly free: Buffer[] = [];

  private constructor(
    readonly dir: string,
    readers: number,
  ) {
    this.limit = concurrencyLimit(readers);
  }

  static async open(dir: string, readers = Math.max(1, os.availableParallelism())): Promise<FileSpool> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return new FileSpool(dir, readers);
  }

  async take(stream: Readable): Promise<SpooledFile> {
    const file = path.join(this.dir, `${randomUUID()}.part`);
    // Listening before the file is open: a stream that ends or fails meanwhile is not missed.
    const ended = finished(stream);
    ended.catch(() => undefined);
    // Created before anything can fail, so a failure always finds the file to remove.
    const handle = await open(file, 'wx', 0o600);
    const out = handle.createWriteStream();
    try {
      await Promise.all([pipeline(stream, out), ended]);
    } catch (error) {
      out.destroy();
      await unlink(file).catch(() => undefined);
      throw error;
    }
    let discarded = false;
    const discard = async () => {
      if (discarded) return;
      discarded = true;
      await unlink(file).catch(() => undefined);
    };
    const size = out.bytesWritten;
    return { size, use: (work) => this.limit(() => this.withBytes(file, size, work)), discard };
  }

  /**
   * Reads the file into a free read buffer and runs `work` on the bytes, which are valid only until
   * it settles (the buffer then goes to the next photo): the contract of SpooledFile.use.
   */
  private async withBytes<T>(file: string, size: number, work: (bytes: Buffer) => Promise<T>): Promise<T> {
    let buffer = this.free.pop();
    if (buffer === undefined || buffer.length < size) buffer = Buffer.allocUnsafe(size);
    try {
      const handle = await open(file, 'r');
      try {
        let read = 0;
        while (read < size) {
          const { bytesRead } = await handle.read(buffer, read, size - read, read);
          if (bytesRead === 0) throw new Error(`the spooled photo ${file} ended after ${read} of its ${size} bytes`);
          read += bytesRead;
        }
      } finally {
        await handle.close();
      }
      return await work(buffer.subarray(0, size));
    } finally {
      this.free.push(buffer);
    }
  }
}
