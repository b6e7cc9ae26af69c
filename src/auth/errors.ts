import { HttpError } from '../http/HttpError';

/**
 * The auth module's errors. A caller that cannot be told apart from anyone (no credentials, a key
 * or token we do not accept) is a 401 that says what was expected; the issuer or the key store
 * failing us is a 503: the caller did nothing wrong and may try again.
 */
const REALM = 'image-pipeline';

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "'")}"`;
}

/** 401 for a bearer token (RFC 6750): the challenge names the error when credentials were sent. */
export class InvalidTokenError extends HttpError {
  constructor(message: string, options?: { cause?: unknown; sent?: boolean }) {
    const challenge =
      options?.sent === false
        ? `Bearer realm=${quoted(REALM)}`
        : `Bearer realm=${quoted(REALM)}, error="invalid_token", error_description=${quoted(message)}`;
    super(401, 'unauthorized', message, { cause: options?.cause, headers: { 'www-authenticate': challenge } });
    this.name = 'InvalidTokenError';
  }
}

/** 401 for an API key that is missing or not one of ours. */
export class InvalidApiKeyError extends HttpError {
  constructor(message: string) {
    super(401, 'unauthorized', message, { headers: { 'www-authenticate': `ApiKey realm=${quoted(REALM)}, header="x-api-key"` } });
    this.name = 'InvalidApiKeyError';
  }
}

/** 503: the issuer's discovery document or keys, or the API keys' store, could not be read now. */
export class AuthUnavailableError extends HttpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'auth_unavailable', message, { ...options, headers: { 'retry-after': '5' } });
    this.name = 'AuthUnavailableError';
  }
}
