import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hashApiKey, newApiKey, ownerOfApiKey, parseApiKeys } from '../../src/auth/apiKeys';
import { bearerToken, createAuthenticator } from '../../src/auth/authenticator';
import { assertNoneModeIsPrivate, isLoopback } from '../../src/auth/noneModeRule';
import { loadConfig } from '../../src/config';
import { LOCAL_OWNER } from '../../src/domain/owners';
import { readApiKeys } from '../../src/ports/readSecret';

/** AUTH's settings, API keys, the AUTH=none rule and the authenticator without a network (JWTs: test/integration/oidc-issuer.test.ts). */
const readFileSecret = () => ({
  readSecret: (source: Parameters<typeof readApiKeys>[0]) =>
    readApiKeys(source, () => {
      throw new Error('no AWS here');
    }),
});

function keysFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'auth-test-')), 'api-keys.json');
  writeFileSync(file, text);
  return file;
}

describe('AUTH in the config', () => {
  it('is none by default, and each mode wants its settings, saying which', () => {
    assert.deepEqual(loadConfig({}).auth, { mode: 'none', nonePublic: false, onLambda: false });
    assert.throws(() => loadConfig({ AUTH: 'basic' }), { message: 'AUTH: expected one of none, api-key, jwt, got "basic"' });
    assert.throws(() => loadConfig({ AUTH: 'jwt' }), {
      message: "JWT_ISSUER: expected the issuer's URL (the tokens' iss) when AUTH is jwt, got nothing",
    });
    assert.throws(() => loadConfig({ AUTH: 'jwt', JWT_ISSUER: 'https://issuer.example' }), {
      message: 'JWT_AUDIENCE: expected the audience tokens must name when AUTH is jwt, got nothing',
    });
    assert.throws(() => loadConfig({ AUTH: 'jwt', JWT_ISSUER: 'issuer.example', JWT_AUDIENCE: 'api' }), {
      message: 'JWT_ISSUER: expected an http or https URL, got "issuer.example"',
    });
    assert.deepEqual(loadConfig({ AUTH: 'jwt', JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'api' }).auth.jwt, {
      issuer: 'https://issuer.example',
      audience: 'api',
      clientId: 'api',
    });
    assert.throws(() => loadConfig({ AUTH: 'api-key' }), {
      message:
        "AUTH: api-key expects API_KEYS_FILE (a file of the keys' hashes) or, on AWS, API_KEYS_PARAMETER (the SSM parameter or Secrets Manager secret holding them), got neither",
    });
    assert.deepEqual(loadConfig({ AUTH: 'api-key', API_KEYS_PARAMETER: '/image-pipeline/prod/api-keys' }).auth.apiKeys, {
      kind: 'parameter',
      reference: '/image-pipeline/prod/api-keys',
    });
    assert.deepEqual(loadConfig({ AUTH: 'api-key', API_KEYS_FILE: '/etc/keys.json' }).auth.apiKeys, {
      kind: 'file',
      path: '/etc/keys.json',
    });
  });

  it('refuses the old single API_KEY rather than ignore it (a server thought protected would be open)', () => {
    assert.throws(
      () => loadConfig({ API_KEY: 'secret' }),
      /^ConfigError: API_KEY: no longer read \(one key for everyone names no owner\); set AUTH=api-key and API_KEYS_FILE/,
    );
  });
});

describe('API keys', () => {
  it('are stored as SHA-256 only, each naming its owner, and found in constant time by whoever presents one', () => {
    const alice = newApiKey();
    const bob = newApiKey();
    assert.match(alice, /^ipk_[A-Za-z0-9_-]{43}$/);
    const entries = parseApiKeys(
      JSON.stringify({
        keys: [
          { owner: 'alice', sha256: hashApiKey(alice) },
          { owner: 'bob', sha256: hashApiKey(bob), note: 'phone' },
        ],
      }),
      'test',
    );
    assert.equal(ownerOfApiKey(entries, alice), 'alice');
    assert.equal(ownerOfApiKey(entries, bob), 'bob');
    for (const other of [undefined, '', `${alice.slice(0, -1)}x`, alice.slice(0, 10), 'x'.repeat(300), hashApiKey(alice)]) {
      assert.equal(ownerOfApiKey(entries, other), undefined, String(other));
    }
  });

  it('refuse a stored list that is malformed, with where and what', () => {
    assert.throws(() => parseApiKeys('not json', 'keys.json'), /^ConfigError: keys\.json: expected JSON such as/);
    assert.throws(() => parseApiKeys('{"keys":[{"owner":"alice","sha256":"ab"}]}', 'keys.json'), {
      message: "keys.json: keys.0.sha256: expected the key's SHA-256 as 64 lower-case hex digits",
    });
    assert.throws(() => parseApiKeys(`{"keys":[{"owner":"","sha256":"${'a'.repeat(64)}"}]}`, 'keys.json'), {
      message: 'keys.json: keys.0.owner: expected an owner of 1 to 128 printable ASCII characters',
    });
    const twice = { owner: 'alice', sha256: 'b'.repeat(64) };
    assert.throws(() => parseApiKeys(JSON.stringify({ keys: [twice, { ...twice, owner: 'bob' }] }), 'keys.json'), {
      message: 'keys.json: a key\'s hash is listed twice (owner "bob")',
    });
  });
});

describe('the authenticator', () => {
  it('AUTH=none: everyone is the one local owner', async () => {
    const auth = createAuthenticator(loadConfig({}).auth, readFileSecret());
    assert.deepEqual(await auth.authenticate({}), { owner: LOCAL_OWNER });
  });

  it('AUTH=api-key: the owner of the key in x-api-key, a 401 with a challenge otherwise', async () => {
    const key = newApiKey();
    const file = keysFile(JSON.stringify({ keys: [{ owner: 'carol', sha256: hashApiKey(key) }] }));
    const auth = createAuthenticator(loadConfig({ AUTH: 'api-key', API_KEYS_FILE: file }).auth, readFileSecret());
    await auth.ready();
    assert.deepEqual(await auth.authenticate({ 'x-api-key': key }), { owner: 'carol' });
    await assert.rejects(auth.authenticate({}), {
      statusCode: 401,
      code: 'unauthorized',
      message: 'expected an API key in the x-api-key header',
      headers: { 'www-authenticate': 'ApiKey realm="image-pipeline", header="x-api-key"' },
    });
    await assert.rejects(auth.authenticate({ 'x-api-key': newApiKey() }), {
      statusCode: 401,
      message: 'expected a valid API key in the x-api-key header',
    });
  });

  it('AUTH=api-key: a keys file that is not there fails the start (ready) and answers 503, never 401 or 200', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-dir-for-keys', 'api-keys.json');
    const auth = createAuthenticator(loadConfig({ AUTH: 'api-key', API_KEYS_FILE: missing }).auth, readFileSecret());
    await assert.rejects(auth.ready(), { name: 'ConfigError', message: `API_KEYS_FILE: the file ${missing} does not exist` });
    await assert.rejects(auth.authenticate({ 'x-api-key': newApiKey() }), {
      statusCode: 503,
      code: 'auth_unavailable',
      message: `the API keys could not be read: API_KEYS_FILE: the file ${missing} does not exist`,
    });
  });

  it('AUTH=jwt: no bearer token is a 401 whose challenge names the scheme only; a malformed header says so', async () => {
    const auth = createAuthenticator(
      loadConfig({ AUTH: 'jwt', JWT_ISSUER: 'http://127.0.0.1:9/never', JWT_AUDIENCE: 'api' }).auth,
      readFileSecret(),
    );
    await assert.rejects(auth.authenticate({}), {
      statusCode: 401,
      message: 'expected a bearer token in the Authorization header (Authorization: Bearer <token>)',
      headers: { 'www-authenticate': 'Bearer realm="image-pipeline"' },
    });
    await assert.rejects(auth.authenticate({ authorization: 'Basic YWxpY2U6eA==' }), {
      statusCode: 401,
      message: 'expected the Authorization header to be "Bearer <token>"',
    });
    // An issuer that cannot be reached is the issuer's fault, not the caller's: 503.
    await assert.rejects(auth.authenticate({ authorization: 'Bearer a.b.c' }), { statusCode: 503, code: 'auth_unavailable' });
    assert.equal(bearerToken('bearer  abc.def.ghi '), 'abc.def.ghi');
    assert.equal(bearerToken('Bearer'), undefined);
  });
});

describe('AUTH=none is served on loopback only', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '10.0.0.1']) assert.equal(isLoopback(host), false, host);
  });

  it('refuses another address and a Lambda function, saying why, unless AUTH_NONE_PUBLIC says the network is private', () => {
    const none = loadConfig({}).auth;
    assertNoneModeIsPrivate(none, { host: '127.0.0.1' });
    assert.throws(() => assertNoneModeIsPrivate(none, { host: '0.0.0.0' }), {
      name: 'ConfigError',
      message:
        'AUTH=none on 0.0.0.0 would show every photo to anyone who can reach it; serve on 127.0.0.1, or set AUTH=api-key or AUTH=jwt (docs/security.md), or set AUTH_NONE_PUBLIC=true if only you can reach 0.0.0.0',
    });
    const lambda = loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'api' }).auth;
    assert.throws(() => assertNoneModeIsPrivate(lambda, {}), /^ConfigError: AUTH=none on a Lambda function would show every photo/);
    // Serverless offline sets IS_OFFLINE: it serves on 127.0.0.1 (npm run dev).
    assertNoneModeIsPrivate(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'api', IS_OFFLINE: 'true' }).auth, {});
    assertNoneModeIsPrivate(loadConfig({ AUTH_NONE_PUBLIC: 'true' }).auth, { host: '0.0.0.0' });
    assertNoneModeIsPrivate(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'api', AUTH_NONE_PUBLIC: 'true' }).auth, {});
  });
});
