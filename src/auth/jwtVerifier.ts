import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { JwtConfig } from '../config';
import { isOwner, OWNER_EXPECTED } from '../domain/owners';
import type { Caller } from './caller';
import type { IssuerMetadata } from './discovery';
import { AuthUnavailableError, InvalidTokenError } from './errors';

/**
 * Bearer tokens (AUTH=jwt), checked with jose: signed with RS256 or ES256 by a key the issuer
 * publishes (its JWKS, fetched once and kept; an unknown `kid` fetches it again, at most every 30 s,
 * so a rotated key is picked up), `iss` exactly JWT_ISSUER, `exp` present and not past, `nbf` not
 * ahead, and the audience JWT_AUDIENCE: in `aud`, or — for a token without `aud`, as Cognito's
 * access tokens are — in `client_id`, the rule API Gateway's JWT authorizers apply. The owner is
 * the token's `sub`.
 *
 * On AWS the HTTP API's JWT authorizer has checked the token before the function runs, and the
 * function checks it again here: the function cannot tell from an event whether an authorizer
 * ran (a route added without one, a direct invocation, serverless offline, which skips
 * authorizers), so it takes the owner only from a token it verified itself.
 */
export const ALGORITHMS = ['RS256', 'ES256'];
/** Clocks of the issuer and of this host may differ a little. */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface JwtVerifier {
  verify(token: string): Promise<Caller>;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** 401 with what was wrong, for the errors that are the token's; anything else is the issuer's (503). */
function explain(error: unknown, config: JwtConfig): never {
  if (error instanceof errors.JWTExpired) {
    const exp = error.payload.exp;
    throw new InvalidTokenError(
      `the bearer token expired${typeof exp === 'number' ? ` at ${new Date(exp * 1000).toISOString()}` : ''}; sign in again`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, payload } = error;
    const message =
      claim === 'iss'
        ? `the bearer token was issued by ${shown(payload.iss)}, expected ${shown(config.issuer)}`
        : claim === 'nbf'
          ? 'the bearer token is not valid yet (nbf)'
          : `the bearer token's ${claim} claim is not accepted: ${error.reason === 'missing' ? 'missing' : error.message}`;
    throw new InvalidTokenError(message, { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    throw new InvalidTokenError(`expected a token signed with ${ALGORITHMS.join(' or ')}`, { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    throw new InvalidTokenError("the bearer token's signature does not verify with the issuer's key", { cause: error });
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    throw new InvalidTokenError('the bearer token is signed with a key the issuer does not publish', { cause: error });
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    throw new InvalidTokenError(`expected a signed JWT as the bearer token: ${error.message}`, { cause: error });
  }
  throw new AuthUnavailableError(`the issuer's keys could not be read: ${(error as Error).message}; try again`, { cause: error });
}

function audienceProblem(payload: JWTPayload, audience: string): string | undefined {
  const aud = payload.aud;
  if (aud !== undefined) {
    const list = Array.isArray(aud) ? aud : [aud];
    return list.includes(audience) ? undefined : `the bearer token is for ${shown(aud)}, expected ${shown(audience)}`;
  }
  const clientId = (payload as { client_id?: unknown }).client_id;
  if (clientId === undefined) return `the bearer token names no audience (aud or client_id), expected ${shown(audience)}`;
  return clientId === audience ? undefined : `the bearer token is for the client ${shown(clientId)}, expected ${shown(audience)}`;
}

/** `metadata`: the issuer's discovery document (issuerMetadataOnce), read for its jwks_uri unless JWT_JWKS_URL names the keys. */
export function createJwtVerifier(config: JwtConfig, metadata: () => Promise<IssuerMetadata>): JwtVerifier {
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keySet = () => {
    if (keys === undefined) {
      const loading = (async () => {
        const url = config.jwksUrl ?? (await metadata()).jwks_uri;
        return createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      })();
      keys = loading;
      // A failed discovery is tried again by the next request, not remembered.
      loading.catch(() => {
        if (keys === loading) keys = undefined;
      });
    }
    return keys;
  };
  return {
    async verify(token) {
      const jwks = await keySet();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          algorithms: ALGORITHMS,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        }));
      } catch (error) {
        explain(error, config);
      }
      const problem = audienceProblem(payload, config.audience);
      if (problem) throw new InvalidTokenError(problem);
      if (!isOwner(payload.sub))
        throw new InvalidTokenError(`expected the bearer token's sub to be ${OWNER_EXPECTED}, got ${shown(payload.sub)}`);
      return { owner: payload.sub };
    },
  };
}
