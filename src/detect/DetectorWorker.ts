import { Worker } from 'node:worker_threads';
import type { Detection } from '../domain/messages';
import { ImageTooLargeError, InvalidInputError, PipelineError, RuntimeLoadError, UnsupportedImageError } from '../errors';
import { concurrencyLimit } from '../image/concurrencyLimit';
import type { DetectOptions } from './Detector';
import type { DetectReply, DetectRequest } from './detectWorker';
import { warmUpDetector } from './warmUpDetector';

/**
 * Errors cross the thread boundary as {name, message, retryable}; give them back their class, so
 * that processMessage still tells bad input (dead-lettered) from a fault (retried). An error of
 * another class keeps its name and, through InvalidInputError or PipelineError, what it was.
 */
const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  UnsupportedImageError,
  ImageTooLargeError,
  InvalidInputError,
  DetectorLoadError: RuntimeLoadError,
  RuntimeLoadError,
};

function revive(error: { name: string; message: string; retryable: boolean }): Error {
  const Class = ERROR_CLASSES[error.name] ?? (error.retryable ? PipelineError : InvalidInputError);
  const e = new Class(error.message);
  e.name = error.name === 'DetectorLoadError' ? 'RuntimeLoadError' : error.name;
  return e;
}

/**
 * The detector in one worker thread, for the embedded default (see detectWorker.ts for why).
 * Requests queue in the worker; if the worker dies, pending requests fail (the queue retries
 * them) and the next request starts a new worker.
 */
export class DetectorWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (d: Detection[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly options: DetectOptions) {}

  /**
   * At most two requests in the worker at once: its thread infers one photo at a time, and the
   * second's decode overlaps that inference. Each request decodes its photo there (a progressive
   * JPEG whole, whatever the scale): a batch of twenty sent at once held twenty.
   */
  private readonly inWorker = concurrencyLimit(2);

  readonly detect = (bytes: Buffer): Promise<Detection[]> =>
    this.inWorker(
      () =>
        new Promise<Detection[]>((resolve, reject) => {
          const id = this.nextId++;
          this.pending.set(id, { resolve, reject });
          // Copy into a buffer of our own so it can be transferred, not cloned.
          const copy = new Uint8Array(bytes.byteLength);
          copy.set(bytes);
          this.start().postMessage({ id, bytes: copy } satisfies DetectRequest, [copy.buffer]);
        }),
    );

  /** Starts the worker and loads the model now, so the first photo does not wait for them. */
  warmUp(): Promise<void> {
    return warmUpDetector(this.detect);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // From TypeScript sources (tsx), the worker must register tsx's loader itself before importing
    // the .ts entry: Node does not carry a parent's loader hooks into a worker (checked on Node 20).
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(fromSource ? './detectWorker.ts' : './detectWorker.js', import.meta.url);
    const worker = fromSource
      ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`, {
          eval: true,
          workerData: this.options,
        })
      : new Worker(url, { workerData: this.options });
    worker.on('message', (reply: DetectReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(revive(reply.error));
      else p.resolve(reply.detections);
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(error);
      }
    };
    worker.on('error', (e) => fail(e));
    worker.on('exit', (code) => fail(new Error(`detector worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
