import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { IMAGE_ID_PATTERN } from '../../src/domain/imageId';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { apiKeysEnv } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

/** Security checks over HTTP: the API key (AUTH=api-key), server-made ids, no path escapes, no key in logs. */
describe('security over HTTP (embedded default)', () => {
  const API_KEY = 'k3y-for-the-security-test-0123456789';
  let pipeline: EmbeddedPipeline;
  let dir: string;
  const lines: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-security-'));
    const config = loadConfig({ DATA_DIR: dir, ...apiKeysEnv({ alice: API_KEY }), LOG_LEVEL: 'debug' });
    const app = createApp({ config, detector: async () => [], logSink: (line) => lines.push(line) });
    pipeline = await startEmbedded(app, { port: 0 });
  });
  after(async () => pipeline?.stop());

  const upload = async (headers: Record<string, string>, filename = 'photo.jpg', extra?: Record<string, string>) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(extra ?? {})) form.append(k, v);
    form.append('image', new Blob([new Uint8Array(readFixture('dog.jpg'))], { type: 'image/jpeg' }), filename);
    const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form, headers });
    return {
      status: res.status,
      body: (await res.json()) as { image_id?: string; original_path?: string; error?: { code: string; message: string } },
    };
  };

  it('refuses uploads without the API key or with a wrong one (401), accepts the right one', async () => {
    const unauthorized = { code: 'unauthorized', message: 'expected a valid API key in the x-api-key header' };
    const none = await upload({});
    assert.equal(none.status, 401);
    assert.deepEqual(none.body.error, { code: 'unauthorized', message: 'expected an API key in the x-api-key header' });
    const wrong = await upload({ 'x-api-key': `${API_KEY.slice(0, -1)}X` });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body.error, unauthorized);
    const shorter = await upload({ 'x-api-key': API_KEY.slice(0, 5) });
    assert.equal(shorter.status, 401);
    const ok = await upload({ 'x-api-key': API_KEY });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.ok(!lines.join('\n').includes(API_KEY), 'API key in logs');
  });

  it('makes the image id itself: a hostile filename or an image_id field changes nothing, nothing lands outside the store', async () => {
    const r = await upload({ 'x-api-key': API_KEY }, '../../../../tmp/evil.jpg', { image_id: '../../escape', key: '../x' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.match(r.body.image_id!, IMAGE_ID_PATTERN);
    assert.equal(r.body.original_path, `original/${r.body.image_id}.jpg`);
    assert.deepEqual(readdirSync(dir).sort(), ['images', 'queues', 'spool']);
    assert.ok(!existsSync(path.join(dir, 'escape')) && !existsSync('/tmp/evil.jpg'));
  });

  it('the status API refuses ids that are not ours, encoded ../ included, without touching the disk', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '..%2F..%2F..%2F..%2Fetc%2Fpasswd', 'not-an-id', '0190c0de-0000-7000-8000-00000000000']) {
      for (const suffix of ['', '/tagged', '/original']) {
        const res = await fetch(`${pipeline.url}/images/${id}${suffix}`, { headers: { 'x-api-key': API_KEY } });
        assert.ok(res.status === 400 || res.status === 404, `${id}${suffix}: ${res.status}`);
        assert.doesNotMatch(await res.text(), /root:|\/bin\/(ba)?sh/);
      }
    }
    // Raw paths, as a client that does not normalise them would send.
    for (const raw of ['/images/../../../../etc/passwd', '/images/%2e%2e/%2e%2e/etc/passwd/tagged']) {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const { port } = new URL(pipeline.url!);
        http
          .get({ host: '127.0.0.1', port, path: raw, headers: { 'x-api-key': API_KEY } }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
      assert.ok(status === 400 || status === 404, `${raw}: ${status}`);
      assert.doesNotMatch(body, /root:|\/bin\/(ba)?sh/);
    }
  });

  it('the folder store refuses keys that would leave its root', async () => {
    const store = new FsObjectStore({ root: path.join(dir, 'images') });
    for (const key of ['../x', 'original/../../x', '/etc/passwd', 'a/./b', 'original\\..\\x', '.hidden', 'a//b']) {
      await assert.rejects(store.get(key), { name: 'UnsafeKeyError' }, key);
      await assert.rejects(store.put(key, Buffer.from('x')), { name: 'UnsafeKeyError' }, key);
    }
    await assert.rejects(store.list('../'), { name: 'UnsafeKeyError' });
  });
});
