import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { type ConcurrencyLimit, concurrencyLimit } from '../../src/image/concurrencyLimit';
import { resizeImage } from '../../src/image/resizeImage';
import { lambdaContext, lambdaFunctions, sqsEvent, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

/** A task that runs until the test lets it finish, so the test sees who is running at once. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { done, open };
}

/** A limiter that counts what passes through it and the most it let run at once. */
function counting(inner: ConcurrencyLimit) {
  const seen = { calls: 0, active: 0, most: 0 };
  const limit: ConcurrencyLimit = (run) =>
    inner(async () => {
      seen.calls++;
      seen.most = Math.max(seen.most, ++seen.active);
      try {
        return await run();
      } finally {
        seen.active--;
      }
    });
  return { limit, seen };
}

describe('concurrencyLimit', () => {
  it('runs at most N at a time, the others in the order they came; a failure frees its slot', async () => {
    // Prepare
    const limit = concurrencyLimit(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    // Act
    const runs = gates.map((g, i) =>
      limit(async () => {
        started.push(i);
        await g.done;
        if (i === 0) throw new Error('task 0 failed');
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    const atFirst = [...started];
    gates[0]!.open();
    await assert.rejects(runs[0]!, { message: 'task 0 failed' });
    await new Promise((r) => setImmediate(r));
    const afterFailure = [...started];
    for (const g of gates.slice(1)) g.open();
    // Assess
    assert.deepEqual(atFirst, [0, 1]);
    assert.deepEqual(afterFailure, [0, 1, 2]);
    assert.deepEqual(await Promise.all(runs.slice(1)), [1, 2, 3]);
    assert.deepEqual(started, [0, 1, 2, 3]);
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => concurrencyLimit(bad), {
        name: 'RangeError',
        message: `concurrency limit: expected a whole number >= 1, got ${bad}`,
      });
    }
  });
});

describe("the app's whole-photo limiter", () => {
  it('is made per app, not shared by the module', async () => {
    const a = testApp();
    const b = testApp();
    assert.equal(typeof a.wholePhoto, 'function');
    assert.notEqual(a.wholePhoto, b.wholePhoto);
    await Promise.all([a.close(), b.close()]);
  });

  it('the tag function draws a batch of photos through it: all of them, one at a time under a limit of 1', async () => {
    // Prepare: three tag messages in one SQS batch, the app's limiter replaced by a counting one of 1
    const { limit, seen } = counting(concurrencyLimit(1));
    const app = { ...testApp(), wholePhoto: limit };
    const fn = lambdaFunctions(app);
    const bodies: string[] = [];
    const ids: string[] = [];
    for (const name of ['dog.jpg', 'eagle.jpg', 'horses.jpg']) {
      const id = newImageId();
      const bytes = readFixture(name);
      const { width, height } = await sharp(bytes).metadata();
      await app.store.put(imageKey('original', id), bytes, { contentType: 'image/jpeg' });
      const detections = [{ label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 40, height: 40 } }];
      bodies.push(
        JSON.stringify({ v: 1, image_id: id, original_path: imageKey('original', id), origin_w: width, origin_h: height, detections }),
      );
      ids.push(id);
    }
    // Act
    const res = await fn.tag(sqsEvent('tag_queue', bodies), lambdaContext());
    // Assess
    assert.deepEqual(res, { batchItemFailures: [] });
    assert.deepEqual([seen.calls, seen.most], [3, 1]);
    for (const id of ids) assert.equal(await app.store.exists(imageKey('tagged', id)), true);
    await app.close();
  });

  it('a resize takes a slot for a progressive JPEG (decoded from all its coefficients at once), none for a baseline one', async () => {
    // Prepare: the same photo as a baseline and as a progressive JPEG, and a counting limiter
    const baseline = await sharp(readFixture('dog.jpg')).jpeg({ quality: 90 }).toBuffer();
    const progressive = await sharp(readFixture('dog.jpg')).jpeg({ quality: 90, progressive: true }).toBuffer();
    const { limit, seen } = counting(concurrencyLimit(1));
    const options = { scale: 0.25, quality: 85, limits: loadConfig({}).limits, wholePhoto: limit };
    // Act
    const a = await resizeImage(baseline, options);
    const callsAfterBaseline = seen.calls;
    const b = await resizeImage(progressive, options);
    // Assess: the same output size either way; only the progressive one went through the limit
    assert.deepEqual([a.width, a.height], [b.width, b.height]);
    assert.deepEqual([callsAfterBaseline, seen.calls], [0, 1]);
  });
});
