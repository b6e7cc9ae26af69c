import { handler as detectHandler } from '../../functions/detect/handler';
import { handler as grayscaleHandler } from '../../functions/grayscale/handler';
import { handler as resizeHandler } from '../../functions/resize/handler';
import { handler as tagHandler } from '../../functions/tag/handler';
import { handler as uploadHandler } from '../../functions/upload/handler';
import type { Config } from '../config';
import { createRuntimeDeps, detectOptionsFor, type RuntimeDeps, setRuntimeDeps } from '../lambda/runtimeDeps';
import { FsObjectStore } from '../ports/FsObjectStore';
import { detectStage } from '../stages/detectStage';
import { grayscaleStage } from '../stages/grayscaleStage';
import { resizeStage } from '../stages/resizeStage';
import { tagStage } from '../stages/tagStage';
import type { StatusWatcher } from '../status/StatusWatcher';
import { DetectorWorker } from './DetectorWorker';
import { type Route, startHttpServer } from './httpServer';
import { QueueConsumer } from './QueueConsumer';
import { localContext } from './sqsEvent';

/**
 * The embedded default: the same Lambda handlers, fed by an in-process queue with SQS semantics
 * and a folder for a bucket, all in this process. No server, no Docker, no account.
 */
export interface EmbeddedOptions {
  config: Config;
  /** Serve the HTTP API on this port (0 = any free port); undefined = no HTTP server. */
  port?: number;
  host?: string;
  /** Extra routes (status API, gallery) served beside POST /upload. */
  routes?: Route[];
  deps?: RuntimeDeps;
  /**
   * Run the detector in a worker thread (default true): onnxruntime-node infers on the calling
   * thread, which would stall the other stages sharing this process.
   */
  detectInWorker?: boolean;
  /** Told of every stage record as it is written (the pipeline CLI waits on this, not by polling). */
  statusWatcher?: StatusWatcher;
}

export interface EmbeddedPipeline {
  deps: RuntimeDeps;
  url?: string;
  stop(): Promise<void>;
}

const CONSUMERS = [
  { stage: resizeStage, handler: resizeHandler, concurrency: 2 },
  { stage: grayscaleStage, handler: grayscaleHandler, concurrency: 2 },
  { stage: detectStage, handler: detectHandler, concurrency: 2 },
  { stage: tagStage, handler: tagHandler, concurrency: 2 },
] as const;

export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedPipeline> {
  let worker: DetectorWorker | undefined;
  let deps = options.deps;
  if (!deps) {
    deps = createRuntimeDeps(options.config);
    if (options.detectInWorker ?? true) {
      worker = new DetectorWorker(detectOptionsFor(deps.config));
      deps = { ...deps, detect: worker.detect };
      // Load the model before taking work: a missing model fails the start, not every photo.
      await worker.warmUp();
    }
  }
  if (options.statusWatcher) deps = { ...deps, store: options.statusWatcher.wrap(deps.store) };
  setRuntimeDeps(deps);
  // Temp files of writes cut short by a crash of an earlier run; they are never objects.
  if (deps.store instanceof FsObjectStore) await deps.store.sweepTemporaryFiles();
  const consumers = CONSUMERS.map(({ stage, handler, concurrency }) =>
    new QueueConsumer({
      queue: deps.queue,
      queueName: stage.inputQueue(deps.config),
      invoke: (event) => handler(event, localContext(stage.name)),
      log: deps.log,
      batchSize: 10,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: deps.config.visibilityTimeoutSeconds,
      concurrency,
      region: deps.config.aws.region,
    }).start(),
  );
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  if (options.port !== undefined) {
    server = await startHttpServer({
      port: options.port,
      host: options.host,
      // Multipart framing adds a few hundred bytes to the file: leave 64 KiB of headroom.
      maxBodyBytes: deps.config.limits.maxUploadBytes + 64 * 1024,
      log: deps.log,
      routes: [
        { method: 'POST', pattern: /^\/upload\/?$/, handler: (e, c) => uploadHandler(e, c), name: '/upload' },
        ...(options.routes ?? []),
      ],
    });
  }
  return {
    deps,
    url: server?.url,
    async stop() {
      await server?.close();
      await Promise.all(consumers.map((c) => c.stop()));
      const closable = deps.queue as { close?: () => Promise<void> | void };
      await closable.close?.();
      await worker?.close();
    },
  };
}
