import { finished, type Readable } from 'node:stream';

/**
 * Where the photo of a POST /upload waits between its last byte arriving and its check: the bytes
 * a slow client sends over minutes must not sit in memory all that time. The embedded server
 * spools them to disk (src/runtime/fileSpool.ts) and lets only a few be read back at once; a Lambda
 * event holds its body in memory already, so there the spool is memory (memorySpool).
 */
export interface UploadSpool {
  /** Takes `stream` to its end (the caller limits its size); rejects, keeping nothing, when it fails. */
  take(stream: Readable): Promise<SpooledFile>;
}

export interface SpooledFile {
  readonly size: number;
  /**
   * Runs `work` on the bytes, whole; they are held in memory only while it runs (and a spool on
   * disk runs only a few at once, reusing their memory): `work` must not keep them, or a view of
   * them, after it settles. Once per file.
   */
  use<T>(work: (bytes: Buffer) => Promise<T>): Promise<T>;
  /** Lets go of the bytes (removes the spooled file); harmless twice. */
  discard(): Promise<void>;
}

/** The bytes in memory, as they came: no copy until `use` joins them. */
export const memorySpool: UploadSpool = {
  take: (stream) =>
    new Promise((resolve, reject) => {
      let chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
      });
      // `finished` settles for a stream that ended, failed or was destroyed, even before this call.
      finished(stream, (error) => {
        if (error) return reject(error);
        resolve({
          size,
          use: (work) => work(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
          discard: async () => {
            chunks = [];
          },
        });
      });
    }),
};
