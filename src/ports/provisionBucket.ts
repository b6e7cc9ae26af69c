import { CreateBucketCommand, type CreateBucketCommandInput, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName, classifyAwsError, httpStatusOf } from './awsErrors';
import { type PortLogger, silentLogger } from './PortLogger';

/**
 * Creates the store's bucket unless it exists. For the dev scripts and the tests, on MinIO or the
 * Versity gateway: deployments create the bucket with the stack. The bucket stays private: no ACL
 * or policy is ever set here. Returns true when it created the bucket.
 */
export async function provisionBucket(
  store: { bucket: string; client: S3Client; region: string },
  options: { log?: PortLogger } = {},
): Promise<boolean> {
  const { bucket, client, region } = store;
  const log = options.log ?? silentLogger;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch (error) {
    const status = httpStatusOf(error);
    const name = awsErrorName(error);
    if (status !== 404 && name !== 'NotFound' && name !== 'NoSuchBucket') {
      throw classifyAwsError(`HeadBucket ${bucket}`, error);
    }
  }
  const input: CreateBucketCommandInput = { Bucket: bucket };
  // us-east-1 is the one region that must not be named as a location constraint.
  if (region !== 'us-east-1') input.CreateBucketConfiguration = { LocationConstraint: region as never };
  try {
    await client.send(new CreateBucketCommand(input));
    log.info('bucket created', { bucket });
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'BucketAlreadyOwnedByYou') return false;
    throw classifyAwsError(`CreateBucket ${bucket}`, error);
  }
}
