import { S3Client } from '@aws-sdk/client-s3';
import type { LocalS3Server } from '../../scripts/servers/local-servers';
import { S3ObjectStore } from '../../src/ports/S3ObjectStore';

/**
 * The S3 adapter on one of the tests' local S3 servers (MinIO, Versity): path-style, the server's
 * own credentials, checksums only where required (the servers differ on the optional ones), and a
 * listing page of 3 keys unless told otherwise, so that paging is exercised on a handful of objects.
 */
export function s3StoreOn(
  server: LocalS3Server,
  bucket: string,
  extra: { listPageSize?: number; maxAttempts?: number } = {},
): S3ObjectStore {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(extra.maxAttempts !== undefined ? { maxAttempts: extra.maxAttempts } : {}),
  });
  return new S3ObjectStore({ bucket, region: server.region, client, listPageSize: extra.listPageSize ?? 3 });
}
