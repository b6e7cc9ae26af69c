import type { ApiKeysSource, AuthConfig, AuthMode, JwtConfig } from '../config';
import { LOCAL_OWNER } from '../domain/owners';
import { type ApiKeyEntry, ownerOfApiKey, parseApiKeys } from './apiKeys';
import type { Caller } from './caller';
import { type IssuerMetadata, issuerMetadataOnce } from './discovery';
import { AuthUnavailableError, InvalidApiKeyError, InvalidTokenError } from './errors';
import { createJwtVerifier } from './jwtVerifier';

/**
 * Who is calling, from a request's headers, as AUTH says (docs/security.md, "Sign-in and owners"):
 * - none: everyone is LOCAL_OWNER;
 * - api-key: the owner named by the hashed key matching `x-api-key` (src/auth/apiKeys.ts);
 * - jwt: the `sub` of the bearer token in `Authorization` (src/auth/jwtVerifier.ts).
 * A caller it cannot tell apart is a 401 that says what was expected; an issuer or key store that
 * cannot be read is a 503.
 */
export interface Authenticator {
  mode: AuthMode;
  authenticate(headers: Readonly<Record<string, string | undefined>>): Promise<Caller>;
  /** Resolves once what every request needs is read (the API keys), or throws why it cannot be: a server awaits it before it listens. */
  ready(): Promise<void>;
  /** What the gallery needs to sign people in (src/web/gallerySignIn.ts). */
  pageSignIn(): Promise<PageSignIn>;
}

/**
 * The gallery's sign-in settings: the mode, and for jwt the issuer's authorization and token
 * endpoints (from its discovery document, read by the server: the page need not reach it first)
 * and the gallery's client id; `problem` when the issuer could not be read (the page says so).
 */
export interface PageSignIn {
  mode: AuthMode;
  clientId?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  problem?: string;
}

export interface AuthenticatorDeps {
  /** Reads the API keys' stored form (a file, an SSM parameter, a Secrets Manager secret): src/ports/readSecret.ts. */
  readSecret(source: ApiKeysSource): Promise<string>;
}

/** The token of `Authorization: Bearer <token>` (the scheme in any case), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^\s*bearer\s+([^\s]+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

function apiKeyAuthenticator(source: ApiKeysSource, deps: AuthenticatorDeps): Authenticator {
  // Read once, when the app is made (a Lambda function's init): the first request waits for it. A
  // failed read is tried again by the next request.
  let entries: Promise<ApiKeyEntry[]> | undefined;
  const load = () => {
    if (entries === undefined) {
      const loading = deps.readSecret(source).then((text) => parseApiKeys(text, `the API keys (${source.kind})`));
      entries = loading;
      loading.catch(() => {
        if (entries === loading) entries = undefined;
      });
    }
    return entries;
  };
  void load().catch(() => undefined);
  return {
    mode: 'api-key',
    pageSignIn: async () => ({ mode: 'api-key' }),
    ready: async () => {
      await load();
    },
    async authenticate(headers) {
      const presented = headers['x-api-key'];
      if (presented === undefined || presented === '') throw new InvalidApiKeyError('expected an API key in the x-api-key header');
      let list: ApiKeyEntry[];
      try {
        list = await load();
      } catch (error) {
        throw new AuthUnavailableError(`the API keys could not be read: ${(error as Error).message}`, { cause: error });
      }
      const owner = ownerOfApiKey(list, presented);
      if (owner === undefined) throw new InvalidApiKeyError('expected a valid API key in the x-api-key header');
      return { owner };
    },
  };
}

/** The issuer's endpoints, read once (again after a failure, at most every 30 s). */
function jwtPageSignIn(jwt: JwtConfig, issuerMetadata: () => Promise<IssuerMetadata>): () => Promise<PageSignIn> {
  let known: PageSignIn | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let problem = '';
  return async () => {
    if (known) return known;
    if (Date.now() - failedAt < 30_000) return { mode: 'jwt', clientId: jwt.clientId, problem };
    try {
      const metadata = await issuerMetadata();
      if (!metadata.authorization_endpoint || !metadata.token_endpoint) {
        throw new Error(`the issuer ${jwt.issuer} publishes no authorization or token endpoint`);
      }
      known = {
        mode: 'jwt',
        clientId: jwt.clientId,
        authorizationEndpoint: metadata.authorization_endpoint,
        tokenEndpoint: metadata.token_endpoint,
      };
      return known;
    } catch (error) {
      failedAt = Date.now();
      problem = `Sign-in is not available now: ${(error as Error).message}`;
      return { mode: 'jwt', clientId: jwt.clientId, problem };
    }
  };
}

export function createAuthenticator(config: AuthConfig, deps: AuthenticatorDeps): Authenticator {
  switch (config.mode) {
    case 'none':
      return {
        mode: 'none',
        authenticate: async () => ({ owner: LOCAL_OWNER }),
        ready: async () => undefined,
        pageSignIn: async () => ({ mode: 'none' }),
      };
    case 'api-key':
      return apiKeyAuthenticator(config.apiKeys!, deps);
    case 'jwt': {
      const metadata = issuerMetadataOnce(config.jwt!.issuer);
      const verifier = createJwtVerifier(config.jwt!, metadata);
      const pageSignIn = jwtPageSignIn(config.jwt!, metadata);
      return {
        mode: 'jwt',
        pageSignIn,
        // The issuer's keys are fetched by the first request (and again after a failure): an issuer
        // that is down at start must not keep the server from starting.
        ready: async () => undefined,
        async authenticate(headers) {
          const header = headers.authorization;
          const token = bearerToken(header);
          if (token === undefined) {
            throw new InvalidTokenError(
              header === undefined || header === ''
                ? 'expected a bearer token in the Authorization header (Authorization: Bearer <token>)'
                : 'expected the Authorization header to be "Bearer <token>"',
              { sent: header !== undefined && header !== '' },
            );
          }
          return verifier.verify(token);
        },
      };
    }
  }
}
