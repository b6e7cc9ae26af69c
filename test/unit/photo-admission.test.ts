import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { photoAdmission } from '../../scripts/photoAdmission';

/** A task that runs until the test lets it finish. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { done, open };
}

describe('photoAdmission (npm run pipeline: photos in flight)', () => {
  it('lets photos in while both the count and the pixels fit, in the order asked, and the next in as one finishes', async () => {
    // Prepare: room for 3 photos or 10 pixels
    const admit = photoAdmission({ maxPhotos: 3, maxPixels: 10 });
    const running = new Set<string>();
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const photo = (name: string, pixels: number) => {
      const g = gate();
      gates.set(name, g);
      return admit(pixels, async () => {
        running.add(name);
        started.push(name);
        await g.done;
        running.delete(name);
        return name;
      });
    };
    // Act: a 6-pixel photo, a 4-pixel one (10 in all), then three 1-pixel ones
    const all = [photo('a', 6), photo('b', 4), photo('c', 1), photo('d', 1), photo('e', 1)];
    await new Promise((r) => setImmediate(r));
    // Assess: the pixels stop c (and everything after it, in order)
    assert.deepEqual([...running], ['a', 'b']);
    gates.get('a')!.open();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([...running].sort(), ['b', 'c', 'd']); // 4 + 1 + 1 pixels; three photos: e waits on the count
    gates.get('b')!.open();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([...running].sort(), ['c', 'd', 'e']);
    for (const name of ['c', 'd', 'e']) gates.get(name)!.open();
    assert.deepEqual(await Promise.all(all), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
  });

  it('always lets one photo in, however large, and frees its room when it fails', async () => {
    const admit = photoAdmission({ maxPhotos: 2, maxPixels: 10 });
    await assert.rejects(
      admit(50, async () => {
        throw new Error('bad photo');
      }),
      /bad photo/,
    );
    assert.equal(await admit(50, async () => 'next'), 'next');
  });

  it('refuses limits that are not whole numbers >= 1', () => {
    assert.throws(() => photoAdmission({ maxPhotos: 0, maxPixels: 10 }), {
      name: 'RangeError',
      message: 'photo admission: maxPhotos must be a whole number >= 1, got 0',
    });
  });
});
