import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { newImageId } from '../../src/domain/imageId';
import { imageKey, parseRecordKey, photoKeysButRecord, recordKey, statusKey } from '../../src/domain/keys';
import { parseMessage, ResizeMessageSchema } from '../../src/domain/messages';
import {
  everyOwnerLabelKey,
  isOwner,
  ownerOfSegment,
  ownerSegment,
  parsePhotoRecordKey,
  photoRecordKey,
  photosPrefix,
} from '../../src/domain/owners';
import { deletePhoto } from '../../src/owners/deletePhoto';
import { isSafeKey } from '../../src/ports/safeKey';
import { processMessage } from '../../src/stages/processMessage';
import { resizeStage } from '../../src/stages/resizeStage';
import { tagStage } from '../../src/stages/tagStage';
import { readStageStatuses } from '../../src/status/photoStatus';
import { writeUploadRecord } from '../../src/status/stageStatus';
import { eventRecorder, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

/** Owners as keys and messages carry them (src/domain/owners.ts), deleting a photo, and a stage that finds its photo deleted. */

function randomOwner(): string {
  const length = 1 + (randomBytes(1)[0]! % 128);
  let owner = '';
  for (const b of randomBytes(length)) owner += String.fromCharCode(0x20 + (b % 95));
  return owner.trim() || 'x';
}

describe('owner keys', () => {
  it('encode every owner as one safe segment in base32, one to one, and decode back', () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 2000; i += 1) {
      const owner = i === 0 ? 'a' : i === 1 ? '~'.repeat(128) : randomOwner();
      assert.ok(isOwner(owner), JSON.stringify(owner));
      const segment = ownerSegment(owner);
      assert.match(segment, /^[a-z2-7]{2,205}$/);
      assert.ok(isSafeKey(`owners/${segment}/photos/x`), segment);
      assert.equal(ownerOfSegment(segment), owner);
      const other = seen.get(segment);
      assert.ok(other === undefined || other === owner, `${JSON.stringify(owner)} and ${JSON.stringify(other)} share ${segment}`);
      seen.set(segment, owner);
    }
    // Cognito's sub, an OIDC sub with a bar, an API key's owner.
    assert.equal(ownerSegment('local'), 'nrxwgylm');
    assert.equal(ownerOfSegment(ownerSegment('auth0|5f7c8ec7c33c6c004bbafe82')), 'auth0|5f7c8ec7c33c6c004bbafe82');
    for (const bad of ['', ' alice', 'alice ', 'ali\nce', 'é', 'x'.repeat(129)]) {
      assert.equal(isOwner(bad), false, JSON.stringify(bad));
      assert.throws(() => ownerSegment(bad), /^Error: not an owner/);
    }
  });

  it("file each owner's photos newest first under their own prefix; the record key says whose and which", () => {
    const older = newImageId(1_700_000_000_000);
    const newer = newImageId(1_700_000_000_001);
    assert.ok(photoRecordKey('alice', newer) < photoRecordKey('alice', older));
    assert.ok(photoRecordKey('alice', older).startsWith(photosPrefix('alice')));
    assert.ok(!photoRecordKey('alice', older).startsWith(photosPrefix('alic')));
    assert.deepEqual(parsePhotoRecordKey(photoRecordKey('bob', older)), { owner: 'bob', imageId: older });
    assert.equal(recordKey({ imageId: older, owner: 'bob' }, 'upload'), photoRecordKey('bob', older));
    assert.equal(recordKey({ imageId: older, owner: 'bob' }, 'tag'), statusKey(older, 'tag'));
    assert.equal(recordKey({ imageId: older }, 'upload'), statusKey(older, 'upload'));
    assert.deepEqual(parseRecordKey(statusKey(older, 'upload')), { photo: { imageId: older }, stage: 'upload' });
    // What deleting a photo removes besides its record: every image, upload, status record and label entry it may have.
    const keys = photoKeysButRecord('bob', older);
    assert.equal(new Set(keys).size, keys.length);
    for (const key of [
      imageKey('original', older, 'png'),
      imageKey('tagged', older),
      statusKey(older, 'detect'),
      ...everyOwnerLabelKey('bob', older),
    ]) {
      assert.ok(keys.includes(key), key);
    }
    assert.ok(keys.every(isSafeKey));
  });
});

describe('messages carry the owner', () => {
  const id = newImageId();
  const base = { image_id: id, original_path: imageKey('original', id) };
  it('version 2 with an owner, version 1 without (queued before owners); never the one without the other', () => {
    assert.equal(parseMessage(ResizeMessageSchema, JSON.stringify({ v: 2, owner: 'alice', ...base }), 'resize message').owner, 'alice');
    assert.equal(parseMessage(ResizeMessageSchema, JSON.stringify({ v: 1, ...base }), 'resize message').owner, undefined);
    assert.throws(() => parseMessage(ResizeMessageSchema, JSON.stringify({ v: 2, ...base }), 'resize message'), {
      message: 'resize message: owner: expected the owner in a version 2 message',
    });
    assert.throws(() => parseMessage(ResizeMessageSchema, JSON.stringify({ v: 1, owner: 'alice', ...base }), 'resize message'), {
      message: 'resize message: owner: expected no owner in a version 1 message',
    });
    assert.throws(() => parseMessage(ResizeMessageSchema, JSON.stringify({ v: 2, owner: 'al\u0000ice', ...base }), 'resize message'), {
      message: 'resize message: owner: expected an owner of 1 to 128 printable ASCII characters',
    });
  });
});

/** Alice's photo as POST /upload leaves it: the original and its record (her index entry). */
async function alicesPhoto(app: TestApp) {
  const id = newImageId();
  const original = imageKey('original', id);
  const photo = { imageId: id, owner: 'alice' };
  await app.store.put(original, readFixture('dog.jpg'), { contentType: 'image/jpeg' });
  await writeUploadRecord(app.store, photo, { stage: 'upload', state: 'done', started_at: new Date().toISOString(), output_key: original });
  const message = JSON.stringify({ v: 2, owner: 'alice', image_id: id, original_path: original });
  return { id, original, photo, message };
}

async function keysOf(app: TestApp, id: string): Promise<string[]> {
  return (await app.store.list('')).filter((k) => k.includes(id) || /^owners\/[a-z2-7]+\/(photos|labels\/[a-z_]+)\//.test(k));
}

describe('deletePhoto', () => {
  it("the owner's: its tombstone, its record, then everything else; again: finishes; someone else's or none: unknown, nothing touched", async () => {
    const app = testApp();
    const { id, photo, message } = await alicesPhoto(app);
    assert.equal(await processMessage(resizeStage, message, 1, app), 'done');
    assert.ok((await keysOf(app, id)).length >= 3);
    assert.equal(await deletePhoto(app.store, { imageId: id, owner: 'bob' }), 'unknown');
    assert.equal((await readStageStatuses(app.store, photo)).resize?.state, 'done', "bob's DELETE touched nothing");
    assert.equal(await deletePhoto(app.store, { imageId: id, owner: 'alice' }), 'deleted');
    // Nothing of it is left but its tombstone, which holds no image and does not name the owner.
    assert.deepEqual(await app.store.list(''), [`deleted/${id}`]);
    const tombstone = JSON.parse((await app.store.get(`deleted/${id}`)).body.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(tombstone).sort(), ['deleted_at', 'owner_sha256']);
    assert.ok(!JSON.stringify(tombstone).includes('alice'));
    assert.equal(await deletePhoto(app.store, { imageId: id, owner: 'alice' }), 'finished');
    assert.equal(await deletePhoto(app.store, { imageId: id, owner: 'bob' }), 'unknown');
    assert.equal(await deletePhoto(app.store, { imageId: newImageId(), owner: 'alice' }), 'unknown');
  });
});

describe('a stage at work on a photo its owner deletes', () => {
  it('takes back what it wrote once it sees the record gone: nothing sent, nothing published, nothing left', async () => {
    // Prepare: the owner's DELETE lands while resize writes its image.
    const app = testApp();
    const events = eventRecorder();
    const { id, message } = await alicesPhoto(app);
    const put = app.store.put.bind(app.store);
    app.store.put = async (key, body, options) => {
      await put(key, body, options);
      if (key === imageKey('resized', id)) assert.equal(await deletePhoto(app.store, { imageId: id, owner: 'alice' }), 'deleted');
    };
    // Act
    assert.equal(await processMessage(resizeStage, message, 1, { ...app, events }), 'done');
    // Assess
    assert.deepEqual(await app.store.list(''), [`deleted/${id}`]);
    assert.deepEqual(await app.queue.receive('grayscale_queue', { waitTimeSeconds: 0 }), []);
    assert.ok(
      app.logs.some(
        (l) => l.message === 'the photo was deleted by its owner while this stage ran: its writes are taken back, nothing is sent',
      ),
    );
  });

  it('tag: its image and label entries taken back, no "Image Tagged"; a failure after the delete is not retried or dead-lettered', async () => {
    const app = testApp();
    const events = eventRecorder();
    const { id, original, photo } = await alicesPhoto(app);
    const dog = { label: 'dog', score: 0.9, box: { x: 1, y: 1, width: 20, height: 20 } };
    const tag = JSON.stringify({
      v: 2,
      owner: 'alice',
      image_id: id,
      original_path: original,
      origin_h: 576,
      origin_w: 768,
      detections: [dog],
    });
    const put = app.store.put.bind(app.store);
    app.store.put = async (key, body, options) => {
      await put(key, body, options);
      if (key.startsWith('owners/') && key.includes('/labels/')) await deletePhoto(app.store, photo);
    };
    assert.equal(await processMessage(tagStage, tag, 1, { ...app, events }), 'done');
    assert.deepEqual(await app.store.list(''), [`deleted/${id}`]);
    assert.deepEqual(events.events, []);
    // Its input gone (the original deleted): the failure is not recorded, retried or dead-lettered either.
    const again = await alicesPhoto(app);
    await deletePhoto(app.store, again.photo);
    assert.equal(await processMessage(resizeStage, again.message, 1, { ...app, events }), 'done');
    assert.deepEqual((await app.store.list('')).sort(), [`deleted/${again.id}`, `deleted/${id}`].sort());
    assert.deepEqual(await app.queue.listDeadLetters('resize_queue'), []);
    assert.deepEqual(events.events, []);
  });
});
