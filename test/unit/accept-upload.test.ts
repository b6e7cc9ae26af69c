import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { photoRecordKey } from '../../src/domain/owners';
import { TransientError } from '../../src/errors';
import { readStageStatuses } from '../../src/status/photoStatus';
import { httpApiEvent, lambdaContext, lambdaFunctions, multipartBody, type TestApp, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

/**
 * What a 503 from POST /upload means: nothing was queued, so a retry cannot make a duplicate; and
 * what a 202 means: the photo is on its way, with its upload record written before its message.
 */
async function upload(app: TestApp) {
  const { body, contentType } = multipartBody([{ name: 'image', filename: 'dog.jpg', data: readFixture('dog.jpg') }]);
  const res = await lambdaFunctions(app).upload(httpApiEvent({ body, contentType }), lambdaContext('upload'));
  return { status: res.statusCode, body: JSON.parse(res.body) as { image_id?: string; error?: { code: string; message: string } } };
}

const UNAVAILABLE = { code: 'unavailable', message: 'the upload could not be stored; nothing was accepted, try again' };

describe('acceptUpload: what each failure tells the client', () => {
  it('a failed upload-record write answers 503 and queues nothing (a retry makes no duplicate)', async () => {
    // Prepare: the store takes the original but not the upload record (the owner's index entry).
    const app = testApp();
    const put = app.store.put.bind(app.store);
    app.store.put = async (key, body, options) => {
      if (key.startsWith('owners/')) throw new TransientError(`PutObject ${key} failed: injected fault`);
      return put(key, body, options);
    };
    // Act
    const res = await upload(app);
    // Assess
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.error, UNAVAILABLE);
    assert.deepEqual(await app.queue.receive('resize_queue', { waitTimeSeconds: 0 }), []);
    // The original left behind is nobody's: the status API does not list it.
    assert.equal((await app.store.list('original/')).length, 1);
    const listed = await lambdaFunctions(app).api(httpApiEvent({ method: 'GET', path: '/images' }), lambdaContext('api'));
    assert.deepEqual((JSON.parse(listed.body) as { images: unknown[] }).images, []);
  });

  it('a failed send answers 503; the original left behind is recorded as failed, so nothing waits on it', async () => {
    const app = testApp();
    app.queue.send = async () => {
      throw new TransientError('SendMessage resize_queue failed: injected fault');
    };
    const res = await upload(app);
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.error, UNAVAILABLE);
    const [original] = await app.store.list('original/');
    assert.ok(original, 'the original was stored before the send');
    const id = original.slice('original/'.length, -'.jpg'.length);
    const records = await readStageStatuses(app.store, { imageId: id, owner: 'local' });
    assert.equal(records.upload?.state, 'failed');
    assert.equal(
      records.upload?.error,
      'not queued, the client was told to try again: TransientError: SendMessage resize_queue failed: injected fault',
    );
  });

  it('a 202 means the upload record was written before the resize message was sent', async () => {
    const app = testApp();
    const send = app.queue.send.bind(app.queue);
    const seenAtSend: boolean[] = [];
    app.queue.send = async (queueName, body) => {
      const { image_id } = JSON.parse(body) as { image_id: string };
      seenAtSend.push(await app.store.exists(photoRecordKey('local', image_id)));
      return send(queueName, body);
    };
    const res = await upload(app);
    assert.equal(res.status, 202);
    assert.deepEqual(seenAtSend, [true]);
    assert.equal((await readStageStatuses(app.store, { imageId: res.body.image_id!, owner: 'local' })).upload?.state, 'done');
  });
});
