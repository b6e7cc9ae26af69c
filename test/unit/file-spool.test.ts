import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { FileSpool } from '../../src/runtime/fileSpool';

const dirOf = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'spool-test-')), 'spool');

describe('FileSpool (the embedded server spools POST /upload bodies to disk)', () => {
  it('keeps a photo in a file while it waits, hands its bytes to `use`, and removes the file on discard', async () => {
    const dir = dirOf();
    const spool = await FileSpool.open(dir);
    const bytes = Buffer.from('a photo, as it arrived');
    const file = await spool.take(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)], { objectMode: false }));
    assert.equal(file.size, bytes.length);
    assert.equal(readdirSync(dir).length, 1, 'one file while it waits');
    assert.deepEqual(await file.use(async (b) => Buffer.from(b)), bytes);
    await file.discard();
    await file.discard();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('keeps nothing of a body that fails or is cut short, and empties what a crash left when it opens', async () => {
    const dir = dirOf();
    const spool = await FileSpool.open(dir);
    const cut = new PassThrough();
    const taking = spool.take(cut);
    cut.write(Buffer.alloc(1000));
    cut.destroy(new Error('the client went away'));
    await assert.rejects(taking, { message: 'the client went away' });
    assert.deepEqual(readdirSync(dir), []);
    writeFileSync(path.join(dir, 'left-by-a-crash.part'), 'x');
    await FileSpool.open(dir);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('reads back at most `readers` photos at once, into buffers it reuses', async () => {
    const spool = await FileSpool.open(dirOf(), 1);
    const files = await Promise.all(
      ['one', 'two two', 'three'].map((t) => spool.take(Readable.from([Buffer.from(t)], { objectMode: false }))),
    );
    let active = 0;
    let most = 0;
    const seen: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    await Promise.all(
      files.map((f) =>
        f.use(async (b) => {
          most = Math.max(most, ++active);
          buffers.add(b.buffer);
          await new Promise((r) => setImmediate(r));
          seen.push(b.toString());
          active--;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.deepEqual(seen.sort(), ['one', 'three', 'two two']);
    assert.ok(buffers.size <= 2, `a buffer is reused (grown once for a larger photo): ${buffers.size}`);
  });
});
