import { type Config, config as readConfig } from '../config';
import { type DetectOptions, detect } from '../detect';
import { createLogger, type Logger } from '../log';
import { createStageMetrics } from '../metrics/createStageMetrics';
import type { StageMetrics } from '../metrics/StageMetrics';
import { createPorts } from '../ports/createPorts';
import type { ObjectStore } from '../ports/ObjectStore';
import type { Queue } from '../ports/Queue';
import type { DetectFn } from '../stages/Stage';

/**
 * What handlers use, made once per process (a Lambda container, or the embedded runtime) and
 * reused across invocations: the config, the logger, the store and queue adapters, and the
 * detector. The embedded runtime and tests install their own with `setRuntimeDeps`.
 */
export interface RuntimeDeps {
  config: Config;
  log: Logger;
  store: ObjectStore;
  queue: Queue;
  detect: DetectFn;
  /** Per-stage counts and latency; createRuntimeDeps picks EMF on Lambda, Prometheus otherwise. */
  metrics?: StageMetrics;
}

let current: RuntimeDeps | undefined;

/** The detector's options as the config sets them. */
export function detectOptionsFor(config: Config): DetectOptions {
  return {
    modelPath: config.detect.modelPath,
    intraOpNumThreads: config.detect.intraOpThreads,
    scoreThreshold: config.detect.scoreThreshold,
    iouThreshold: config.detect.iouThreshold,
    maxDetections: config.detect.maxDetections,
    limitInputPixels: config.limits.maxInputPixels,
  };
}

/** The detector on this thread: what a Lambda container wants (one batch at a time, nothing else to run). */
export function detectorFor(config: Config): DetectFn {
  const options = detectOptionsFor(config);
  return (bytes) => detect(bytes, options);
}

export function createRuntimeDeps(config: Config = readConfig()): RuntimeDeps {
  const log = createLogger({}, config.logLevel);
  const { store, queue } = createPorts(config, { log });
  return { config, log, store, queue, detect: detectorFor(config), metrics: createStageMetrics() };
}

export function runtimeDeps(): RuntimeDeps {
  current ??= createRuntimeDeps();
  return current;
}

export function setRuntimeDeps(deps: RuntimeDeps | undefined): void {
  current = deps;
}
