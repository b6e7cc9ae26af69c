/**
 * A real OpenID Connect provider on 127.0.0.1 (oidc-provider, the certified one on npm) for trying
 * AUTH=jwt on this machine (`npm run issuer`) and for the tests, which start one of their own:
 *
 *   const issuer = await startLocalIssuer({ port: 0 });      // users alice and bob
 *   AUTH=jwt JWT_ISSUER=${issuer.url} JWT_AUDIENCE=${issuer.audience} JWT_CLIENT_ID=${issuer.galleryClientId}
 *   const { accessToken } = await issuer.signIn('alice');    // the authorization code flow with PKCE, over HTTP
 *   await issuer.stop();
 *
 * What it issues is what Cognito or any OIDC issuer issues to the gallery: authorization code with
 * PKCE (S256) for a public client, and JWT access tokens (RS256, with `kid`) whose `aud` is the API
 * (`audience`, a resource indicator every token is for) and whose `sub` is the user. Its own
 * sign-in page checks the user's password (two users by default); consent is granted at once (the
 * gallery is a first-party client). Nothing is stored: keys, sessions and grants live in memory.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export interface IssuerUser {
  id: string;
  password: string;
}

export interface LocalIssuerOptions {
  /** On 127.0.0.1; 0 (the default) picks a free port. */
  port?: number;
  /** Who may sign in; default alice and bob with random passwords (see `users`). */
  users?: IssuerUser[];
  /** The API every access token is for (its `aud`, JWT_AUDIENCE). Default `image-pipeline`. */
  audience?: string;
  /** Where the gallery's client may be sent back to after sign-in (the page's own URL). */
  galleryRedirectUris?: string[];
  /** Life of an access token. Default 3600 s. */
  accessTokenTtlSeconds?: number;
}

export interface Tokens {
  accessToken: string;
  idToken?: string;
  expiresIn: number;
}

/**
 * `issuer`: its RS256 key (what it signs access tokens with); `issuer-es256`: the P-256 key it also
 * publishes; `other`: a key it does not publish, under the RS256 key's `kid`.
 */
export type ForgeKey = 'issuer' | 'issuer-es256' | 'other';

export interface LocalIssuer {
  /** The issuer (JWT_ISSUER): the tokens' `iss` and where discovery starts. */
  url: string;
  audience: string;
  /** The gallery's public client (JWT_CLIENT_ID). */
  galleryClientId: string;
  /** A second public client, whose tokens name the same audience (as any client of the issuer's may). */
  otherClientId: string;
  users: IssuerUser[];
  /** The settings of a pipeline that takes this issuer's tokens (AUTH=jwt and its JWT_* variables). */
  env: Record<'AUTH' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_CLIENT_ID', string>;
  /** The gallery client's redirect URIs, set once the page's URL is known (before anyone signs in). */
  setGalleryRedirectUris(uris: string[]): Promise<void>;
  /** Signs a user in through the authorization code flow with PKCE, over HTTP, as a browser would. */
  signIn(user: string, options?: { password?: string; clientId?: string }): Promise<Tokens>;
  /**
   * A token this issuer never issued, for the refusal tests: its claims over a valid token's
   * (iss, aud, sub, exp of an hour, kid), signed with the issuer's own key or with another one.
   */
  forge(claims: Record<string, unknown>, options?: { key?: ForgeKey; header?: Record<string, unknown> }): Promise<string>;
  stop(): Promise<void>;
}

/** A random password that is easy to type: 4 groups of 4 letters. */
function password(): string {
  const letters = 'abcdefghjkmnpqrstuvwxyz';
  const bytes = randomBytes(16);
  return Array.from({ length: 4 }, (_, g) =>
    Array.from({ length: 4 }, (_, i) => letters[bytes[g * 4 + i]! % letters.length]).join(''),
  ).join('-');
}

function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid: string, problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<main>
<h1>Sign in to the image pipeline</h1>
${problem ? `<p role="alert" id="problem">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="username">User</label> <input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Sign in</button>
</form>
</main>
</body></html>`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startLocalIssuer(options: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const users = options.users ?? [
    { id: 'alice', password: password() },
    { id: 'bob', password: password() },
  ];
  const audience = options.audience ?? 'image-pipeline';
  /** The API as a resource indicator (RFC 8707 wants an absolute URI); its tokens' `aud` is `audience`. */
  const resource = 'urn:image-pipeline:api';
  const galleryClientId = 'image-pipeline-gallery';
  const otherClientId = 'another-app';
  /** signIn() uses this client and redirect: the code is read from the redirect, never followed. */
  const cliClientId = 'image-pipeline-tests';
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey: JWK = { ...(await exportJWK(privateKey)), kid: `local-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
  const ecKey = (await generateKeyPair('ES256', { extractable: true })).privateKey;
  const ecJwk: JWK = { ...(await exportJWK(ecKey)), kid: `local-ec-${randomBytes(6).toString('hex')}`, alg: 'ES256', use: 'sig' };
  const otherKey = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  const cookieKeys = [randomBytes(32).toString('hex')];

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cliRedirect = `${url}/signed-in`;

  const configuration = (galleryRedirects: string[]): Configuration => ({
    clients: [
      {
        client_id: galleryClientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // A placeholder until the page's URL is known: nobody can be sent back there.
        redirect_uris: galleryRedirects.length ? galleryRedirects : [`${url}/no-gallery-yet`],
      },
      { client_id: otherClientId, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [cliRedirect] },
      { client_id: cliClientId, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [cliRedirect] },
    ],
    jwks: { keys: [signingKey as never, ecJwk as never] },
    cookies: { keys: cookieKeys },
    findAccount: async (_ctx, id) =>
      users.some((u) => u.id === id) ? { accountId: id, claims: async () => ({ sub: id, preferred_username: id }) } : undefined,
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Every token is for the API, whether or not the client names it (Cognito's names none).
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
          return {
            scope: 'photos',
            audience,
            accessTokenTTL: options.accessTokenTtlSeconds ?? 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // First-party clients: the grant (openid, and the API's scope) is given without a consent page.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { provider: p, client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = session.grantIdFor(client.clientId);
      if (existing) return p.Grant.find(existing);
      const grant = new p.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid');
      grant.addResourceScope(resource, 'photos');
      await grant.save();
      session.grantIdFor(client.clientId, grant.jti);
      return grant;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  });

  let provider = new Provider(url, configuration(options.galleryRedirectUris ?? []));
  const quietProvider = (p: Provider) => {
    // Its warnings about development-only defaults go to stderr; errors answer the client anyway.
    p.on('server_error', () => undefined);
    return p;
  };
  quietProvider(provider);

  server.on('request', (req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', url).pathname;
      const interaction = /^\/interaction\/([\w-]+)(\/login)?$/.exec(path);
      if (path === '/signed-in') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('signed in');
        return;
      }
      if (!interaction) {
        provider.callback()(req, res);
        return;
      }
      const uid = interaction[1]!;
      if (req.method === 'GET' && !interaction[2]) {
        await provider.interactionDetails(req, res);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginPage(uid));
        return;
      }
      if (req.method === 'POST' && interaction[2]) {
        const form = await readForm(req);
        const user = users.find((u) => u.id === form.get('username'));
        if (!user || !same(user.password, form.get('password') ?? '')) {
          res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid, 'Unknown user or wrong password.'));
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
        return;
      }
      res.writeHead(405).end();
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`sign-in failed: ${(error as Error).message}`);
    });
  });

  const signIn = async (userId: string, opts: { password?: string; clientId?: string } = {}): Promise<Tokens> => {
    const user = users.find((u) => u.id === userId);
    const pass = opts.password ?? user?.password ?? '';
    const clientId = opts.clientId ?? cliClientId;
    const cookies = new Map<string, string>();
    const send = async (target: string, init: RequestInit = {}) => {
      const res = await fetch(new URL(target, url), {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
      }
      return res;
    };
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(8).toString('hex');
    const authorize = new URL('/auth', url);
    authorize.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: cliRedirect,
      response_type: 'code',
      scope: 'openid',
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    let res = await send(authorize.toString());
    let code: string | undefined;
    for (let hop = 0; hop < 10 && code === undefined; hop += 1) {
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        await res.body?.cancel();
        if (next.toString().startsWith(cliRedirect)) {
          if (next.searchParams.get('state') !== state) throw new Error(`sign-in: the state came back changed: ${next}`);
          code = next.searchParams.get('code') ?? undefined;
          if (!code) throw new Error(`sign-in refused: ${next.searchParams.get('error')}: ${next.searchParams.get('error_description')}`);
          break;
        }
        res = await send(next.toString());
        continue;
      }
      const body = await res.text();
      const login = /action="(\/interaction\/[\w-]+\/login)"/.exec(body);
      if (res.status !== 200 || !login) throw new Error(`sign-in: unexpected answer ${res.status}: ${body.slice(0, 200)}`);
      res = await send(login[1]!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: userId, password: pass }).toString(),
      });
      if (res.status === 401) throw new Error(`sign-in refused for ${userId}: wrong password`);
    }
    if (!code) throw new Error('sign-in: no authorization code after 10 redirects');
    const token = await fetch(new URL('/token', url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: cliRedirect,
        client_id: clientId,
        code_verifier: verifier,
      }),
    });
    const json = (await token.json()) as {
      access_token?: string;
      id_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!token.ok || !json.access_token) throw new Error(`token endpoint: ${json.error}: ${json.error_description}`);
    return { accessToken: json.access_token, ...(json.id_token ? { idToken: json.id_token } : {}), expiresIn: json.expires_in ?? 0 };
  };

  return {
    url,
    audience,
    galleryClientId,
    otherClientId,
    users,
    env: { AUTH: 'jwt', JWT_ISSUER: url, JWT_AUDIENCE: audience, JWT_CLIENT_ID: galleryClientId },
    async setGalleryRedirectUris(uris) {
      provider = quietProvider(new Provider(url, configuration(uris)));
    },
    signIn,
    async forge(claims, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const [key, alg, kid] =
        opts.key === 'other'
          ? [otherKey, 'RS256', signingKey.kid!]
          : opts.key === 'issuer-es256'
            ? [ecKey, 'ES256', ecJwk.kid!]
            : [privateKey, 'RS256', signingKey.kid!];
      return new SignJWT({ iss: url, aud: audience, sub: users[0]!.id, iat: now, exp: now + 3600, client_id: galleryClientId, ...claims })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt', ...opts.header })
        .sign(key);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
