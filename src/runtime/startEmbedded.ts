import path from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { routeApi } from '../api/routeApi';
import type { App } from '../app/createApp';
import { assertNoneModeIsPrivate } from '../auth/noneModeRule';
import { QUEUE_KEYS, type QueueKey } from '../domain/stages';
import { ROUTES, type RouteFunction, routePattern } from '../http/routes';
import { detectHandler } from '../lambda/detectHandler';
import { grayscaleHandler } from '../lambda/grayscaleHandler';
import { ingestHandler } from '../lambda/ingestHandler';
import { resizeHandler } from '../lambda/resizeHandler';
import { tagHandler } from '../lambda/tagHandler';
import { childLogger } from '../logger/createLogger';
import { uploadLimitHint } from '../upload/readUploadBody';
import { routeUpload } from '../upload/routeUpload';
import { bucketGetRoute } from './bucketGet';
import { bucketRoutes } from './bucketPost';
import { FileSpool } from './fileSpool';
import { type HttpFunction, type HttpServer, isWildcardHost, type Route, startHttpServer } from './httpServer';
import { QueueConsumer } from './QueueConsumer';
import { localContext } from './sqsEvent';
import { webhookConsumer } from './webhookConsumer';

/**
 * The embedded default: the Lambda handlers of src/lambda built for one app, fed by its queue (in
 * process, with SQS semantics) and its store (a folder), all in this process. No server, no Docker,
 * no account. Several can run in one process, each on its own app.
 */
export interface EmbeddedOptions {
  /** Serve the HTTP API (src/http/routes.ts) on this port (0 = any free port); undefined = no HTTP server. */
  port?: number;
  host?: string;
}

export interface EmbeddedPipeline {
  app: App;
  url?: string;
  /** Stops taking work, waits for the batches in flight, then closes the app. */
  stop(): Promise<void>;
}

/** Batches of one stage handled at once (Lambda's concurrency). */
const CONSUMER_CONCURRENCY = 2;

/**
 * The function that consumes each queue (src/domain/stages.ts's QUEUES): serverless.yml's SQS event
 * source mappings. The bucket starts the pipeline too: `ingest_queue` is consumed like a stage's queue.
 */
const CONSUMERS: Record<QueueKey, (app: App) => (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>> = {
  resize: resizeHandler,
  grayscale: grayscaleHandler,
  detect: detectHandler,
  tag: tagHandler,
  ingest: ingestHandler,
};

export async function startEmbedded(app: App, options: EmbeddedOptions = {}): Promise<EmbeddedPipeline> {
  // Before any work: AUTH=none beyond loopback is refused, and the API keys must be readable.
  if (options.port !== undefined) {
    assertNoneModeIsPrivate(app.config.auth, { host: options.host ?? '127.0.0.1' });
    await app.auth.ready();
  }
  // Load the model before taking work: a missing model fails the start, not every photo.
  await app.warmUp();
  // Temp files of writes cut short by a crash of an earlier run; they are never objects.
  await app.store.sweepTemporaryFiles?.();
  // What an SQS event source mapping does for a function: receive batches of its queue and invoke it.
  const consume = (queueName: string, functionName: string, handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) =>
    new QueueConsumer({
      queue: app.queue,
      queueName,
      invoke: (event) => handler(event, localContext(functionName)),
      log: app.log,
      batchSize: 10,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: app.config.visibilityTimeoutSeconds,
      concurrency: CONSUMER_CONCURRENCY,
      region: app.config.aws.region,
    }).start();
  const consumers = QUEUE_KEYS.map((fn) => consume(app.config.queues[fn], fn, CONSUMERS[fn](app)));
  // EVENTS=webhook: the deliverer on the events queue, retried like a stage (src/runtime/webhookConsumer.ts).
  const webhook = webhookConsumer(app);
  if (webhook) consumers.push(webhook.start());
  let server: HttpServer | undefined;
  if (options.port !== undefined) server = await startHttpApi(app, options.port, options.host);
  return {
    app,
    url: server?.url,
    async stop() {
      await server?.close();
      await Promise.all(consumers.map((c) => c.stop()));
      await app.close();
    },
  };
}

/**
 * The HTTP API on `port`: the core's routes (src/http/routes.ts) called with each request as it
 * streams in, the photos of POST /upload spooled to `<DATA_DIR>/spool` while they arrive, and the
 * folder store's own bucket: POST /bucket for the forms POST /uploads hands out, whose URL is
 * PUBLIC_URL or else the address the server is bound to (never a request's Host header), and GET
 * /bucket/<key> for the presigned image URLs the API hands out. startEmbedded serves it beside the
 * queue consumers; alone (the HTTP benchmark) it takes and queues work nothing in this process consumes.
 */
export async function startHttpApi(app: App, port: number, host = app.config.http.host): Promise<HttpServer> {
  const spool = await FileSpool.open(path.join(app.config.dataDir, 'spool'));
  // Known once the server is bound (port 0 picks one); read at each request.
  let publicUrl = app.config.http.publicUrl;
  const functions: Record<RouteFunction, HttpFunction> = {
    upload: (req) =>
      routeUpload(req, { ...app, log: childLogger(app.log, { stage: 'upload', request_id: req.requestId }), spool, publicUrl }),
    api: (req) => routeApi(req, { ...app, log: childLogger(app.log, { stage: 'api', request_id: req.requestId }) }),
  };
  const routes: Route[] = ROUTES.map((r) => ({ method: r.method, pattern: routePattern(r.path), name: r.path, serve: functions[r.fn] }));
  // The folder store's answer to S3's form uploads (the forms POST /uploads hands out), then the
  // pipeline is told as S3's notification would (app.announceCreated: a folder store has none)…
  const rawRoutes = bucketRoutes(app.store, {
    maxRequestBytes: app.config.limits.maxBucketUploadBytes + 64 * 1024,
    log: app.log,
    ...(app.announceCreated ? { announceCreated: app.announceCreated } : {}),
  });
  // …and to its presigned GETs (the image URLs the API hands out once it checked the owner).
  const bucketGet = bucketGetRoute(app.store, app.log);
  if (bucketGet) rawRoutes.push(bucketGet);
  const server = await startHttpServer({
    port,
    host,
    // Multipart framing adds a few hundred bytes to the file: leave 64 KiB of headroom.
    maxBodyBytes: app.config.limits.maxUploadBytes + 64 * 1024,
    tooLargeHint: uploadLimitHint(app.config.limits),
    limits: app.config.http,
    log: app.log,
    routes,
    rawRoutes,
  });
  if (publicUrl === undefined) {
    publicUrl = server.url;
    if (rawRoutes.length > 0 && isWildcardHost(host)) {
      app.log.warn("HOST is a wildcard address and PUBLIC_URL is unset: upload forms point at this machine's loopback address", {
        public_url: publicUrl,
        hint: 'set PUBLIC_URL to the URL clients reach this server at',
      });
    }
  }
  return server;
}
