import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type LocalIssuer, startLocalIssuer } from '../../scripts/auth/localIssuer';
import { type Authenticator, createAuthenticator } from '../../src/auth/authenticator';
import { loadConfig } from '../../src/config';

/**
 * AUTH=jwt against a real OpenID Connect provider (oidc-provider on 127.0.0.1, scripts/auth/localIssuer.ts):
 * two users sign in through the authorization code flow with PKCE, and the authenticator takes the
 * owner from the access tokens it issues; tokens it did not issue, or not for this API, or no longer
 * valid, are 401s that say why.
 */
describe('bearer tokens from a real OIDC issuer', () => {
  let issuer: LocalIssuer;
  let auth: Authenticator;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    issuer = await startLocalIssuer();
    const config = loadConfig({ AUTH: 'jwt', JWT_ISSUER: issuer.url, JWT_AUDIENCE: issuer.audience });
    auth = createAuthenticator(config.auth, { readSecret: async () => '' });
  });
  after(async () => issuer?.stop());

  it("signs two users in (code + PKCE) and takes each one's sub as the owner", async () => {
    const alice = await issuer.signIn('alice');
    const bob = await issuer.signIn('bob');
    // What the issuer issues: an RS256 JWT access token with a kid, for the API.
    assert.deepEqual({ ...decodeProtectedHeader(alice.accessToken), kid: 'k' }, { alg: 'RS256', typ: 'at+jwt', kid: 'k' });
    const claims = decodeJwt(alice.accessToken);
    assert.deepEqual([claims.iss, claims.aud, claims.sub], [issuer.url, issuer.audience, 'alice']);
    assert.deepEqual(await auth.authenticate(bearer(alice.accessToken)), { owner: 'alice' });
    assert.deepEqual(await auth.authenticate(bearer(bob.accessToken)), { owner: 'bob' });
    await assert.rejects(issuer.signIn('alice', { password: 'not-hers' }), /wrong password/);
  });

  it('refuses what the issuer did not issue for this API, now, with its own key: 401 with the reason', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string, string]> = [
      [
        'an expired token',
        await issuer.forge({ iat: now - 7200, exp: now - 3600 }),
        `the bearer token expired at ${new Date((now - 3600) * 1000).toISOString()}; sign in again`,
      ],
      [
        'a token for another audience',
        await issuer.forge({ aud: 'another-api' }),
        'the bearer token is for "another-api", expected "image-pipeline"',
      ],
      [
        'a token signed by another key',
        await issuer.forge({}, { key: 'other' }),
        "the bearer token's signature does not verify with the issuer's key",
      ],
      [
        'a token of another issuer',
        await issuer.forge({ iss: 'https://elsewhere.example' }),
        `the bearer token was issued by "https://elsewhere.example", expected "${issuer.url}"`,
      ],
      ['a token without exp', await issuer.forge({ exp: undefined }), "the bearer token's exp claim is not accepted: missing"],
      ['a token not valid yet', await issuer.forge({ nbf: now + 3600 }), 'the bearer token is not valid yet (nbf)'],
      [
        'an unsigned token',
        unsigned({ iss: issuer.url, aud: issuer.audience, sub: 'alice', exp: now + 60 }),
        'expected a token signed with RS256 or ES256',
      ],
      ['not a JWT', 'abc.def', 'expected a signed JWT as the bearer token: Invalid Compact JWS'],
    ];
    for (const [what, token, message] of cases) {
      await assert.rejects(auth.authenticate(bearer(token)), (error: Error & { statusCode?: number; headers?: Record<string, string> }) => {
        assert.equal(error.statusCode, 401, what);
        assert.equal(error.message, message, what);
        assert.match(
          error.headers?.['www-authenticate'] ?? '',
          /^Bearer realm="image-pipeline", error="invalid_token", error_description="/,
          what,
        );
        return true;
      });
    }
  });

  it("takes ES256 as well as RS256, and a token without aud by its client_id (Cognito's access tokens)", async () => {
    assert.deepEqual(await auth.authenticate(bearer(await issuer.forge({ sub: 'bob' }, { key: 'issuer-es256' }))), { owner: 'bob' });
    assert.deepEqual(await auth.authenticate(bearer(await issuer.forge({ aud: undefined, client_id: issuer.audience }))), {
      owner: 'alice',
    });
    await assert.rejects(auth.authenticate(bearer(await issuer.forge({ aud: undefined, client_id: 'another-app' }))), {
      message: 'the bearer token is for the client "another-app", expected "image-pipeline"',
    });
  });

  it("finds the keys at JWT_JWKS_URL when it is given, else at the discovery document's jwks_uri; keys it cannot read are a 503", async () => {
    const discovery = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
    const token = (await issuer.signIn('bob')).accessToken;
    const given = createAuthenticator(
      loadConfig({ AUTH: 'jwt', JWT_ISSUER: issuer.url, JWT_AUDIENCE: issuer.audience, JWT_JWKS_URL: discovery.jwks_uri }).auth,
      { readSecret: async () => '' },
    );
    assert.deepEqual(await given.authenticate(bearer(token)), { owner: 'bob' });
    const wrong = createAuthenticator(
      loadConfig({ AUTH: 'jwt', JWT_ISSUER: issuer.url, JWT_AUDIENCE: issuer.audience, JWT_JWKS_URL: `${issuer.url}/no-keys-here` }).auth,
      { readSecret: async () => '' },
    );
    await assert.rejects(wrong.authenticate(bearer(token)), { statusCode: 503, code: 'auth_unavailable' });
    // An issuer whose discovery document names another issuer is not trusted for its keys.
    const impostor = createAuthenticator(loadConfig({ AUTH: 'jwt', JWT_ISSUER: `${issuer.url}/`, JWT_AUDIENCE: issuer.audience }).auth, {
      readSecret: async () => '',
    });
    await assert.rejects(impostor.authenticate(bearer(token)), {
      statusCode: 503,
      message: `the discovery document at ${issuer.url}/.well-known/openid-configuration names the issuer "${issuer.url}", expected "${issuer.url}/" (JWT_ISSUER must be the tokens' iss exactly)`,
    });
  });

  it("gives the gallery the issuer's authorization and token endpoints and its client, from discovery", async () => {
    const config = loadConfig(issuer.env);
    const page = await createAuthenticator(config.auth, { readSecret: async () => '' }).pageSignIn();
    assert.deepEqual(page, {
      mode: 'jwt',
      clientId: issuer.galleryClientId,
      authorizationEndpoint: `${issuer.url}/auth`,
      tokenEndpoint: `${issuer.url}/token`,
    });
  });

  it('reads the discovery document once for the keys and the gallery alike', async () => {
    const config = loadConfig(issuer.env);
    const token = (await issuer.signIn('alice')).accessToken;
    const realFetch = globalThis.fetch;
    let discoveryReads = 0;
    globalThis.fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/.well-known/openid-configuration')) discoveryReads += 1;
      return realFetch(input, init);
    };
    try {
      const fresh = createAuthenticator(config.auth, { readSecret: async () => '' });
      assert.deepEqual(await fresh.authenticate(bearer(token)), { owner: 'alice' });
      assert.equal((await fresh.pageSignIn()).mode, 'jwt');
      assert.deepEqual(await fresh.authenticate(bearer(token)), { owner: 'alice' });
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(discoveryReads, 1);
  });
});

function unsigned(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.`;
}
