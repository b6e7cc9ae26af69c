/**
 * Runs the detector in a worker thread. onnxruntime-node's `session.run` executes on the calling
 * thread, so in the embedded default (all stages in one process) inference would stall every other
 * stage's JavaScript for ~20 ms per image; here it blocks only this thread. See DetectorWorker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRetryable } from '../errors';
import { type DetectOptions, detect } from './Detector';

export interface DetectRequest {
  id: number;
  bytes: Uint8Array;
}
export type DetectReply =
  | { id: number; detections: Awaited<ReturnType<typeof detect>> }
  | { id: number; error: { name: string; message: string; retryable: boolean } };

const options = workerData as DetectOptions;
const port = parentPort;
if (!port) throw new Error('detectWorker.ts must run in a worker thread');

port.on('message', (req: DetectRequest) => {
  detect(Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength), options).then(
    (detections) => port.postMessage({ id: req.id, detections } satisfies DetectReply),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: req.id, error: { name: e.name, message: e.message, retryable: isRetryable(e) } } satisfies DetectReply);
    },
  );
});
