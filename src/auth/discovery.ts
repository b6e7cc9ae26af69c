import { AuthUnavailableError } from './errors';

/**
 * The issuer's OpenID Connect discovery document (`<issuer>/.well-known/openid-configuration`), of
 * which the API needs the `jwks_uri` (when JWT_JWKS_URL does not name the keys) and the gallery the
 * endpoints of the authorization code flow. It must name the configured issuer exactly, as OIDC
 * Discovery requires: a document that names another is not this issuer's.
 */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export async function fetchIssuerMetadata(issuer: string, timeoutMs = 5000): Promise<IssuerMetadata> {
  const url = discoveryUrl(issuer);
  let json: unknown;
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    json = await res.json();
  } catch (cause) {
    throw new AuthUnavailableError(`the issuer's discovery document (${url}) could not be read: ${(cause as Error).message}; try again`, {
      cause,
    });
  }
  const doc = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (doc.issuer !== issuer) {
    throw new AuthUnavailableError(
      `the discovery document at ${url} names the issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(issuer)} (JWT_ISSUER must be the tokens' iss exactly)`,
    );
  }
  if (!isHttpUrl(doc.jwks_uri)) throw new AuthUnavailableError(`the discovery document at ${url} has no jwks_uri`);
  return {
    issuer,
    jwks_uri: doc.jwks_uri,
    ...(isHttpUrl(doc.authorization_endpoint) ? { authorization_endpoint: doc.authorization_endpoint } : {}),
    ...(isHttpUrl(doc.token_endpoint) ? { token_endpoint: doc.token_endpoint } : {}),
  };
}

/**
 * The issuer's discovery document, read once for the verifier (its jwks_uri) and the gallery's
 * sign-in (its endpoints) alike; a failed read is not kept: the next caller reads it again.
 */
export function issuerMetadataOnce(issuer: string): () => Promise<IssuerMetadata> {
  let kept: Promise<IssuerMetadata> | undefined;
  return () => {
    if (kept === undefined) {
      const reading = fetchIssuerMetadata(issuer);
      kept = reading;
      reading.catch(() => {
        if (kept === reading) kept = undefined;
      });
    }
    return kept;
  };
}
