import { type Authenticator, createAuthenticator } from '../auth/authenticator';
import { assertWebhookSecret, type Config, configFromEnvironment } from '../config';
import { type DetectOptions, detect } from '../detect/Detector';
import { DetectorWorker } from '../detect/DetectorWorker';
import { warmUpDetector } from '../detect/warmUpDetector';
import type { ApiResponse } from '../http/ApiResponse';
import { type ConcurrencyLimit, wholePhotoLimit } from '../image/concurrencyLimit';
import { objectCreatedNotification } from '../ingest/s3Notification';
import { createLogger, type Logger, type LogSink } from '../logger/createLogger';
import { createStageMetrics } from '../metrics/createStageMetrics';
import type { StageMetrics } from '../metrics/StageMetrics';
import { createEventPublisher } from '../ports/createEventPublisher';
import { createPorts, type Ports } from '../ports/createPorts';
import type { EventPublisher } from '../ports/EventPublisher';
import { readApiKeys } from '../ports/readSecret';
import { AwsSecretSource, prefetchSecret, type SecretSource } from '../ports/secrets';
import { deliverWebhook } from '../ports/WebhookPublisher';
import type { DetectFn } from '../stages/Stage';
import { galleryResponse } from '../web/galleryPage';

/**
 * The composition root: everything a handler or a runtime uses, built once from the config. A
 * Lambda function builds one at init (functions/<stage>/handler.ts) and keeps it for the life of
 * its container; the embedded runtime, the CLIs and the tests build their own, as many as they like
 * in one process — nothing here or below is module-level state.
 */
export interface App {
  config: Config;
  /** The root logger; handlers bind `stage`, `image_id` and `request_id` in children of it. */
  log: Logger;
  store: Ports['store'];
  queue: Ports['queue'];
  /** Listing and redriving the queues' dead letters (`npm run dlq`, the load tool). */
  deadLetters: Ports['deadLetters'];
  detect: DetectFn;
  /** EMF (Powertools Metrics) on Lambda, Prometheus embedded, as config.metrics says. */
  metrics: StageMetrics;
  /** One whole decoded photo per core at a time, across all of this app's batches (the tag stage). */
  wholePhoto: ConcurrencyLimit;
  /** Each photo's completion event: EventBridge, the webhook's queue, or nowhere (config.events). */
  events: EventPublisher;
  /** Who is calling the HTTP API (config.auth): the owner of what it uploads and the only photos it sees. */
  auth: Authenticator;
  /** With EVENTS=webhook: the queue of events to deliver, and the delivery of one (its consumer retries). */
  webhook?: { queue: string; retrySeconds: number; deliver(body: string): Promise<void> };
  /**
   * Tells the pipeline that the store wrote an object (`uploads/<id>.<ext>`: the embedded server's
   * POST /bucket calls it after a presigned POST's write). Made for a store that checks its own
   * forms (ObjectStore.checkPost: the folder store), which has no event notifications: it queues the
   * same notification S3 would send on `ingest_queue`. Absent where the bucket notifies by itself
   * (S3 on AWS and MiniStack; MinIO's webhook on the emulated cloud).
   */
  announceCreated?: (key: string) => Promise<void>;
  /** GET /: the gallery page, signed in as `auth` says (src/web/galleryPage.ts). */
  page(): Promise<ApiResponse>;
  /** Loads the model now, so that a missing model fails the start rather than every photo. */
  warmUp(): Promise<void>;
  /** Prints stored metrics, ends the detector worker, closes the ports. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** Default: the environment of this process (configFromEnvironment). */
  config?: Config;
  /**
   * Where the detector runs: `inline` on this thread (a Lambda container runs one batch at a time),
   * `worker` in a worker thread (the embedded default: onnxruntime infers on the calling thread and
   * would stall the other four stages), or a function of the caller's (tests). Default `inline`.
   */
  detector?: 'inline' | 'worker' | DetectFn;
  /** The caller's store, queue and dead letters (tests, fault injection); default createPorts(config) with the app's logger. */
  ports?: Ports;
  /** Keep the memory queue's journal under `<dataDir>/queues` (createPorts). Default true. */
  persistQueues?: boolean;
  /** Where log lines go instead of stdout/stderr (tests). */
  logSink?: LogSink;
  /** The caller's metrics (tests); default from config.metrics. */
  metrics?: StageMetrics;
  /** The caller's event publisher (tests); default createEventPublisher(config, queue). */
  events?: EventPublisher;
  /** Where secrets named by a *_PARAMETER variable are read (tests); default SSM / Secrets Manager. */
  secrets?: SecretSource;
  /** The caller's authenticator (tests); default createAuthenticator(config.auth). */
  auth?: Authenticator;
}

/** The detector's options as the config sets them. */
export function detectOptionsFor(config: Config): DetectOptions {
  return {
    modelPath: config.detect.modelPath,
    intraOpNumThreads: config.detect.intraOpThreads,
    scoreThreshold: config.detect.scoreThreshold,
    iouThreshold: config.detect.iouThreshold,
    maxDetections: config.detect.maxDetections,
    limitInputPixels: config.limits.maxInputPixels,
    imageTimeoutSeconds: config.limits.imageTimeoutSeconds,
  };
}

export function createApp(options: AppOptions = {}): App {
  const config = options.config ?? configFromEnvironment();
  const log = createLogger({ level: config.logLevel, serviceName: config.serviceName }, options.logSink ? { sink: options.logSink } : {});
  // The ports take the app's logger (not a module-level one), so a CLI's quiet level reaches them.
  const ports = options.ports ?? createPorts(config, { persistQueues: options.persistQueues ?? true, log });
  const metrics = options.metrics ?? createStageMetrics(config, log);
  const events = options.events ?? createEventPublisher(config, ports.queue);
  // Secrets named by a *_PARAMETER variable are read now, at init, once for the app's life.
  let secretSource: SecretSource | undefined = options.secrets;
  const source = () => {
    secretSource ??= new AwsSecretSource({ region: config.aws.region });
    return secretSource;
  };
  // Made at init: with AUTH=api-key the keys' hashes are read now (a Lambda function's init), once.
  const auth = options.auth ?? createAuthenticator(config.auth, { readSecret: (keys) => readApiKeys(keys, source) });
  const { webhookUrl, webhookSecret, webhookSecretParameter } = config.events;
  const readWebhookSecret = prefetchSecret(
    // Read only where it is used: a function that delivers no webhook never asks for it.
    {
      variable: 'WEBHOOK_SECRET_PARAMETER',
      value: webhookSecret,
      reference: config.events.target === 'webhook' ? webhookSecretParameter : undefined,
    },
    source,
    (secret) => assertWebhookSecret(secret, 'the secret'),
  );
  const webhook =
    config.events.target === 'webhook' && webhookUrl !== undefined && (webhookSecret !== undefined || webhookSecretParameter !== undefined)
      ? {
          queue: config.events.queue,
          retrySeconds: config.events.webhookRetrySeconds,
          // A delivery gives up well within the message's lease (the retry wait), so one attempt
          // is never still running when the queue hands the message out again.
          deliver: async (body: string) =>
            deliverWebhook(body, {
              url: webhookUrl,
              secret: (await readWebhookSecret()) ?? '',
              timeoutMs: Math.min(10_000, config.events.webhookRetrySeconds * 500),
            }),
        }
      : undefined;

  const { store, queue } = ports;
  const announceCreated = store.checkPost
    ? async (key: string) => {
        const head = await store.head(key);
        await queue.send(config.queues.ingest, objectCreatedNotification(config.bucket, key, head?.size));
      }
    : undefined;

  let worker: DetectorWorker | undefined;
  let detectFn: DetectFn;
  const choice = options.detector ?? 'inline';
  if (typeof choice === 'function') detectFn = choice;
  else if (choice === 'worker') {
    worker = new DetectorWorker(detectOptionsFor(config));
    detectFn = worker.detect;
  } else {
    const detectOptions = detectOptionsFor(config);
    detectFn = (bytes) => detect(bytes, detectOptions);
  }

  return {
    config,
    log,
    store: ports.store,
    queue: ports.queue,
    deadLetters: ports.deadLetters,
    detect: detectFn,
    metrics,
    wholePhoto: wholePhotoLimit(),
    events,
    auth,
    ...(webhook ? { webhook } : {}),
    ...(announceCreated ? { announceCreated } : {}),
    page: async () => galleryResponse(await auth.pageSignIn()),
    warmUp: () => (typeof choice === 'function' ? Promise.resolve() : warmUpDetector(detectFn)),
    async close() {
      metrics.flush?.();
      await worker?.close();
      await events.close?.();
      await ports.close();
    },
  };
}
