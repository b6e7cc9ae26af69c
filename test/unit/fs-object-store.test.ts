import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { createLogger } from '../../src/logger/createLogger';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { assertSafeKey, isSafeKey } from '../../src/ports/safeKey';
import { bucketGetRoute } from '../../src/runtime/bucketGet';
import { startHttpServer } from '../../src/runtime/httpServer';
import { objectStoreContract } from '../helpers/objectStoreContract';

async function tempRoot(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'fs-store-'));
}

/** Every file under `dir`, relative, hidden ones included. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

objectStoreContract('FsObjectStore', async () => {
  const root = await tempRoot();
  const store = new FsObjectStore({ root: path.join(root, 'images') });
  // Its presigned GETs are paths the embedded server serves (src/runtime/bucketGet.ts).
  const log = createLogger({ level: 'error', serviceName: 'test' });
  const server = await startHttpServer({
    port: 0,
    routes: [],
    rawRoutes: [bucketGetRoute(store, log)!],
    maxBodyBytes: 1024,
    limits: loadConfig({}).http,
    log,
  });
  return {
    store,
    presigns: true,
    presignBase: server.url,
    cleanup: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe('FsObjectStore on disk', () => {
  it('presigns GETs as S3 does: the key and the expiry are signed, and the URL stops working when it expires', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root: path.join(root, 'images') });
    const key = imageKey('tagged', newImageId());
    const url = new URL(await store.presignGet(key, 60), 'http://127.0.0.1');
    assert.equal(url.pathname, `/bucket/${key}`);
    await store.postPolicy.checkGet(key, url.searchParams);
    await assert.rejects(store.postPolicy.checkGet(key, url.searchParams, Date.now() + 61_000), {
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
    const later = new URLSearchParams(url.searchParams);
    later.set('X-Expires', String(Number(later.get('X-Expires')) + 3600));
    await assert.rejects(store.postPolicy.checkGet(key, later), { status: 403, code: 'SignatureDoesNotMatch' });
    await assert.rejects(store.postPolicy.checkGet(key, new URLSearchParams()), {
      status: 403,
      message: 'expected a URL the API handed out (X-Expires and X-Signature)',
    });
    await rm(root, { recursive: true, force: true });
  });

  it('keeps each object as a plain file <root>/<key>', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root: path.join(root, 'images') });
    const id = newImageId();
    await store.put(imageKey('original', id), Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
    assert.equal(readFileSync(path.join(root, 'images', 'original', `${id}.jpg`), 'utf8'), 'jpeg bytes');
    // The content type matches the extension: no sidecar.
    assert.deepEqual(await allFiles(root), [path.join('images', 'original', `${id}.jpg`)]);
    await rm(root, { recursive: true, force: true });
  });

  it('infers the content type from the extension when none was given', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root });
    await store.put('status/x/resize.json', Buffer.from('{}'));
    await store.put('original/y.png', Buffer.from('png'));
    await store.put('misc/z', Buffer.from('?'));
    assert.equal((await store.get('status/x/resize.json')).contentType, 'application/json');
    assert.equal((await store.get('original/y.png')).contentType, 'image/png');
    assert.equal((await store.get('misc/z')).contentType, 'application/octet-stream');
    await rm(root, { recursive: true, force: true });
  });

  it('drops a stale content-type sidecar when the object is rewritten with its natural type', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root });
    await store.put('a/b.jpg', Buffer.from('1'), { contentType: 'image/x-odd' });
    assert.equal((await store.get('a/b.jpg')).contentType, 'image/x-odd');
    await store.put('a/b.jpg', Buffer.from('2'), { contentType: 'image/jpeg' });
    assert.equal((await store.get('a/b.jpg')).contentType, 'image/jpeg');
    assert.deepEqual(await allFiles(root), [path.join('a', 'b.jpg')]);
    await rm(root, { recursive: true, force: true });
  });

  it('keeps metadata with a streamed write as with put, and a rewrite without it leaves no stale sidecar', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root });
    const bytes = await store.putStream('a/b.jpg', Readable.from([Buffer.from('12'), Buffer.from('3')]), {
      contentType: 'image/jpeg',
      metadata: { attempt: '1' },
    });
    assert.equal(bytes, 3);
    assert.deepEqual(await store.head('a/b.jpg'), { size: 3, contentType: 'image/jpeg', metadata: { attempt: '1' } });
    await store.putStream('a/b.jpg', Readable.from([Buffer.from('4')]), { contentType: 'image/jpeg' });
    assert.deepEqual(await store.head('a/b.jpg'), { size: 1, contentType: 'image/jpeg' });
    assert.deepEqual(await allFiles(root), [path.join('a', 'b.jpg')]);
    await rm(root, { recursive: true, force: true });
  });

  it('writes into a folder removed since its last write there (it remembers the folders it made)', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root: path.join(root, 'images') });
    const [a, b] = [newImageId(), newImageId()];
    await store.put(imageKey('resized', a), Buffer.from('first'));
    await rm(path.join(root, 'images', 'resized'), { recursive: true });
    await store.put(imageKey('resized', b), Buffer.from('second'));
    assert.equal((await store.get(imageKey('resized', b))).body.toString(), 'second');
    assert.equal(await store.exists(imageKey('resized', a)), false);
  });

  it('leaves no temporary files after many concurrent writes, and readers never see half an object', async () => {
    // Prepare: two distinct 1 MB bodies; a reader polls while writers alternate between them.
    const root = await tempRoot();
    const store = new FsObjectStore({ root });
    const key = imageKey('original', newImageId());
    const a = Buffer.alloc(1024 * 1024, 0x61);
    const b = Buffer.alloc(1024 * 1024, 0x62);
    await store.put(key, a);
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const { body } = await store.get(key);
        seen.add(body.equals(a) ? 'a' : body.equals(b) ? 'b' : `torn:${body.length}`);
      }
    })();
    // Act
    for (let round = 0; round < 10; round += 1) {
      await Promise.all([store.put(key, b), store.put(key, a), store.put(key, b)]);
    }
    stop = true;
    await reader;
    // Assess
    assert.deepEqual(
      [...seen].filter((s) => s.startsWith('torn')),
      [],
    );
    assert.deepEqual(await allFiles(root), [key]);
    await rm(root, { recursive: true, force: true });
  });

  it('cleans up the temporary file when a write fails', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root });
    // A folder where the object should go makes the final rename fail.
    await store.put('x/y/z.json', Buffer.from('{}'));
    await assert.rejects(store.put('x/y', Buffer.from('{}')), {
      name: 'PipelineError',
      message: 'cannot store x/y: a folder store cannot hold both an object and a key beneath it (EISDIR)',
    });
    assert.deepEqual(await allFiles(root), [path.join('x', 'y', 'z.json')]);
    await rm(root, { recursive: true, force: true });
  });

  it('sweeps temporary files a crash left behind, ignoring recent ones', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root });
    await store.put('original/a.jpg', Buffer.from('a'));
    const old = path.join(root, 'original', '.a.jpg.abc123.tmp');
    const recent = path.join(root, 'original', '.a.jpg.def456.tmp');
    await writeFile(old, 'half');
    await writeFile(recent, 'half');
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(old, hourAgo, hourAgo);
    // The crash debris never shows up as a key.
    assert.deepEqual(await store.list('original/'), ['original/a.jpg']);
    assert.equal(await store.sweepTemporaryFiles(60_000), 1);
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(recent), true);
    await rm(root, { recursive: true, force: true });
  });

  it('lists nothing (rather than failing) before anything was written', async () => {
    const store = new FsObjectStore({ root: path.join(await tempRoot(), 'never-created') });
    assert.deepEqual(await store.list(''), []);
    assert.deepEqual(await store.list('original/'), []);
  });

  it('never reads outside the root, even for an encoded traversal', async () => {
    const root = await tempRoot();
    const store = new FsObjectStore({ root: path.join(root, 'images') });
    await writeFile(path.join(root, 'secret.txt'), 'secret');
    for (const key of ['../secret.txt', 'original/../../secret.txt', '..%2fsecret.txt', 'original/%2e%2e/x']) {
      await assert.rejects(store.get(key), { name: 'UnsafeKeyError' });
    }
    // The path check itself: a resolved path must stay under the root.
    assert.equal(store.pathOf('original/a.jpg'), path.join(root, 'images', 'original', 'a.jpg'));
    await rm(root, { recursive: true, force: true });
  });

  it('does not walk symlinked folders when listing', async () => {
    // A symlink planted inside the root could point anywhere; listing never follows it.
    const root = await tempRoot();
    await symlink(tmpdir(), path.join(root, 'link'));
    const store = new FsObjectStore({ root });
    assert.equal((await stat(path.join(root, 'link'))).isDirectory(), true);
    assert.deepEqual(await store.list(''), []); // symlinks are not walked
    await rm(root, { recursive: true, force: true });
  });
});

describe('assertSafeKey', () => {
  it('accepts image keys and status records', () => {
    for (const key of [imageKey('original', newImageId()), `status/${newImageId()}/resize.json`, 'a', 'a-b_c.d/e']) {
      assert.equal(isSafeKey(key), true, key);
      assertSafeKey(key);
    }
  });

  it('refuses non-strings, overlong keys and hidden segments with exact messages', () => {
    assert.throws(() => assertSafeKey(42), { message: 'unsafe object key number: expected a string' });
    assert.throws(() => assertSafeKey('a/'), {
      message: 'unsafe object key "a/": empty segments ("//" or a trailing "/") are not allowed',
    });
    assert.throws(() => assertSafeKey('.hidden'), { message: 'unsafe object key ".hidden": segments must not start with "."' });
    assert.throws(() => assertSafeKey('a/..'), { message: 'unsafe object key "a/..": ".." segments are not allowed' });
    assert.throws(() => assertSafeKey('caf\u00e9.jpg'), {
      message: 'unsafe object key "café.jpg": only the characters A-Z a-z 0-9 . _ - / are allowed',
    });
    const long = 'a'.repeat(1025);
    assert.throws(() => assertSafeKey(long), {
      message: `unsafe object key ${JSON.stringify(`${'a'.repeat(80)}…`)}: expected at most 1024 characters, got 1025`,
    });
    assert.throws(() => assertSafeKey(`${'b'.repeat(256)}/x`), {
      message: `unsafe object key ${JSON.stringify(`${'b'.repeat(80)}…`)}: expected segments of at most 255 characters, got 256`,
    });
  });
});
