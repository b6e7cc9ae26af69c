import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { hashApiKey, parseApiKeys } from '../../src/auth/apiKeys';

const run = promisify(execFile);

/**
 * The sign-in commands docs/security.md gives, run as written, as child processes: `npm run api-key`
 * (a key printed once, only its hash kept), `npm run issuer` (a real OIDC provider on 127.0.0.1 with
 * two users), and `npm start` refusing AUTH=none beyond loopback, saying why.
 */
const npm = (args: string[], env: NodeJS.ProcessEnv = {}) => run('npm', args, { cwd: REPO_ROOT, env: { ...process.env, ...env } });

describe('npm run api-key', () => {
  it('prints a new key once on stdout and keeps only its hash, naming its owner, in the file (mode 600)', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'api-keys-cli-')), 'api-keys.json');
    const first = await npm(['run', '-s', 'api-key', '--', '--owner', 'alice', '--file', file, '--note', 'laptop']);
    const second = await npm(['run', '-s', 'api-key', '--', '--owner', 'bob', '--file', file]);
    const [alice, bob] = [first.stdout.trim(), second.stdout.trim()];
    assert.match(alice, /^ipk_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(alice, bob);
    assert.match(second.stderr, /\(2 keys\); the key itself is not kept anywhere/);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(alice) && !text.includes(bob), 'a key in the file');
    const entries = parseApiKeys(text, file);
    assert.deepEqual(
      entries.map((e) => [e.owner, e.sha256, e.note]),
      [
        ['alice', hashApiKey(alice), 'laptop'],
        ['bob', hashApiKey(bob), undefined],
      ],
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // --print: the entry for an SSM parameter or a secret, on stderr; no file written.
    const printed = await npm(['run', '-s', 'api-key', '--', '--owner', 'carol', '--print']);
    const entry = JSON.parse(printed.stderr.split('\n')[1]!) as { owner: string; sha256: string };
    assert.deepEqual([entry.owner, entry.sha256], ['carol', hashApiKey(printed.stdout.trim())]);
    await assert.rejects(npm(['run', '-s', 'api-key', '--', '--owner', ' ']), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr ?? '', /^error: --owner: expected 1 to 128 printable ASCII characters, got " "/);
      return true;
    });
  });
});

describe('npm run issuer', () => {
  it('serves a real OpenID Connect provider on 127.0.0.1 with two users, and prints how to start the pipeline against it', async () => {
    const child = spawn('npm', ['run', '-s', 'issuer', '--', '--port', '0'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    try {
      let text = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('Ctrl-C to stop')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`npm run issuer exited ${code}: ${text}`)));
      });
      const url = /OpenID Connect issuer on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      assert.ok(url, text);
      assert.match(text, /user alice, password [a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}\n {2}user bob, password /);
      assert.ok(
        text.includes(`AUTH=jwt JWT_ISSUER=${url} JWT_AUDIENCE=image-pipeline JWT_CLIENT_ID=image-pipeline-gallery npm start`),
        text,
      );
      const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(discovery.issuer, url);
      assert.ok(Array.isArray(discovery.code_challenge_methods_supported) && discovery.code_challenge_methods_supported.includes('S256'));
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});

describe('npm start and AUTH=none', () => {
  it('refuses to serve AUTH=none beyond loopback, saying why and what to do', async () => {
    await assert.rejects(
      npm(['start', '--', '--host', '0.0.0.0', '--port', '0'], {
        AUTH: '',
        AUTH_NONE_PUBLIC: '',
        DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'start-none-')),
      }),
      (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(
          e.stderr ?? '',
          /start failed: AUTH=none on 0\.0\.0\.0 would show every photo to anyone who can reach it; serve on 127\.0\.0\.1, or set AUTH=api-key or AUTH=jwt \(docs\/security\.md\), or set AUTH_NONE_PUBLIC=true if only you can reach 0\.0\.0\.0/,
        );
        return true;
      },
    );
  });
});

describe('npm run deploy:local -- --auth', () => {
  // The deploys themselves, with each mode: test/e2e/deployed-stack.test.ts (startDeployedStack, what
  // deploy:local runs). Here: the flags docs/security.md gives are checked before anything is built.
  it('says what each mode is missing, or what is wrong with the keys file, before it builds or starts anything', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-local-auth-'));
    const bad = path.join(dir, 'api-keys.json');
    writeFileSync(bad, '{"keys": [{"owner": "alice", "sha256": "not a hash"}]}');
    const cases: Array<[string[], number, RegExp]> = [
      [['--auth', 'jwt', '--jwt-issuer', 'http://127.0.0.1:4000'], 2, /^error: --auth jwt: expected --jwt-issuer and --jwt-audience\n/],
      [['--auth', 'api-key'], 2, /^error: --auth api-key: expected --api-keys-file \(npm run api-key -- --owner NAME makes one\)\n/],
      [['--auth', 'basic'], 2, /^error: --auth: expected none, jwt or api-key, got "basic"\n/],
      [
        ['--auth', 'api-key', '--api-keys-file', bad],
        1,
        /ConfigError: .*api-keys\.json: keys\.0\.sha256: expected the key's SHA-256 as 64 lower-case hex digits/,
      ],
    ];
    for (const [args, code, stderr] of cases) {
      await assert.rejects(npm(['run', '-s', 'deploy:local', '--', ...args]), (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, code, args.join(' '));
        assert.match(e.stderr ?? '', stderr);
        assert.doesNotMatch(e.stderr ?? '', /building|starting MiniStack/, 'nothing was built or started');
        return true;
      });
    }
  });
});
