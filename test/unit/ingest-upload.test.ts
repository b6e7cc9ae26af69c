import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import middy from '@middy/core';
import sharp from 'sharp';
import { newImageId } from '../../src/domain/imageId';
import { imageKey, parseUploadKey, uploadKey } from '../../src/domain/keys';
import { ObjectNotFoundError, TransientError } from '../../src/errors';
import { ingestNotification } from '../../src/ingest/ingestNotification';
import { CLAIM_LEASE_MS, type IngestDeps, ingestUpload } from '../../src/ingest/ingestUpload';
import { decodeEventKey, objectCreatedNotification, parseS3Notification } from '../../src/ingest/s3Notification';
import { ingestHandler } from '../../src/lambda/ingestHandler';
import { lambdaMiddlewares } from '../../src/lambda/middlewares';
import { deletePhoto } from '../../src/owners/deletePhoto';
import { readStageStatuses } from '../../src/status/photoStatus';
import { eventRecorder, lambdaContext, sqsEvent, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';
import { MAX_CRAFTED_SCANS, progressiveJpeg } from '../helpers/progressiveJpeg';

/**
 * The bucket starts the pipeline (src/ingest/): an object under uploads/ is checked as POST /upload
 * checks a body, copied to original/, recorded and sent to resize once, however many times its
 * notification arrives; a bad object ends as a terminal failure with its reason and an event.
 */

/** Whose uploads these are: the key names the owner (src/domain/keys.ts). */
const OWNER = 'alice';

function setUp(env: Record<string, string> = {}): { app: TestApp; deps: IngestDeps; events: ReturnType<typeof eventRecorder> } {
  const app = testApp({ env });
  const events = eventRecorder();
  return { app, deps: { ...app, events }, events };
}

async function uploaded(app: TestApp, bytes: Buffer = readFixture('dog.jpg'), ext: 'jpg' | 'png' = 'jpg') {
  const id = newImageId();
  const key = uploadKey(id, ext, OWNER);
  await app.store.put(key, bytes, { contentType: ext === 'jpg' ? 'image/jpeg' : 'image/png' });
  return { id, key };
}

const delivery = (messageId = 'm-1', receiveCount = 1) => ({ messageId, receiveCount });

async function resizeMessages(app: TestApp) {
  const got = await app.queue.receive('resize_queue', { waitTimeSeconds: 0, maxMessages: 10 });
  return got.map((m) => JSON.parse(m.body) as { image_id: string; original_path: string });
}

describe('upload keys', () => {
  it('builds and parses uploads/<owner>/<id>.<ext> (and uploads/<id>.<ext> of a form signed before owners), and refuses anything else', () => {
    const id = newImageId();
    assert.equal(uploadKey(id, 'png', 'alice'), `uploads/mfwgsy3f/${id}.png`);
    assert.deepEqual(parseUploadKey(`uploads/mfwgsy3f/${id}.webp`), { imageId: id, ext: 'webp', owner: 'alice' });
    assert.equal(uploadKey(id, 'png'), `uploads/${id}.png`);
    assert.deepEqual(parseUploadKey(`uploads/${id}.webp`), { imageId: id, ext: 'webp' });
    for (const key of [
      `original/${id}.jpg`,
      `uploads/${id}.exe`,
      `uploads/x/${id}.jpg`, // not an owner segment
      `uploads/MFWGSY3F/${id}.jpg`, // base32 in lower case only
      `uploads/mjxwf/${id}.jpg`, // "bob" is mjxwe: a stray bit makes another spelling, which is none
      `uploads/mfwgsy3f/x/${id}.jpg`,
      `uploads/${id}.jpg/..`,
      'uploads/not-an-id.jpg',
    ]) {
      assert.equal(parseUploadKey(key), undefined, key);
    }
    assert.throws(() => uploadKey('../x', 'jpg'), { message: 'not a valid upload key: "uploads/../x.jpg"' });
  });
});

describe('ingestUpload', () => {
  it('copies a good upload to original/, records it done and sends resize; the upload is removed', async () => {
    // Prepare
    const { app, deps } = setUp();
    const bytes = readFixture('dog.jpg');
    const { id, key } = await uploaded(app, bytes);
    // Act
    const outcome = await ingestUpload(key, delivery(), deps);
    // Assess
    const original = imageKey('original', id, 'jpg');
    assert.deepEqual(outcome, { outcome: 'ingested', image_id: id, original_path: original });
    const stored = await app.store.get(original);
    assert.ok(stored.body.equals(bytes), 'the original is the uploaded bytes, untouched');
    assert.equal(stored.contentType, 'image/jpeg');
    const records = await readStageStatuses(app.store, { imageId: id, owner: OWNER });
    assert.equal(records.upload?.state, 'done');
    assert.equal(records.upload?.output_key, original);
    assert.equal(records.upload?.attempt, 1);
    assert.deepEqual(
      (await resizeMessages(app)).map((m) => [m.image_id, m.original_path]),
      [[id, original]],
    );
    assert.equal(await app.store.exists(key), false);
  });

  it('names the original after what the bytes are, not the extension the upload declared', async () => {
    const { app, deps } = setUp();
    const png = await sharp(readFixture('dog.jpg')).png().toBuffer();
    const id = newImageId();
    await app.store.put(uploadKey(id, 'jpg', OWNER), png, { contentType: 'image/jpeg' });
    const outcome = await ingestUpload(uploadKey(id, 'jpg', OWNER), delivery(), deps);
    assert.deepEqual(outcome, { outcome: 'ingested', image_id: id, original_path: imageKey('original', id, 'png') });
    assert.equal((await app.store.get(imageKey('original', id, 'png'))).contentType, 'image/png');
  });

  it('a duplicate notification (another message, later) is processed once', async () => {
    const { app, deps } = setUp();
    const { id, key } = await uploaded(app);
    const first = await ingestUpload(key, delivery('m-1'), deps);
    // The upload is gone by now, as after any ingest: the claim answers first.
    const second = await ingestUpload(key, delivery('m-2'), deps);
    assert.equal(first.outcome, 'ingested');
    assert.deepEqual(second, { outcome: 'duplicate', image_id: id, state: 'done' });
    assert.equal((await resizeMessages(app)).length, 1);
  });

  it('of 5 concurrent deliveries of one notification exactly one ingests', async () => {
    const { app, deps } = setUp();
    const { id, key } = await uploaded(app);
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map((n) => ingestUpload(key, delivery(`m-${n}`), deps)));
    assert.equal(outcomes.filter((o) => o.outcome === 'ingested').length, 1, JSON.stringify(outcomes));
    assert.equal(outcomes.filter((o) => o.outcome === 'duplicate').length, 4);
    assert.deepEqual(
      (await resizeMessages(app)).map((m) => m.image_id),
      [id],
    );
  });

  it('bytes that are not an image: a terminal failure with the reason, "Image Failed", nothing queued, not retried', async () => {
    const { app, deps, events } = setUp();
    const { id, key } = await uploaded(app, Buffer.from('this is not an image at all'));
    const outcome = await ingestUpload(key, delivery(), deps);
    const reason =
      'UnsupportedImageError: expected JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC image bytes, got 27 bytes starting 74 68 69 73 20 69 73 20 that sharp cannot read';
    assert.deepEqual(outcome, { outcome: 'failed', image_id: id, reason });
    const records = await readStageStatuses(app.store, { imageId: id, owner: OWNER });
    assert.equal(records.upload?.state, 'failed');
    assert.equal(records.upload?.error, reason);
    assert.deepEqual(
      events.events.map((e) => [e.detailType, e.id, e.detail.stage, e.detail.reason, e.detail.attempt]),
      [['Image Failed', `${id}:failed`, 'upload', reason, 1]],
    );
    assert.deepEqual(await resizeMessages(app), []);
    assert.deepEqual(await app.store.list('original/'), []);
    assert.equal(await app.store.exists(key), false, 'the refused upload is removed');
    // Delivered again: a duplicate, no second event.
    assert.deepEqual(await ingestUpload(key, delivery('m-2'), deps), { outcome: 'duplicate', image_id: id, state: 'failed' });
    assert.equal(events.events.length, 1);
  });

  it('an object over MAX_BUCKET_UPLOAD_BYTES fails for good without being read', async () => {
    const { app, deps } = setUp({ MAX_BUCKET_UPLOAD_BYTES: '1000' });
    const { id, key } = await uploaded(app);
    let reads = 0;
    const get = app.store.get.bind(app.store);
    app.store.get = async (k) => {
      reads += 1;
      return get(k);
    };
    const outcome = await ingestUpload(key, delivery(), deps);
    const size = readFixture('dog.jpg').length;
    assert.deepEqual(outcome, {
      outcome: 'failed',
      image_id: id,
      reason: `ImageTooLargeError: expected an upload of at most 1000 bytes, got ${size}`,
    });
    assert.equal(reads, 0, 'the object is never read');
  });

  it('an image over MAX_INPUT_PIXELS fails for good with the pixel count', async () => {
    const { app, deps } = setUp({ MAX_INPUT_PIXELS: '100000' });
    const { id, key } = await uploaded(app);
    const outcome = await ingestUpload(key, delivery(), deps);
    assert.deepEqual(outcome, {
      outcome: 'failed',
      image_id: id,
      reason: 'ImageTooLargeError: expected at most 100000 pixels, got 768x576 = 442368',
    });
  });

  it('a missing object is a fault: thrown, recorded as retrying; the redelivery ingests it once it is there', async () => {
    const { app, deps } = setUp();
    const id = newImageId();
    const key = uploadKey(id, 'jpg', OWNER);
    await assert.rejects(ingestUpload(key, delivery('m-1', 1), deps), ObjectNotFoundError);
    const records = await readStageStatuses(app.store, { imageId: id, owner: OWNER });
    assert.equal(records.upload?.state, 'retrying');
    assert.equal(records.upload?.error, `ObjectNotFoundError: object not found: ${key}`);
    await app.store.put(key, readFixture('dog.jpg'));
    const outcome = await ingestUpload(key, delivery('m-1', 2), deps);
    assert.equal(outcome.outcome, 'ingested');
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.attempt, 2);
    assert.equal((await resizeMessages(app)).length, 1);
  });

  it('a failed send is thrown with the record saying retrying; the redelivery sends once', async () => {
    const { app, deps } = setUp();
    const { id, key } = await uploaded(app);
    const send = app.queue.send.bind(app.queue);
    let failing = true;
    const queue = Object.create(app.queue) as TestApp['queue'];
    queue.send = async (name, body) => {
      if (failing) throw new TransientError('SendMessage resize_queue failed: injected fault');
      return send(name, body);
    };
    await assert.rejects(ingestUpload(key, delivery('m-1', 1), { ...deps, queue }), TransientError);
    const record = (await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload;
    assert.equal(record?.state, 'retrying');
    assert.equal(
      record?.error,
      'not queued; the notification will be retried: TransientError: SendMessage resize_queue failed: injected fault',
    );
    assert.equal(await app.store.exists(key), true, 'the upload stays until it is ingested');
    failing = false;
    assert.equal((await ingestUpload(key, delivery('m-1', 2), { ...deps, queue })).outcome, 'ingested');
    assert.equal((await resizeMessages(app)).length, 1);
  });

  it('a claim left running: its own message takes over, another message drops it while fresh and takes over once stale', async () => {
    const { app, deps } = setUp();
    const { id, key } = await uploaded(app);
    // An attempt that died after claiming (no record written after the claim).
    const copy = app.store.copy.bind(app.store);
    const dying = Object.create(app.store) as TestApp['store'];
    dying.copy = () => new Promise<never>(() => undefined);
    void ingestUpload(key, delivery('m-1'), { ...deps, store: dying });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state, 'running');
    // Another message, at once: a duplicate in flight.
    assert.deepEqual(await ingestUpload(key, delivery('m-2'), deps), { outcome: 'duplicate', image_id: id, state: 'running' });
    // The same message, redelivered: takes over.
    app.store.copy = copy;
    const sameMessage = await ingestUpload(key, delivery('m-1', 2), deps);
    assert.equal(sameMessage.outcome, 'ingested');
    // And a stale claim of another message (a second photo) is taken over too.
    const other = await uploaded(app);
    void ingestUpload(other.key, delivery('m-3'), { ...deps, store: dying });
    await new Promise((r) => setTimeout(r, 200));
    const later = () => Date.now() + CLAIM_LEASE_MS + 1000;
    assert.equal((await ingestUpload(other.key, delivery('m-4'), deps, later)).outcome, 'ingested');
    assert.equal((await resizeMessages(app)).length, 2);
  });

  it('a fault on the last receive records the upload failed and publishes "Image Failed"', async () => {
    const { app, deps, events } = setUp({ MAX_RECEIVE_COUNT: '3' });
    const id = newImageId();
    const key = uploadKey(id, 'jpg', OWNER);
    await assert.rejects(ingestUpload(key, delivery('m-1', 3), deps), ObjectNotFoundError);
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state, 'failed');
    assert.deepEqual(
      events.events.map((e) => [e.detailType, e.detail.attempt]),
      [['Image Failed', 3]],
    );
  });

  it('a fault on the last receive leaves the upload, so the redrive from the DLQ ingests it; a refused one stays refused', async () => {
    const { app, deps } = setUp({ MAX_RECEIVE_COUNT: '3' });
    const { id, key } = await uploaded(app);
    const copy = app.store.copy.bind(app.store);
    app.store.copy = async () => {
      throw new TransientError('CopyObject failed: injected fault');
    };
    await assert.rejects(ingestUpload(key, delivery('m-1', 3), deps), TransientError);
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state, 'failed');
    // Fixed, then redriven: a new message.
    app.store.copy = copy;
    assert.equal((await ingestUpload(key, delivery('m-redriven', 1), deps)).outcome, 'ingested');
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state, 'done');
    assert.equal((await resizeMessages(app)).length, 1);
  });

  it('when "Image Failed" cannot be published the message is retried, and its redelivery publishes it', async () => {
    const { app, deps, events } = setUp();
    const { id, key } = await uploaded(app, Buffer.from('GIF89a but nothing else'));
    events.failing = true;
    await assert.rejects(ingestUpload(key, delivery('m-1', 1), deps), { message: 'PutEvents: AccessDeniedException (test)' });
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state, 'retrying');
    events.failing = false;
    assert.equal((await ingestUpload(key, delivery('m-1', 2), deps)).outcome, 'failed');
    assert.equal(events.events.length, 1);
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state, 'failed');
  });

  it('an upload signed before owners (uploads/<id>.<ext>) is ingested as a photo without an owner: version 1 on, nobody sees it', async () => {
    const { app, deps } = setUp();
    const id = newImageId();
    await app.store.put(uploadKey(id, 'jpg'), readFixture('dog.jpg'), { contentType: 'image/jpeg' });
    assert.equal((await ingestUpload(uploadKey(id, 'jpg'), delivery(), deps)).outcome, 'ingested');
    assert.equal((await readStageStatuses(app.store, { imageId: id })).upload?.state, 'done');
    assert.equal(await app.store.exists(`status/${id}/upload.json`), true);
    assert.deepEqual(await app.store.list('owners/'), []);
    const [message] = await app.queue.receive('resize_queue', { waitTimeSeconds: 0 });
    assert.deepEqual(JSON.parse(message!.body), { v: 1, image_id: id, original_path: imageKey('original', id) });
  });

  it('the owner deletes the photo while it is ingested: ingest takes back what it wrote, sends nothing, publishes nothing', async () => {
    // Prepare: the owner's DELETE lands right after ingest copied the original (its claim is there).
    const { app, deps, events } = setUp();
    const { id, key } = await uploaded(app);
    const copy = app.store.copy.bind(app.store);
    app.store.copy = async (from, to, options) => {
      await copy(from, to, options);
      assert.equal(await deletePhoto(app.store, { imageId: id, owner: OWNER }), 'deleted');
    };
    // Act
    const outcome = await ingestUpload(key, delivery(), deps);
    // Assess: nothing of the photo is left but its tombstone; nothing was queued or published.
    assert.deepEqual(outcome, { outcome: 'ignored', key, reason: 'deleted by its owner' });
    assert.deepEqual(
      (await app.store.list('')).filter((k) => !k.startsWith('.')),
      [`deleted/${id}`],
    );
    assert.deepEqual(await app.queue.receive('resize_queue', { waitTimeSeconds: 0 }), []);
    assert.deepEqual(events.events, []);
    // A late repeat of the notification finds the tombstone: nothing is written again.
    assert.equal((await ingestUpload(key, delivery('m-2'), deps)).outcome, 'ignored');
    assert.deepEqual(
      (await app.store.list('')).filter((k) => !k.startsWith('.')),
      [`deleted/${id}`],
    );
  });

  it('what was checked is what is stored: a form posted again between the check and the copy does not reach original/', async () => {
    // Prepare: the good photo is read and checked; then, before the copy, a replay of its form
    // puts other bytes (random data with HTML in it) under the same key.
    const { app, deps } = setUp();
    const photo = readFixture('dog.jpg');
    const { id, key } = await uploaded(app, photo);
    const junk = Buffer.concat([Buffer.from('<html><script>alert(1)</script>'), Buffer.alloc(5000, 0x5a)]);
    const get = app.store.get.bind(app.store);
    app.store.get = async (k) => {
      const read = await get(k);
      if (k === key) await app.store.put(key, junk, { contentType: 'image/jpeg' });
      return read;
    };
    // Act
    const outcome = await ingestUpload(key, delivery('m-1'), deps);
    // Assess: the copy conditional on the version read copied nothing; the checked bytes were put.
    assert.equal(outcome.outcome, 'ingested');
    assert.ok((await app.store.get(imageKey('original', id))).body.equals(photo), 'original/ is the checked photo');
    assert.ok(app.logs.some((l) => String(l.message).startsWith('the upload was replaced after it was checked')));
    // The replay's own notification finds the upload done: ignored, and nothing stays under uploads/.
    assert.deepEqual(await ingestUpload(key, delivery('m-2'), deps), { outcome: 'duplicate', image_id: id, state: 'done' });
    assert.deepEqual(await app.store.list('uploads/'), []);
    assert.equal((await resizeMessages(app)).length, 1);
  });

  it('a form posted again after its photo was ingested: ignored, its bytes removed, the original untouched', async () => {
    const { app, deps } = setUp();
    const photo = readFixture('dog.jpg');
    const { id, key } = await uploaded(app, photo);
    assert.equal((await ingestUpload(key, delivery('m-1'), deps)).outcome, 'ingested');
    await app.store.put(key, readFixture('person.jpg'), { contentType: 'image/jpeg' });
    assert.deepEqual(await ingestUpload(key, delivery('m-2'), deps), { outcome: 'duplicate', image_id: id, state: 'done' });
    assert.equal(await app.store.exists(key), false);
    assert.ok((await app.store.get(imageKey('original', id))).body.equals(photo));
  });

  it('a form posted again after its upload was refused: not taken over (the refusal is final), its bytes removed', async () => {
    const { app, deps, events } = setUp();
    const { id, key } = await uploaded(app, Buffer.from('not a photo'));
    assert.equal((await ingestUpload(key, delivery('m-1'), deps)).outcome, 'failed');
    assert.equal((await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.terminal, true);
    await app.store.put(key, readFixture('dog.jpg'), { contentType: 'image/jpeg' });
    assert.deepEqual(await ingestUpload(key, delivery('m-2'), deps), { outcome: 'duplicate', image_id: id, state: 'failed' });
    assert.equal(await app.store.exists(key), false);
    assert.deepEqual(await app.store.list('original/'), []);
    assert.equal(events.events.length, 1);
  });

  it('a progressive JPEG of 883 scans: refused from its markers, a terminal failure with the reason', async () => {
    const { app, deps } = setUp();
    const { id, key } = await uploaded(app, progressiveJpeg(64, 48, MAX_CRAFTED_SCANS));
    const reason =
      'ImageTooLargeError: expected a JPEG of at most 32 scans, got 883 (a progressive JPEG is decoded one pass over the whole image per scan)';
    assert.deepEqual(await ingestUpload(key, delivery(), deps), { outcome: 'failed', image_id: id, reason });
    assert.deepEqual(
      [
        (await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.state,
        (await readStageStatuses(app.store, { imageId: id, owner: OWNER })).upload?.attempt,
      ],
      ['failed', 1],
    );
  });

  it('ignores a key that is not an upload', async () => {
    const { app, deps } = setUp();
    const outcome = await ingestUpload('original/x.jpg', delivery(), deps);
    assert.deepEqual(outcome, {
      outcome: 'ignored',
      key: 'original/x.jpg',
      reason: 'expected a key uploads/<owner>/<image id>.<extension of an accepted format>, got "original/x.jpg"',
    });
    assert.deepEqual(await app.store.list('status/'), []);
  });
});

describe('bucket notifications', () => {
  it('parses the S3 event message: URL-encoded keys, ObjectCreated only; the TestEvent names nothing', () => {
    const body = JSON.stringify({
      Records: [
        { eventName: 'ObjectCreated:Post', s3: { bucket: { name: 'images' }, object: { key: 'uploads/a%2Bb+c.jpg', size: 3 } } },
        { eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'images' }, object: { key: 'uploads%2Fx.jpg' } } },
        { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'images' }, object: { key: 'uploads/y.jpg' } } },
      ],
    });
    assert.deepEqual(parseS3Notification(body), {
      kind: 'records',
      created: [
        { bucket: 'images', key: 'uploads/a+b c.jpg', size: 3 },
        { bucket: 'images', key: 'uploads/x.jpg' },
      ],
      otherEvents: ['ObjectRemoved:Delete'],
    });
    assert.deepEqual(parseS3Notification('{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"images"}'), { kind: 'test' });
    assert.equal(decodeEventKey('uploads/%E2%9C%93'), 'uploads/✓');
    assert.deepEqual(parseS3Notification(objectCreatedNotification('images', 'uploads/z.jpg', 9)), {
      kind: 'records',
      created: [{ bucket: 'images', key: 'uploads/z.jpg', size: 9 }],
      otherEvents: [],
    });
  });

  it('a message that is no notification is dead-lettered at once with its reason', async () => {
    const { app, deps } = setUp();
    const outcome = await ingestNotification('{"Records":[]}', delivery(), deps);
    const reason = 'InvalidMessageError: bucket notification: Records: Too small: expected array to have >=1 items';
    assert.deepEqual(outcome, { kind: 'dead-lettered', reason });
    const [letter] = await app.queue.listDeadLetters('ingest_queue');
    assert.equal(letter?.body, '{"Records":[]}');
    const notJson = await ingestNotification('not json', delivery(), deps);
    assert.deepEqual(notJson, {
      kind: 'dead-lettered',
      reason: 'InvalidMessageError: bucket notification: body is not JSON (got "not json")',
    });
  });

  it('ignores the TestEvent and objects of another bucket', async () => {
    const { app, deps } = setUp();
    assert.deepEqual(await ingestNotification('{"Service":"Amazon S3","Event":"s3:TestEvent"}', delivery(), deps), { kind: 'test' });
    const { key } = await uploaded(app);
    const outcome = await ingestNotification(objectCreatedNotification('someone-elses', key), delivery(), deps);
    assert.deepEqual(outcome, {
      kind: 'records',
      outcomes: [{ outcome: 'ignored', key, reason: 'expected an object of bucket "images", got one of "someone-elses"' }],
    });
    assert.equal(await app.store.exists(key), true);
  });

  it('the Lambda handler reports only the record that hit a fault; the good one and the bad object are done', async () => {
    const { app } = setUp();
    const good = await uploaded(app);
    const bad = await uploaded(app, Buffer.from('not an image'));
    const missing = uploadKey(newImageId(), 'jpg', OWNER);
    const handler = middy(ingestHandler(app)).use(lambdaMiddlewares(app));
    const bodies = [good.key, bad.key, missing].map((k) => objectCreatedNotification('images', k));
    const res = await handler(sqsEvent('ingest_queue', bodies), lambdaContext('ingest'));
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: 'm2' }] });
    assert.equal((await readStageStatuses(app.store, { imageId: good.id, owner: OWNER })).upload?.state, 'done');
    assert.equal((await readStageStatuses(app.store, { imageId: bad.id, owner: OWNER })).upload?.state, 'failed');
    assert.deepEqual(
      (await resizeMessages(app)).map((m) => m.image_id),
      [good.id],
    );
  });
});
