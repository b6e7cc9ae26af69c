import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureModel } from '../../models/ensure-model';
import { type LocalIssuer, startLocalIssuer } from '../../scripts/auth/localIssuer';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import type { PresignedPost } from '../../src/ports/ObjectStore';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { invertedId, refusedCallers } from '../helpers/callers';
import { apiKeysEnv } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';
import { postForm } from '../helpers/postPolicyContract';

/**
 * Whose photo it is, on the embedded default over HTTP, with a real OpenID Connect provider on
 * 127.0.0.1 (scripts/auth/localIssuer.ts) and its two users: alice's photos are hers alone on every
 * route; no token, an expired one, one for another audience or signed with another key is a 401;
 * alice deletes a photo and nothing of it is left in the bucket. The same with API keys.
 */
interface Status {
  image_id: string;
  state: string;
  detections: Array<{ label: string }>;
  image_urls?: Record<string, string | null>;
}

describe('owners on the embedded default (AUTH=jwt, a real OIDC provider)', { timeout: 300_000 }, () => {
  let issuer: LocalIssuer;
  let pipeline: EmbeddedPipeline;
  let dataDir: string;
  const token: Record<'alice' | 'bob', string> = { alice: '', bob: '' };

  const call = (who: 'alice' | 'bob' | null, route: string, init: RequestInit = {}) =>
    fetch(`${pipeline.url}${route}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(who ? { authorization: `Bearer ${token[who]}` } : {}) },
    });
  const json = async <T>(res: Response) => (await res.json()) as T;

  async function upload(who: 'alice' | 'bob', fixture: string): Promise<string> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFixture(fixture))], { type: 'image/jpeg' }), fixture);
    const res = await call(who, '/upload', { method: 'POST', body: form });
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ image_id: string }>(res)).image_id;
  }

  async function settled(who: 'alice' | 'bob', id: string): Promise<Status> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res = await call(who, `/images/${id}`);
      assert.equal(res.status, 200, `${who} GET /images/${id}`);
      const s = await json<Status>(res);
      if (s.state === 'done' || s.state === 'failed') return s;
      assert.ok(Date.now() < deadline, `${id} not settled: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async () => {
    issuer = await startLocalIssuer();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-owners-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MODEL_PATH: await ensureModel(),
      ...issuer.env,
    });
    pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
    token.alice = (await issuer.signIn('alice')).accessToken;
    token.bob = (await issuer.signIn('bob')).accessToken;
  });
  after(async () => {
    await pipeline?.stop();
    await issuer?.stop();
  });

  let alicesDog = '';
  let alicesHorses = '';

  it("alice's photos are hers alone: 404 to bob exactly as an unknown id, absent from his lists, search and counts", async () => {
    // Act: alice sends one photo in the body and one through POST /uploads and its form; bob one.
    alicesDog = await upload('alice', 'dog.jpg');
    const created = await call('alice', '/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content_type: 'image/jpeg', size: readFixture('horses.jpg').length }),
    });
    assert.equal(created.status, 201);
    const form = await json<{ image_id: string; upload: PresignedPost }>(created);
    assert.equal((await postForm(form.upload, readFixture('horses.jpg'))).status, 204);
    alicesHorses = form.image_id;
    const bobsPerson = await upload('bob', 'person.jpg');
    // The form's key names its owner: the bucket took it for alice.
    assert.match(form.upload.fields.key!, /^uploads\/[a-z2-7]+\//);
    const deadline = Date.now() + 60_000;
    while ((await call('alice', `/images/${alicesHorses}`)).status === 404) {
      assert.ok(Date.now() < deadline, 'the form upload was ingested');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const id of [alicesDog, alicesHorses]) assert.equal((await settled('alice', id)).state, 'done');
    assert.equal((await settled('bob', bobsPerson)).state, 'done');

    // Assess: alice sees hers, and only hers.
    const aliceList = await json<{ images: Status[] }>(await call('alice', '/images'));
    assert.deepEqual(aliceList.images.map((s) => s.image_id).sort(), [alicesDog, alicesHorses].sort());
    const aliceLabels = await json<{ labels: Array<{ label: string }> }>(await call('alice', '/labels'));
    assert.ok(aliceLabels.labels.some((l) => l.label === 'horse'));
    assert.ok(
      !aliceLabels.labels.some(
        (l) => l.label === 'person' && !aliceList.images.some((s) => s.detections.some((d) => d.label === 'person')),
      ),
    );
    const horseSearch = await json<{ images: Status[] }>(await call('alice', '/images?label=horse'));
    assert.deepEqual(
      horseSearch.images.map((s) => s.image_id),
      [alicesHorses],
    );
    // Her image URLs work without her token, for the object they name.
    const [mine] = aliceList.images.filter((s) => s.image_id === alicesDog);
    const image = await fetch(new URL(mine!.image_urls!.original!, pipeline.url));
    assert.equal(image.status, 200);
    assert.ok(Buffer.from(await image.arrayBuffer()).equals(readFixture('dog.jpg')));

    // Bob: nothing of hers anywhere, and each of her ids answered exactly as an id nobody has.
    const bobList = await json<{ images: Status[] }>(await call('bob', '/images?limit=100'));
    assert.deepEqual(
      bobList.images.map((s) => s.image_id),
      [bobsPerson],
    );
    // His counts and searches are of his one photo, whatever her photos hold.
    const bobs = (await settled('bob', bobsPerson)).detections.map((d) => d.label);
    const bobLabels = await json<{ labels: Array<{ label: string; count: number }> }>(await call('bob', '/labels'));
    assert.deepEqual(bobLabels.labels.map((l) => l.label).sort(), [...new Set(bobs)].sort());
    assert.ok(
      bobLabels.labels.every((l) => l.count === 1),
      JSON.stringify(bobLabels),
    );
    for (const label of new Set(aliceList.images.flatMap((s) => s.detections.map((d) => d.label)))) {
      const found = await json<{ images: Status[] }>(await call('bob', `/images?label=${encodeURIComponent(label)}`));
      assert.deepEqual(
        found.images.map((s) => s.image_id),
        bobs.includes(label) ? [bobsPerson] : [],
        label,
      );
    }
    const nobodys = newImageId();
    const same = async (route: (id: string) => string, init: RequestInit = {}) => {
      const hers = await call('bob', route(alicesDog), init);
      const none = await call('bob', route(nobodys), init);
      assert.equal(hers.status, 404, route(alicesDog));
      assert.equal(none.status, 404, route(nobodys));
      const strip = (body: { error: { code: string; message: string } }, id: string) => ({
        code: body.error.code,
        message: body.error.message.replace(id, '<id>'),
      });
      assert.deepEqual(strip(await json(hers), alicesDog), strip(await json(none), nobodys), route('<id>'));
    };
    await same((id) => `/images/${id}`);
    for (const kind of ['original', 'resized', 'grayscale', 'tagged']) await same((id) => `/images/${id}/${kind}`);
    await same((id) => `/images/${id}`, { method: 'DELETE' });
    assert.equal((await call('alice', `/images/${alicesDog}`)).status, 200, "bob's DELETE changed nothing");
  });

  it('no token, an expired one, one for another audience or signed with another key: 401 on every route that needs a caller', async () => {
    const form = () => {
      const f = new FormData();
      f.append('image', new Blob([new Uint8Array(readFixture('dog.jpg'))], { type: 'image/jpeg' }), 'dog.jpg');
      return f;
    };
    const routes: Array<[string, string, () => RequestInit]> = [
      ['GET', '/images', () => ({})],
      ['GET', '/images?label=dog', () => ({})],
      ['GET', '/labels', () => ({})],
      ['GET', `/images/${alicesDog}`, () => ({})],
      ['GET', `/images/${alicesDog}/original`, () => ({})],
      ['DELETE', `/images/${alicesDog}`, () => ({})],
      ['POST', '/upload', () => ({ body: form() })],
      ['POST', '/uploads', () => ({ headers: { 'content-type': 'application/json' }, body: '{"content_type":"image/jpeg","size":10}' })],
    ];
    for (const [what, headers] of await refusedCallers(issuer)) {
      for (const [method, route, init] of routes) {
        const res = await fetch(`${pipeline.url}${route}`, {
          method,
          ...init(),
          headers: { ...(init().headers as Record<string, string>), ...headers },
        });
        assert.equal(res.status, 401, `${what}: ${method} ${route}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="image-pipeline"/, `${what}: ${method} ${route}`);
        assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'unauthorized');
      }
    }
    // Nothing was stored or removed by any of them.
    assert.equal((await call('alice', `/images/${alicesDog}`)).status, 200);
    assert.deepEqual((await json<{ images: Status[] }>(await call('alice', '/images'))).images.length, 2);
    // The page needs no caller: it signs in.
    assert.equal((await fetch(`${pipeline.url}/`)).status, 200);
  });

  it('alice deletes a photo: 204, then nothing of it is listed, found, served or left in the bucket', async () => {
    const store = pipeline.app.store;
    // Its four images (the stages' done records travel with them as metadata; its record and label
    // entries are keyed by the inverted id, looked for below).
    const before = (await store.list('')).filter((k) => k.includes(alicesDog));
    assert.deepEqual(before.map((k) => k.split('/')[0]).sort(), ['grayscale', 'original', 'resized', 'tagged'], before.join(', '));
    const res = await call('alice', `/images/${alicesDog}`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    // Gone from every route…
    assert.equal((await call('alice', `/images/${alicesDog}`)).status, 404);
    assert.equal((await call('alice', `/images/${alicesDog}/original`)).status, 404);
    const list = await json<{ images: Status[] }>(await call('alice', '/images'));
    assert.deepEqual(
      list.images.map((s) => s.image_id),
      [alicesHorses],
    );
    const search = await json<{ images: Status[] }>(await call('alice', '/images?label=dog'));
    assert.ok(!search.images.some((s) => s.image_id === alicesDog));
    // …and from the bucket: its tombstone aside (no image, no owner's name), no key names it, and
    // no label entry of hers is left without a photo.
    const left = await store.list('');
    assert.deepEqual(
      left.filter((k) => k.includes(alicesDog)),
      [`deleted/${alicesDog}`],
    );
    const entries = left.filter((k) => /^owners\/[a-z2-7]+\/labels\//.test(k));
    assert.ok(entries.length > 0);
    assert.ok(!entries.some((k) => k.endsWith(invertedId(alicesDog))));
    // DELETE again by her: finished (204); by bob: an unknown id.
    assert.equal((await call('alice', `/images/${alicesDog}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call('bob', `/images/${alicesHorses}`, { method: 'DELETE' })).status, 404);
    assert.equal((await call('alice', `/images/${alicesHorses}`)).status, 200);
  });
});

describe('owners on the embedded default (AUTH=api-key)', { timeout: 300_000 }, () => {
  let pipeline: EmbeddedPipeline;
  const keys = { carol: 'ipk_carol-0123456789abcdefghijklmnop', dave: 'ipk_dave-0123456789abcdefghijklmnopq' };

  before(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-owners-keys-'));
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...apiKeysEnv(keys) });
    const dog = { label: 'dog', score: 0.9, box: { x: 1, y: 1, width: 10, height: 10 } };
    pipeline = await startEmbedded(createApp({ config, detector: async () => [dog] }), { port: 0 });
  });
  after(async () => pipeline?.stop());

  it("each key's owner sees their photos only; a wrong key is a 401", async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFixture('dog.jpg'))], { type: 'image/jpeg' }), 'dog.jpg');
    const up = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form, headers: { 'x-api-key': keys.carol } });
    assert.equal(up.status, 202);
    const { image_id } = (await up.json()) as { image_id: string };
    const as = (key: string, route: string) => fetch(`${pipeline.url}${route}`, { headers: { 'x-api-key': key } });
    const deadline = Date.now() + 60_000;
    while (((await (await as(keys.carol, `/images/${image_id}`)).json()) as Status).state !== 'done') {
      assert.ok(Date.now() < deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(((await (await as(keys.carol, '/images')).json()) as { images: Status[] }).images.length, 1);
    assert.deepEqual(((await (await as(keys.dave, '/images')).json()) as { images: Status[] }).images, []);
    assert.equal((await as(keys.dave, `/images/${image_id}`)).status, 404);
    assert.deepEqual(((await (await as(keys.dave, '/labels')).json()) as { labels: unknown[] }).labels, []);
    assert.equal((await as(`${keys.carol}x`, '/images')).status, 401);
    assert.equal((await fetch(`${pipeline.url}/images`)).status, 401);
  });
});
