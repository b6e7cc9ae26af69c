import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { binDir, ensureInstalled } from './ensure-installed';
import { freePort, LOOPBACK, launch, makeRunDir } from './local-server';
import { DEFAULT_S3_ACCESS_KEY_ID, DEFAULT_S3_SECRET_ACCESS_KEY, LocalS3Server, type S3ServerOptions } from './minio';

/**
 * Starts the Versity S3 gateway with its posix backend (`versitygw posix <dataDir>`: each bucket is
 * a folder, each object a file, metadata in extended attributes) on 127.0.0.1, and resolves once a
 * signed ListBuckets succeeds. Builds `.bin/versitygw` first if it is missing.
 */
export async function startVersity(options: S3ServerOptions = {}): Promise<LocalS3Server> {
  const accessKeyId = options.accessKeyId ?? DEFAULT_S3_ACCESS_KEY_ID;
  const secretAccessKey = options.secretAccessKey ?? DEFAULT_S3_SECRET_ACCESS_KEY;
  await ensureInstalled('versitygw', options.log);
  const port = options.port ?? (await freePort());
  const runDir = await makeRunDir('versitygw');
  const dataDir = options.dataDir ?? join(runDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const endpoint = `http://${LOOPBACK}:${port}`;
  const probeClient = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  const server = new LocalS3Server(
    {
      spec: {
        name: 'versitygw',
        command: join(binDir, 'versitygw'),
        args: [
          '--port',
          `${LOOPBACK}:${port}`,
          '--access',
          accessKeyId,
          '--secret',
          secretAccessKey,
          '--region',
          'us-east-1',
          'posix',
          dataDir,
        ],
        probe: async (signal) => {
          await probeClient.send(new ListBucketsCommand({}), { abortSignal: signal });
          return true;
        },
      },
      port,
      endpoint,
      dataDir,
      runDir,
      ownedPaths: [runDir],
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    },
    accessKeyId,
    secretAccessKey,
  );
  return launch(server);
}
