/**
 * Real S3- and SQS-compatible servers on 127.0.0.1 for development and integration tests:
 * MinIO and the Versity S3 gateway (S3), ElasticMQ (SQS). Each start installs the server once
 * (scripts/servers/install.sh, cached in .bin/ and .cache/), spawns it in its own process group with
 * a temp data dir, and resolves when it answers. `stop()` kills the group and removes the temp dirs;
 * `stop({ keepData: true })` then `start()` (or `restart()`) brings it back on the same port and data.
 *
 *   const s3 = await startMinio();
 *   new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
 *                  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
 *   await s3.stop();
 */

export { type ElasticMqOptions, elasticMqConfig, LocalSqsServer, startElasticMq } from './elasticmq';
export { ensureInstalled, isInstalled, type ServerName } from './ensure-installed';
export { LocalServerError, ServerInstallError, ServerStartError } from './errors';
export { acceptsConnections, assertPortFree, freePort, LOOPBACK, LocalServer, type StopOptions } from './local-server';
export { LocalS3Server, type MinioOptions, type S3ServerOptions, startMinio } from './minio';
export { startVersity } from './versity';
