import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { uploadKey } from '../../src/domain/keys';
import { createLogger } from '../../src/logger/createLogger';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { bucketRoutes } from '../../src/runtime/bucketPost';
import { startHttpServer } from '../../src/runtime/httpServer';
import { postForm, postPolicyContract } from '../helpers/postPolicyContract';

const log = createLogger({ level: 'error', serviceName: 'test' }, { sink: () => undefined });

/** A folder store behind the embedded server's POST /bucket, as startEmbedded mounts it. */
async function folderBucket(options: { announceCreated?: (key: string) => void | Promise<void>; maxRequestBytes?: number } = {}) {
  const root = await mkdtemp(path.join(tmpdir(), 'bucket-post-'));
  const store = new FsObjectStore({ root: path.join(root, 'images') });
  const routes = bucketRoutes(store, {
    maxRequestBytes: options.maxRequestBytes ?? 1 << 20,
    log,
    ...(options.announceCreated ? { announceCreated: options.announceCreated } : {}),
  });
  assert.deepEqual(
    routes.map((r) => `${r.method} ${r.path}`),
    ['POST /bucket', 'OPTIONS /bucket'],
    'a folder store gets a POST /bucket route and its CORS preflight',
  );
  const server = await startHttpServer({ port: 0, routes: [], rawRoutes: routes, maxBodyBytes: 1024, limits: loadConfig({}).http, log });
  return {
    root,
    store,
    origin: server.url,
    replay: 'refused' as const,
    cleanup: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

postPolicyContract('FsObjectStore behind the embedded POST /bucket', folderBucket);

describe('POST /bucket (the folder store checks its own forms)', () => {
  let bucket: Awaited<ReturnType<typeof folderBucket>>;
  const announced: string[] = [];
  const bytes = Buffer.alloc(100, 1);
  before(async () => {
    bucket = await folderBucket({ announceCreated: (key) => void announced.push(key), maxRequestBytes: 64 * 1024 });
  });
  after(() => bucket.cleanup());
  const sign = (key: string, size = bytes.length, expiresInSeconds = 60) =>
    bucket.store.presignPost(key, { contentType: 'image/png', size, expiresInSeconds });

  it('gives the path of its own endpoint, and announces each object it stores, once, after the write', async () => {
    const key = uploadKey(newImageId(), 'png');
    const form = await sign(key);
    assert.equal(form.url, '/bucket');
    assert.deepEqual(Object.keys(form.fields), ['key', 'Content-Type', 'policy', 'x-signature']);
    const answer = await postForm(form, bytes, { origin: bucket.origin });
    assert.equal(answer.status, 204);
    assert.deepEqual(announced.slice(-1), [key]);
    assert.deepEqual((await bucket.store.get(key)).body, bytes);
  });

  it('keeps its signing key under the store root, private (0600), never listed, the same across instances', async () => {
    const keyFile = path.join(bucket.store.root, '.post-policy.key');
    assert.match((await readFile(keyFile, 'utf8')).trim(), /^[0-9a-f]{64}$/);
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await bucket.store.list('')).filter((k) => k.includes('post-policy')),
      [],
    );
    // Another instance on the same folder (a restart) accepts the forms of the first.
    const key = uploadKey(newImageId(), 'png');
    const form = await new FsObjectStore({ root: bucket.store.root }).presignPost(key, {
      contentType: 'image/png',
      size: bytes.length,
      expiresInSeconds: 60,
    });
    assert.equal((await postForm(form, bytes, { origin: bucket.origin })).status, 204);
    assert.equal((await readdir(bucket.store.root)).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  it('refuses with S3 XML errors whose messages say what was expected, and stores nothing', async () => {
    const id = newImageId();
    const key = uploadKey(id, 'png');
    const cases: Array<[string, Parameters<typeof postForm>[2], number, string, string, number?]> = [
      [
        'over the size',
        {},
        400,
        'EntityTooLarge',
        'Your proposed upload exceeds the maximum allowed size: expected at most 50 bytes, got 100',
        50,
      ],
      [
        'under the size',
        {},
        400,
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed size: expected at least 101 bytes, got 100',
        101,
      ],
      [
        'another type',
        { fields: { 'Content-Type': 'image/gif' } },
        403,
        'AccessDenied',
        `Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]`,
      ],
      [
        'another key',
        { fields: { key: uploadKey(newImageId(), 'png') } },
        403,
        'AccessDenied',
        `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "${key}"]`,
      ],
      [
        'a bad signature',
        { fields: { 'x-signature': '0'.repeat(64) } },
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      ],
      [
        'no signature',
        { fields: { 'x-signature': undefined } },
        403,
        'AccessDenied',
        'expected the fields "policy" and "x-signature" of a form made by POST /uploads, got no signature',
      ],
      ['an extra field', { fields: { acl: 'public-read' } }, 403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: acl'],
    ];
    for (const [what, options, status, code, message, size] of cases) {
      const answer = await postForm(await sign(key, size ?? bytes.length), bytes, { origin: bucket.origin, ...options });
      assert.deepEqual([answer.status, answer.code, answer.message], [status, code, message], what);
    }
    assert.equal(await bucket.store.exists(key), false);
  });

  it('refuses an expired form with S3 text, and answers JSON to a client that asks for it', async () => {
    const key = uploadKey(newImageId(), 'png');
    const form = await bucket.store.postPolicy.sign(
      key,
      { contentType: 'image/png', size: bytes.length, expiresInSeconds: 1 },
      Date.now() - 5000,
    );
    const answer = await postForm(form, bytes, { origin: bucket.origin });
    assert.deepEqual([answer.status, answer.code, answer.message], [403, 'AccessDenied', 'Invalid according to Policy: Policy expired.']);
    const body = new FormData();
    body.append('key', key);
    const json = await fetch(`${bucket.origin}/bucket`, { method: 'POST', body, headers: { accept: 'application/json' } });
    assert.equal(json.status, 400);
    assert.deepEqual(((await json.json()) as { error: unknown }).error, {
      code: 'InvalidArgument',
      message: 'POST requires exactly one file upload per request, in the field "file"; got none',
    });
  });

  it('refuses what is not a form (412), a file in another field (400), and a body over the request limit before reading it', async () => {
    const key = uploadKey(newImageId(), 'png');
    const notForm = await fetch(`${bucket.origin}/bucket`, { method: 'POST', body: 'x', headers: { 'content-type': 'image/png' } });
    assert.equal(notForm.status, 412);
    assert.match(await notForm.text(), /<Code>PreconditionFailed<\/Code><Message>expected a multipart\/form-data POST/);
    const form = await sign(key);
    const wrongField = new FormData();
    for (const [k, v] of Object.entries(form.fields)) wrongField.append(k, v);
    wrongField.append('image', new Blob([bytes]), 'a.png');
    const answer = await fetch(`${bucket.origin}/bucket`, { method: 'POST', body: wrongField });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /got a file in "image"/);
    const huge = await postForm(await sign(key, 100 * 1024), Buffer.alloc(100 * 1024), { origin: bucket.origin });
    assert.equal(huge.status, 400);
    assert.equal(huge.code, 'EntityTooLarge');
    assert.equal(await bucket.store.exists(key), false);
  });

  it('a form is single-use: of 8 concurrent posts of one form exactly one is stored, the others get 403, and so does any later post', async () => {
    // Prepare: one form; eight different bodies of its size, as a replaying client would send.
    const key = uploadKey(newImageId(), 'png');
    const form = await sign(key);
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(bytes.length, i + 1));
    // Act
    const answers = await Promise.all(bodies.map((body) => postForm(form, body, { origin: bucket.origin })));
    // Assess
    const stored = answers.flatMap((a, i) => (a.status === 204 ? [i] : []));
    assert.equal(stored.length, 1, JSON.stringify(answers.map((a) => a.status)));
    for (const a of answers.filter((x) => x.status !== 204)) {
      assert.deepEqual(
        [a.status, a.code, a.message],
        [
          403,
          'AccessDenied',
          'Invalid according to Policy: this form was used already (a form stores one object, once); ask POST /uploads for another',
        ],
      );
    }
    assert.deepEqual((await bucket.store.get(key)).body, bodies[stored[0]!]);
    assert.deepEqual(
      announced.filter((k) => k === key),
      [key],
      'announced once',
    );
    // Later, after ingest removed the upload: still refused, nothing comes back under uploads/.
    await bucket.store.delete(key);
    assert.equal((await postForm(form, bytes, { origin: bucket.origin })).status, 403);
    assert.equal(await bucket.store.exists(key), false);
  });

  it('a post that stores nothing gives its form back: a refused size, then the right one', async () => {
    const key = uploadKey(newImageId(), 'png');
    const form = await sign(key);
    assert.equal((await postForm(form, Buffer.alloc(bytes.length + 1), { origin: bucket.origin })).code, 'EntityTooLarge');
    assert.equal((await postForm(form, bytes, { origin: bucket.origin })).status, 204);
  });

  it('answers 503 when the object is stored but cannot be announced (posting the form again is safe)', async () => {
    let fail = true;
    const flaky = await folderBucket({
      announceCreated: () => {
        if (fail) throw new Error('queue down');
      },
    });
    try {
      const key = uploadKey(newImageId(), 'png');
      const form = await flaky.store.presignPost(key, { contentType: 'image/png', size: bytes.length, expiresInSeconds: 60 });
      const first = await postForm(form, bytes, { origin: flaky.origin });
      assert.deepEqual([first.status, first.code], [503, 'ServiceUnavailable']);
      fail = false;
      assert.equal((await postForm(form, bytes, { origin: flaky.origin })).status, 204);
    } finally {
      await flaky.cleanup();
    }
  });
});
