import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../src/logger/createLogger';
import type { Queue } from '../../src/ports/Queue';

/**
 * The bucket's notifications on the emulated cloud. MinIO has no SQS notification target (it has
 * webhook, Kafka, NATS, AMQP, …), so the dev stack gives it a webhook target (minioWebhookEnv, set
 * when MinIO starts) and this relay as its endpoint: each POST MinIO makes carries one S3 event
 * message (`{EventName, Key, Records: [...]}`, the records as S3 writes them), which the relay sends
 * as it is to `ingest_queue` on ElasticMQ — from there the SQS bridge hands it to the ingest function
 * like any stage's message. The relay answers 200 only once the message is sent; anything else and
 * MinIO keeps the event in its queue folder (MINIO_NOTIFY_WEBHOOK_QUEUE_DIR) and tries it again, so
 * an event is not lost while ElasticMQ is briefly away. It listens on 127.0.0.1 only and wants
 * MinIO's bearer token.
 */
export const MINIO_INGEST_TARGET = 'INGEST';

/** MinIO's settings for a webhook target `id` that POSTs to `url` with `token`, keeping undelivered events in `queueDir`. */
export function minioWebhookEnv(id: string, url: string, token: string, queueDir: string): Record<string, string> {
  return {
    [`MINIO_NOTIFY_WEBHOOK_ENABLE_${id}`]: 'on',
    [`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${id}`]: url,
    [`MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_${id}`]: token,
    [`MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_${id}`]: queueDir,
  };
}

/**
 * The bucket's ObjectCreated events under `prefix` to the webhook target `id`: the same S3 API call
 * as on AWS (PutBucketNotificationConfiguration), with MinIO's ARN for the target.
 */
export async function notifyCreatedObjects(client: S3Client, bucket: string, id: string, prefix: string, region: string): Promise<string> {
  const attempt = async (arn: string) =>
    client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: 'ingest-uploads',
              QueueArn: arn,
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
            },
          ],
        },
      }),
    );
  // MinIO names a target arn:minio:sqs:<its region>:<id>:webhook; the region part is empty when none is set.
  const withRegion = `arn:minio:sqs:${region}:${id}:webhook`;
  try {
    await attempt(withRegion);
    return withRegion;
  } catch (error) {
    const bare = `arn:minio:sqs::${id}:webhook`;
    await attempt(bare).catch(() => {
      throw error;
    });
    return bare;
  }
}

export interface RelayCounts {
  /** POSTs with events. */
  received: number;
  /** Sent to the queue. */
  sent: number;
  /** Refused (bad token, not an event) or not sent (the queue failed). */
  refused: number;
}

const MAX_EVENT_BYTES = 1024 * 1024;

export class MinioWebhookRelay {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly counts: RelayCounts,
  ) {}

  static async start(options: { port: number; token: string; queue: Queue; queueName: string; log: Logger }): Promise<MinioWebhookRelay> {
    const { token, queue, queueName, log } = options;
    const counts: RelayCounts = { received: 0, sent: 0, refused: 0 };
    const server = createServer((req, res) => {
      const answer = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
      };
      // MinIO checks that the target is up with a HEAD (or a bare TCP connection).
      if (req.method !== 'POST') return answer(200, 'ok');
      if (req.headers.authorization !== `Bearer ${token}`) {
        counts.refused += 1;
        log.warn('webhook relay: a POST without the token refused');
        return answer(401, 'expected the bearer token MinIO was given');
      }
      void readBody(req).then(
        async (body) => {
          counts.received += 1;
          if (!isEventMessage(body)) {
            counts.refused += 1;
            log.warn('webhook relay: a POST that is not an S3 event message refused', { bytes: body.length });
            return answer(400, 'expected an S3 event message with Records');
          }
          try {
            await queue.send(queueName, body);
            counts.sent += 1;
            answer(200, 'queued');
          } catch (error) {
            counts.refused += 1;
            log.warn('webhook relay: could not send the event to its queue; MinIO will try it again', { queue: queueName, error });
            answer(503, 'the queue is unavailable; try again');
          }
        },
        (error: unknown) => answer(413, error instanceof Error ? error.message : String(error)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new MinioWebhookRelay(server, `http://127.0.0.1:${port}/minio-events`, counts);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_EVENT_BYTES) {
        reject(new Error(`expected an event of at most ${MAX_EVENT_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isEventMessage(body: string): boolean {
  try {
    const json = JSON.parse(body) as { Records?: unknown };
    return Array.isArray(json.Records);
  } catch {
    return false;
  }
}
