import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { binDir, ensureInstalled } from './ensure-installed';
import { LocalServerError } from './errors';
import { freePort, httpOk, LOOPBACK, LocalServer, type LocalServerInit, launch, makeRunDir } from './local-server';

export interface S3ServerOptions {
  /** Port on 127.0.0.1; a free one by default. */
  port?: number;
  /** Existing folder to serve (to restart on the same data); a temp folder by default, removed on stop. */
  dataDir?: string;
  /** MinIO needs at least 3 characters. */
  accessKeyId?: string;
  /** MinIO needs at least 8 characters. */
  secretAccessKey?: string;
  /** Default 60 s (a cold start here takes a second or two). */
  readyTimeoutMs?: number;
  /** Where install progress goes; stderr by default. */
  log?: (line: string) => void;
}

export interface MinioOptions extends S3ServerOptions {
  /** Port for MinIO's web console; the console is off unless this is given. */
  consolePort?: number;
  /** More MINIO_* settings, e.g. a notification target (scripts/dev/minioWebhookRelay.ts: minioWebhookEnv). */
  env?: Record<string, string>;
}

/** A local S3-compatible server: use it with forcePathStyle: true and any region (us-east-1). */
export class LocalS3Server extends LocalServer {
  readonly region = 'us-east-1';
  constructor(
    init: LocalServerInit,
    readonly accessKeyId: string,
    readonly secretAccessKey: string,
  ) {
    super(init);
  }
}

export const DEFAULT_S3_ACCESS_KEY_ID = 'localadmin';
export const DEFAULT_S3_SECRET_ACCESS_KEY = 'localadmin-secret';

/**
 * Starts MinIO (`minio server <dataDir>`) on 127.0.0.1 and resolves once `/minio/health/live` and
 * `/minio/health/ready` answer 200. Builds `.bin/minio` first if it is missing.
 */
export async function startMinio(options: MinioOptions = {}): Promise<LocalS3Server> {
  const accessKeyId = options.accessKeyId ?? DEFAULT_S3_ACCESS_KEY_ID;
  const secretAccessKey = options.secretAccessKey ?? DEFAULT_S3_SECRET_ACCESS_KEY;
  if (accessKeyId.length < 3) {
    throw new LocalServerError(`MinIO access key must have at least 3 characters, got ${accessKeyId.length}`);
  }
  if (secretAccessKey.length < 8) {
    throw new LocalServerError(`MinIO secret key must have at least 8 characters, got ${secretAccessKey.length}`);
  }
  await ensureInstalled('minio', options.log);
  const port = options.port ?? (await freePort());
  const runDir = await makeRunDir('minio');
  const dataDir = options.dataDir ?? join(runDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const endpoint = `http://${LOOPBACK}:${port}`;
  const args = ['server', dataDir, '--address', `${LOOPBACK}:${port}`, '--certs-dir', join(runDir, 'certs'), '--quiet'];
  if (options.consolePort !== undefined) args.push('--console-address', `${LOOPBACK}:${options.consolePort}`);
  const server = new LocalS3Server(
    {
      spec: {
        name: 'minio',
        command: join(binDir, 'minio'),
        args,
        env: {
          MINIO_ROOT_USER: accessKeyId,
          MINIO_ROOT_PASSWORD: secretAccessKey,
          MINIO_BROWSER: options.consolePort === undefined ? 'off' : 'on',
          MINIO_UPDATE: 'off',
          MINIO_REGION: 'us-east-1',
          ...options.env,
        },
        probe: async (signal) =>
          (await httpOk(`${endpoint}/minio/health/live`, signal)) && (await httpOk(`${endpoint}/minio/health/ready`, signal)),
      },
      port,
      endpoint,
      dataDir,
      runDir,
      ownedPaths: [runDir], // holds dataDir unless the caller chose one; a caller's dataDir is never removed
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    },
    accessKeyId,
    secretAccessKey,
  );
  return launch(server);
}
