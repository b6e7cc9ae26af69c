import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { writePhotoRecord } from '../../src/status/stageStatus';
import { readFixture } from '../helpers/fixtures';
import { waitForImage } from '../helpers/waitForImage';

const run = promisify(execFile);

/**
 * Photos stored before owners existed: the pipeline keeps them, no caller sees them, and
 * `npm run assign-owner -- --owner local` (run here as written, as a child process) gives them to
 * AUTH=none's one person, who then lists, finds and is served them as any of theirs. The old
 * photos are made by the pipeline itself: messages of version 1 (queued before the change) go on
 * as photos without an owner, written the old way.
 */
const dog = { label: 'dog', score: 0.9, box: { x: 1, y: 1, width: 10, height: 10 } };

describe('npm run assign-owner: photos stored before owners', { timeout: 300_000 }, () => {
  let pipeline: EmbeddedPipeline;
  let dataDir: string;
  const old: string[] = [];
  let waiting = '';

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-assign-'));
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    pipeline = await startEmbedded(createApp({ config, detector: async () => [dog] }), { port: 0 });
    const { store, queue } = pipeline.app;
    for (const name of ['dog.jpg', 'horses.jpg']) {
      // As the upload stage left a photo before owners: the original, status/<id>/upload.json, a message of version 1.
      const id = newImageId();
      const original = imageKey('original', id);
      await store.put(original, readFixture(name), { contentType: 'image/jpeg' });
      // Its record as it was written then: no layout version.
      await writePhotoRecord(
        store,
        { imageId: id },
        { stage: 'upload', state: 'done', started_at: new Date().toISOString(), output_key: original },
      );
      await queue.send(config.queues.resize, JSON.stringify({ v: 1, image_id: id, original_path: original }));
      old.push(id);
    }
    for (const id of old) assert.equal((await waitForImage(store, { imageId: id })).status, 'done');
    // One more, never queued: still "in the pipeline" as far as anyone can tell.
    waiting = newImageId();
    await writePhotoRecord(store, { imageId: waiting }, { stage: 'upload', state: 'done', started_at: new Date().toISOString() });
  });
  after(async () => pipeline?.stop());

  const api = async (route: string) => {
    const res = await fetch(`${pipeline.url}${route}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('keeps them, shows them to nobody, and gives the settled ones to the owner named; a second run assigns nothing twice', async () => {
    // Before: stored the old way (their label entries under labels/), and invisible.
    assert.equal((await pipeline.app.store.list('labels/dog/')).length, 2);
    assert.deepEqual((await api('/images')).body.images, []);
    assert.equal((await api(`/images/${old[0]}`)).status, 404);
    assert.deepEqual((await api('/labels')).body.labels, []);

    // Act: the command docs/security.md gives, as a person types it.
    const env = { ...process.env, DATA_DIR: dataDir };
    const dry = await run('npm', ['run', '-s', 'assign-owner', '--', '--owner', 'local', '--dry-run'], { cwd: REPO_ROOT, env });
    assert.match(dry.stderr, /\[dry run\] .*: 2 photos without an owner would be given to "local"; 1 left/);
    assert.deepEqual((await api('/images')).body.images, [], 'a dry run changes nothing');
    const { stdout, stderr } = await run('npm', ['run', '-s', 'assign-owner', '--', '--owner', 'local'], { cwd: REPO_ROOT, env });

    // Assess: the two settled photos are local's, with their labels; the waiting one is left, and said so.
    assert.match(
      stderr,
      /: 2 photos without an owner given to "local"; 1 left \(still in the pipeline, or unreadable\): run it again later\n$/,
    );
    for (const id of old) assert.match(stdout, new RegExp(`^${id}: assigned \\(dog\\)$`, 'm'));
    assert.match(stdout, new RegExp(`^${waiting}: left as it is \\(in the pipeline\\)$`, 'm'));
    const listed = (await api('/images')).body.images as Array<{ image_id: string; state: string }>;
    assert.deepEqual(listed.map((s) => s.image_id).sort(), [...old].sort());
    assert.ok(listed.every((s) => s.state === 'done'));
    assert.equal((await api(`/images/${old[0]}`)).status, 200);
    assert.equal((await fetch(`${pipeline.url}/images/${old[0]}/tagged`)).status, 200);
    assert.deepEqual((await api('/labels')).body.labels, [{ label: 'dog', count: 2 }]);
    assert.deepEqual(
      ((await api('/images?label=dog')).body.images as Array<{ image_id: string }>).map((s) => s.image_id).sort(),
      [...old].sort(),
    );
    // Nothing of the old index is left for them.
    assert.deepEqual(await pipeline.app.store.list('labels/'), []);
    for (const id of old) assert.equal(await pipeline.app.store.exists(`status/${id}/upload.json`), false);

    const again = await run('npm', ['run', '-s', 'assign-owner', '--', '--owner', 'local'], { cwd: REPO_ROOT, env });
    assert.match(again.stderr, /: 0 photos without an owner given to "local"; 1 left/);
  });

  it('refuses a missing or malformed owner with the usage (exit 2)', async () => {
    for (const args of [[], ['--owner', ' bad ']]) {
      await assert.rejects(
        run('npm', ['run', '-s', 'assign-owner', '--', ...args], { cwd: REPO_ROOT, env: { ...process.env, DATA_DIR: dataDir } }),
        (error: { code?: number; stderr?: string }) => {
          assert.equal(error.code, 2);
          assert.match(error.stderr ?? '', /^error: --owner: expected .*\nusage: npm run assign-owner -- --owner NAME/);
          return true;
        },
      );
    }
  });
});
