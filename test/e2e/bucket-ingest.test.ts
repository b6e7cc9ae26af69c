import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { imageKey, uploadKey } from '../../src/domain/keys';
import { LOCAL_OWNER } from '../../src/domain/owners';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { createUpload } from '../helpers/createUpload';
import type { LogLine } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';
import { replayForm } from '../helpers/formReplay';
import { largePhoto } from '../helpers/largePhoto';
import { postForm } from '../helpers/postPolicyContract';
import { waitForImage } from '../helpers/waitForImage';

/**
 * The bucket starts the pipeline on the embedded default: a photo posted with the form POST /uploads
 * signs lands under uploads/ through the server's POST /bucket, which announces the write
 * (app.announceCreated); the object goes through ingest_queue, is checked, copied to original/ and
 * tagged. The other cases write through the folder store and announce by hand.
 */
describe('embedded default: the bucket starts the pipeline', () => {
  let pipeline: EmbeddedPipeline;
  const logs: LogLine[] = [];

  before(async () => {
    const modelPath = await ensureModel();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-ingest-'));
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'info', MODEL_PATH: modelPath });
    pipeline = await startEmbedded(createApp({ config, detector: 'worker', logSink: (line) => logs.push(JSON.parse(line) as LogLine) }), {
      port: 0,
    });
  });
  after(async () => pipeline?.stop());

  const put = async (bytes: Buffer, contentType = 'image/jpeg') => {
    const id = newImageId();
    // As the form of AUTH=none's caller names it: theirs (`local`).
    const key = uploadKey(id, 'jpg', LOCAL_OWNER);
    await pipeline.app.store.put(key, bytes, { contentType });
    return { id, key };
  };

  it('a 24 MP photo of more than 6 MB sent through POST /uploads and the form it signs comes out tagged', async () => {
    // Prepare
    const photo = await largePhoto('dog.jpg');
    assert.ok(photo.bytes.length > 6 * 1024 * 1024, `the photo is ${photo.bytes.length} bytes, expected more than 6 MiB`);
    assert.ok(photo.width * photo.height >= 24e6, `${photo.width}x${photo.height}`);
    // Act: the two steps, as docs/big-photos.md shows them (the form posts to the server's own POST /bucket).
    const created = await createUpload(pipeline.url!, { content_type: 'image/jpeg', size: photo.bytes.length, file_name: 'dog.jpg' });
    const answer = await postForm(created.upload, photo.bytes);
    assert.equal(answer.status, 204, answer.body);
    const id = created.image_id;
    const outcome = await waitForImage(pipeline.app.store, id, { timeoutMs: 120_000 });
    // Assess
    assert.equal(outcome.status, 'done', outcome.error ?? '');
    const original = await pipeline.app.store.get(imageKey('original', id));
    assert.ok(original.body.equals(photo.bytes), 'original/ holds the uploaded bytes, untouched');
    const tagged = await sharp((await pipeline.app.store.get(imageKey('tagged', id))).body).metadata();
    assert.deepEqual([tagged.format, tagged.width, tagged.height], ['jpeg', photo.width, photo.height]);
    const labels = (outcome.stages.detect?.detections ?? []).map((d) => d.label);
    assert.ok(labels.includes('dog'), `found ${labels.join(', ')}`);
    assert.equal(await pipeline.app.store.exists(created.upload.fields.key!), false, 'the upload is removed once ingested');
    process.stderr.write(`# ${photo.width}x${photo.height}, ${(photo.bytes.length / 1e6).toFixed(1)} MB: ${labels.join(', ')}\n`);
  });

  it('bytes that are not an image end as a terminal failure of the upload stage with the reason', async () => {
    const { id, key } = await put(Buffer.from('<html>not a photo</html>'), 'image/jpeg');
    await pipeline.app.announceCreated!(key);
    const outcome = await waitForImage(pipeline.app.store, id, { timeoutMs: 30_000 });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.failedStage, 'upload');
    assert.equal(
      outcome.error,
      'UnsupportedImageError: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got 24 bytes starting 3c 68 74 6d 6c 3e 6e 6f that sharp cannot read',
    );
    assert.equal(outcome.stages.resize, undefined, 'nothing was queued');
    assert.deepEqual(
      await pipeline.app.deadLetters.listDeadLetters(pipeline.app.config.queues.ingest),
      [],
      'not retried, not dead-lettered',
    );
  });

  it('the same object announced twice is processed once', async () => {
    const { id, key } = await put(readFixture('horses.jpg'));
    await Promise.all([pipeline.app.announceCreated!(key), pipeline.app.announceCreated!(key)]);
    const outcome = await waitForImage(pipeline.app.store, id, { timeoutMs: 60_000 });
    assert.equal(outcome.status, 'done', outcome.error ?? '');
    // Both notifications were handled before the photo was tagged; give a late one a moment anyway.
    await new Promise((r) => setTimeout(r, 1500));
    const done = (stage: string) => logs.filter((l) => l.message === 'stage done' && l.stage === stage && l.image_id === id).length;
    assert.deepEqual(['upload', 'resize', 'grayscale', 'detect', 'tag'].map(done), [1, 1, 1, 1, 1]);
    const duplicates = logs.filter((l) => String(l.message).startsWith('duplicate notification') && l.image_id === id);
    assert.equal(duplicates.length, 1);
  });

  it('one form posted 8 times at once, 8 times over: one post is stored, 7 refused (403), original/ is only ever the checked photo, nothing stays under uploads/', async () => {
    const photo = readFixture('dog.jpg');
    const ends: string[] = [];
    for (let round = 0; round < 8; round++) {
      // Prepare: a form for the photo's size.
      const created = await createUpload(pipeline.url!, { content_type: 'image/jpeg', size: photo.length });
      // Act
      const { posts } = await replayForm(created.upload, photo, 8, { origin: pipeline.url! });
      // Assess: single-use, so exactly one post was stored; what ingest made of it is what it was.
      const stored = posts.filter((p) => p.answer.status === 204);
      assert.equal(stored.length, 1, posts.map((p) => p.answer.status).join());
      for (const p of posts.filter((x) => x.answer.status !== 204))
        assert.deepEqual([p.answer.status, p.answer.code], [403, 'AccessDenied']);
      const outcome = await waitForImage(pipeline.app.store, created.image_id, { timeoutMs: 60_000 });
      const original = imageKey('original', created.image_id);
      ends.push(outcome.status);
      if (stored[0]!.body === photo) {
        assert.equal(outcome.status, 'done', outcome.error ?? '');
        assert.ok((await pipeline.app.store.get(original)).body.equals(photo), 'original/ is the photo');
      } else {
        assert.equal(outcome.status, 'failed');
        assert.match(
          outcome.error ?? '',
          /^UnsupportedImageError: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got \d+ bytes starting 3c 68 74 6d/,
        );
        assert.equal(await pipeline.app.store.exists(original), false, 'no unchecked bytes in original/');
      }
      // A refused upload is removed just after its failed record is written: wait for that write.
      for (const deadline = Date.now() + 10_000; (await pipeline.app.store.list('uploads/')).length > 0 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(await pipeline.app.store.list('uploads/'), [], `round ${round}: nothing stays under uploads/`);
    }
    process.stderr.write(`# one form posted 8 times at once, 8 rounds: ${ends.join(', ')}\n`);
  });
});
