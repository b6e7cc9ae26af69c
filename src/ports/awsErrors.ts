import { TransientError } from '../errors';

/**
 * Reading AWS SDK v3 errors (S3, SQS, and the S3/SQS-compatible servers) without importing SDK
 * internals: the error `name`, the HTTP status in `$metadata`, the SDK's own `$retryable` flag, and
 * Node's network error codes.
 */
interface AwsLikeError {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'KMSThrottlingException',
]);

const SERVER = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'NetworkingError']);

export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as AwsLikeError;
  return e.name ?? e.Code ?? e.code;
}

export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as AwsLikeError).$metadata?.httpStatusCode;
}

/** True for errors worth retrying later: network faults, 5xx, throttling, timeouts. */
export function isTransientAwsError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as AwsLikeError;
  const name = awsErrorName(error);
  if (name !== undefined && (THROTTLING.has(name) || SERVER.has(name) || NETWORK_NAMES.has(name))) return true;
  if (e.code !== undefined && NETWORK.has(e.code)) return true;
  if (e.$retryable) return true;
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return isTransientAwsError(e.cause, depth + 1);
}

/** Wraps transient errors in TransientError (with the original as cause); returns others as they are. */
export function classifyAwsError(what: string, error: unknown): unknown {
  if (isTransientAwsError(error)) {
    const name = awsErrorName(error) ?? 'Error';
    const status = httpStatusOf(error);
    const detail = error instanceof Error && error.message && error.message !== name ? `: ${error.message.slice(0, 200)}` : '';
    return new TransientError(`${what} failed: ${name}${status ? ` (HTTP ${status})` : ''}${detail}`, { cause: error });
  }
  return error;
}
