import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newImageId } from '../../src/domain/imageId';
import { imageKey, uploadKey } from '../../src/domain/keys';
import { ObjectChangedError, ObjectNotFoundError } from '../../src/errors';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import { UnsafeKeyError } from '../../src/ports/safeKey';

/**
 * The ObjectStore contract: the same assertions against every adapter (the folder store in the unit
 * tests, S3ObjectStore on MinIO and on the Versity gateway in the integration tests), so a stage
 * that works on one works on all.
 */
export interface ObjectStoreUnderTest {
  store: ObjectStore;
  /** Whether presignGet must return a URL that global fetch can GET. */
  presigns: boolean;
  /** What a relative presigned URL is resolved against (the folder store's: the embedded server serving GET /bucket/<key>). */
  presignBase?: string;
  /**
   * Whether the server makes a conditional write (If-None-Match: *) atomic, so that of concurrent
   * writers exactly one wins (S3, MinIO, the folder store). Default true. Where it does not, only
   * what holds anyway is asserted: some writer wins, and the object is the bytes of one that did.
   */
  atomicPutIfAbsent?: boolean;
  /** Called once after the suite (stop servers, remove folders). */
  cleanup?: () => Promise<void>;
}

/** Keys that must be refused, with the exact message each gives. */
export const UNSAFE_KEYS: ReadonlyArray<[key: string, message: string]> = [
  ['../x', 'unsafe object key "../x": ".." segments are not allowed'],
  ['/etc/passwd', 'unsafe object key "/etc/passwd": expected a relative key, not one starting with "/"'],
  ['original/..%2f', 'unsafe object key "original/..%2f": only the characters A-Z a-z 0-9 . _ - / are allowed'],
  ['a\\b', 'unsafe object key "a\\\\b": backslashes are not allowed'],
  ['original/x\0.jpg', 'unsafe object key "original/x\\u0000.jpg": NUL characters are not allowed'],
  ['original/../../etc/passwd', 'unsafe object key "original/../../etc/passwd": ".." segments are not allowed'],
  ['original/./x.jpg', 'unsafe object key "original/./x.jpg": segments must not start with "."'],
  ['original//x.jpg', 'unsafe object key "original//x.jpg": empty segments ("//" or a trailing "/") are not allowed'],
  ['', 'unsafe object key "": expected a non-empty key'],
];

export function objectStoreContract(name: string, setUp: () => Promise<ObjectStoreUnderTest>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ObjectStoreUnderTest;
    let store: ObjectStore;
    // Every run uses fresh ids, so a reused bucket or folder cannot make a test pass by accident.
    const run = newImageId();

    before(async () => {
      subject = await setUp();
      store = subject.store;
    });
    after(async () => {
      await subject?.cleanup?.();
    });

    it('round-trips bytes and the content type', async () => {
      // Prepare
      const key = imageKey('original', newImageId());
      const body = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02, 0xfe, 0xff, 0xd9]);
      // Act
      await store.put(key, body, { contentType: 'image/jpeg' });
      const got = await store.get(key);
      // Assess
      assert.deepEqual(got.body, body);
      assert.equal(got.contentType, 'image/jpeg');
    });

    it('overwrites an object, and writing the same bytes twice is harmless', async () => {
      const key = imageKey('resized', newImageId());
      await store.put(key, Buffer.from('first'), { contentType: 'image/jpeg' });
      await store.put(key, Buffer.from('second'), { contentType: 'image/jpeg' });
      await store.put(key, Buffer.from('second'), { contentType: 'image/jpeg' });
      assert.equal((await store.get(key)).body.toString(), 'second');
    });

    it('keeps a content type that differs from the extension', async () => {
      const key = `status/${run}/odd.bin`;
      await store.put(key, Buffer.from('{}'), { contentType: 'application/json' });
      assert.equal((await store.get(key)).contentType, 'application/json');
    });

    it('stores an empty object', async () => {
      const key = `status/${run}/empty.json`;
      await store.put(key, Buffer.alloc(0), { contentType: 'application/json' });
      const got = await store.get(key);
      assert.equal(got.body.length, 0);
      assert.equal(await store.exists(key), true);
    });

    it('stores a 3 MB object intact', async () => {
      const key = imageKey('original', newImageId(), 'png');
      const body = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < body.length; i += 1) body[i] = (i * 31 + (i >> 8)) & 0xff;
      await store.put(key, body, { contentType: 'image/png' });
      const got = await store.get(key);
      assert.equal(got.body.length, body.length);
      assert.ok(got.body.equals(body), 'bytes differ');
    });

    it('says whether an object exists', async () => {
      const key = imageKey('grayscale', newImageId());
      assert.equal(await store.exists(key), false);
      await store.put(key, Buffer.from('x'), { contentType: 'image/jpeg' });
      assert.equal(await store.exists(key), true);
    });

    it('does not treat a prefix of keys as an object', async () => {
      const id = newImageId();
      await store.put(`status/${id}/resize.json`, Buffer.from('{}'), { contentType: 'application/json' });
      assert.equal(await store.exists(`status/${id}`), false);
      await assert.rejects(store.get(`status/${id}`), ObjectNotFoundError);
    });

    it('throws ObjectNotFoundError with the key for a missing object', async () => {
      const key = imageKey('tagged', newImageId());
      await assert.rejects(store.get(key), (error: unknown) => {
        assert.ok(error instanceof ObjectNotFoundError, `expected ObjectNotFoundError, got ${String(error)}`);
        assert.equal(error.message, `object not found: ${key}`);
        assert.equal(error.key, key);
        assert.equal(error.retryable, true); // an object not (yet) there: retried, the redrive policy decides
        return true;
      });
    });

    it('head gives the size and content type without the bytes, and undefined for a missing object', async () => {
      const key = uploadKey(newImageId(), 'png');
      await store.put(key, Buffer.alloc(1234, 7), { contentType: 'image/png' });
      assert.deepEqual(await store.head(key), { size: 1234, contentType: 'image/png' });
      assert.equal(await store.head(uploadKey(newImageId(), 'png')), undefined);
      // A prefix of keys is no object.
      assert.equal(await store.head('uploads'), undefined);
    });

    it('keeps user metadata with an object, gives it back with head, and a rewrite replaces it', async () => {
      // Prepare: what a stage writes with its image (src/status/outputRecord.ts).
      const key = imageKey('resized', newImageId());
      const metadata = { 'started-at': '2026-01-02T03:04:05.678Z', 'duration-ms': '12', attempt: '2' };
      // Act
      await store.put(key, Buffer.from('first'), { contentType: 'image/jpeg', metadata });
      const head = await store.head(key);
      // Assess: head gives it back; the bytes are the bytes.
      assert.deepEqual(head, { size: 5, contentType: 'image/jpeg', metadata });
      assert.equal((await store.get(key)).body.toString(), 'first');
      // Written again without it: none is kept; with other metadata: only that.
      await store.put(key, Buffer.from('second'), { contentType: 'image/jpeg' });
      assert.deepEqual(await store.head(key), { size: 6, contentType: 'image/jpeg' });
      await store.put(key, Buffer.from('third'), { contentType: 'image/jpeg', metadata: { attempt: '3' } });
      assert.deepEqual((await store.head(key))?.metadata, { attempt: '3' });
      // Deleted and written again: nothing of the old metadata comes back.
      await store.delete(key);
      await store.put(key, Buffer.from('fourth'), { contentType: 'image/jpeg' });
      assert.equal((await store.head(key))?.metadata, undefined);
      // putIfAbsent keeps it too.
      const claimed = imageKey('tagged', newImageId());
      assert.equal(await store.putIfAbsent(claimed, Buffer.from('x'), { contentType: 'image/jpeg', metadata: { attempt: '1' } }), true);
      assert.deepEqual((await store.head(claimed))?.metadata, { attempt: '1' });
    });

    it('refuses metadata no store could keep (names, values, size), writing nothing', async () => {
      const key = imageKey('grayscale', newImageId());
      for (const [metadata, message] of [
        [{ Attempt: '1' }, /expected names of lower-case letters, digits and "-", got "Attempt"/],
        [{ note: 'café' }, /expected the value of note to be at most 256 printable ASCII characters/],
        [
          Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`n${i}`, 'v'.repeat(250)])),
          /expected at most 2048 bytes in all, got 2268/,
        ],
      ] as const) {
        await assert.rejects(store.put(key, Buffer.from('x'), { metadata }), message);
      }
      assert.equal(await store.exists(key), false);
    });

    it('a copy keeps the source metadata, unless a new content type replaces it', async () => {
      const from = imageKey('resized', newImageId());
      await store.put(from, Buffer.from('x'), { contentType: 'image/jpeg', metadata: { attempt: '1' } });
      const kept = imageKey('grayscale', newImageId());
      const replaced = imageKey('tagged', newImageId());
      await store.copy(from, kept);
      await store.copy(from, replaced, { contentType: 'image/jpeg' });
      assert.deepEqual((await store.head(kept))?.metadata, { attempt: '1' });
      assert.equal((await store.head(replaced))?.metadata, undefined);
    });

    it('putIfAbsent writes once: true for the write, false when an object is there, and the first bytes stay', async () => {
      const key = `status/${newImageId()}/upload.json`;
      assert.equal(await store.putIfAbsent(key, Buffer.from('{"n":1}'), { contentType: 'application/json' }), true);
      assert.equal(await store.putIfAbsent(key, Buffer.from('{"n":2}'), { contentType: 'application/json' }), false);
      const got = await store.get(key);
      assert.equal(got.body.toString(), '{"n":1}');
      assert.equal(got.contentType, 'application/json');
      // An object written by put counts as there too.
      const other = `status/${newImageId()}/upload.json`;
      await store.put(other, Buffer.from('{}'), { contentType: 'application/json' });
      assert.equal(await store.putIfAbsent(other, Buffer.from('{"late":true}')), false);
      assert.equal((await store.get(other)).body.toString(), '{}');
    });

    it('putIfAbsent: of 8 concurrent writers exactly one wins, and the object is its bytes', async () => {
      const key = `status/${newImageId()}/upload.json`;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.putIfAbsent(key, Buffer.from(JSON.stringify({ writer: i })), { contentType: 'application/json' }),
        ),
      );
      const stored = JSON.parse((await store.get(key)).body.toString()) as { writer: number };
      if (subject.atomicPutIfAbsent ?? true) {
        assert.equal(results.filter(Boolean).length, 1, `winners: ${JSON.stringify(results)}`);
        assert.deepEqual(stored, { writer: results.indexOf(true) });
      } else {
        assert.ok(results.some(Boolean), `winners: ${JSON.stringify(results)}`);
        assert.equal(results[stored.writer], true, `the object is a winner's bytes: ${JSON.stringify({ stored, results })}`);
      }
    });

    it('copies an object inside the store, with its content type or the one given, overwriting the target', async () => {
      const id = newImageId();
      const from = uploadKey(id, 'png');
      const body = Buffer.alloc(200_000);
      for (let i = 0; i < body.length; i += 1) body[i] = (i * 7) & 0xff;
      await store.put(from, body, { contentType: 'image/png' });
      const to = imageKey('original', id, 'png');
      await store.put(to, Buffer.from('old'), { contentType: 'image/png' });
      // Act
      await store.copy(from, to);
      const other = imageKey('original', newImageId(), 'jpg');
      await store.copy(from, other, { contentType: 'image/jpeg' });
      // Assess: the copies are the bytes; the source is still there.
      const got = await store.get(to);
      assert.ok(got.body.equals(body), 'copied bytes differ');
      assert.equal(got.contentType, 'image/png');
      assert.equal((await store.get(other)).contentType, 'image/jpeg');
      assert.ok((await store.get(from)).body.equals(body));
    });

    it('get gives the version of the bytes it read: the same until the object is written again', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      await store.put(key, Buffer.from('first'), { contentType: 'image/jpeg' });
      const a = await store.get(key);
      const b = await store.get(key);
      assert.ok(a.etag, 'an etag');
      assert.equal(b.etag, a.etag);
      await store.put(key, Buffer.from('second'), { contentType: 'image/jpeg' });
      assert.notEqual((await store.get(key)).etag, a.etag);
    });

    it('copy with ifMatch copies exactly the version read, and nothing once another has replaced it (ObjectChangedError)', async () => {
      // Prepare: the checked bytes and their version, then a replay over the same key.
      const id = newImageId();
      const from = uploadKey(id, 'jpg');
      const checked = Buffer.alloc(100_000, 1);
      await store.put(from, checked, { contentType: 'image/jpeg' });
      const read = await store.get(from);
      const to = imageKey('original', id);
      // Act + Assess: while it is still that version, the copy is those bytes.
      await store.copy(from, to, { contentType: 'image/jpeg', ifMatch: read.etag! });
      assert.ok((await store.get(to)).body.equals(checked));
      // Another object replaces the source: the conditional copy copies nothing.
      await store.delete(to);
      await store.put(from, Buffer.alloc(100_000, 2), { contentType: 'image/jpeg' });
      await assert.rejects(store.copy(from, to, { contentType: 'image/jpeg', ifMatch: read.etag! }), (error: unknown) => {
        assert.ok(error instanceof ObjectChangedError, `expected ObjectChangedError, got ${String(error)}`);
        assert.equal(error.key, from);
        return true;
      });
      assert.equal(await store.exists(to), false);
    });

    it('copy of a missing object throws ObjectNotFoundError with the source key', async () => {
      const from = uploadKey(newImageId(), 'jpg');
      const to = imageKey('original', newImageId());
      await assert.rejects(store.copy(from, to), (error: unknown) => {
        assert.ok(error instanceof ObjectNotFoundError, `expected ObjectNotFoundError, got ${String(error)}`);
        assert.equal(error.key, from);
        return true;
      });
      assert.equal(await store.exists(to), false);
    });

    it('deletes an object (and deleting a missing one is no error)', async () => {
      const key = uploadKey(newImageId(), 'webp');
      await store.put(key, Buffer.from('x'), { contentType: 'application/octet-stream' });
      await store.delete(key);
      assert.equal(await store.exists(key), false);
      await store.delete(key);
      // Written again after a delete: the old content type is gone with it.
      await store.put(key, Buffer.from('y'));
      assert.equal((await store.get(key)).body.toString(), 'y');
      assert.equal(await store.putIfAbsent(key, Buffer.from('z')), false);
      await store.delete(key);
      assert.equal(await store.putIfAbsent(key, Buffer.from('z')), true);
    });

    it('lists keys under a prefix in lexical order, across folders and partial segments', async () => {
      // Prepare: ids made out of order, under a prefix no other test uses.
      const ids = ['c', 'a', 'b'].map((s) => `${run}-${s}`);
      for (const id of ids) await store.put(`status/${id}/resize.json`, Buffer.from('{}'), { contentType: 'application/json' });
      await store.put(`status/${ids[0]}/detect.json`, Buffer.from('{}'), { contentType: 'application/json' });
      // Act
      const all = await store.list(`status/${run}-`);
      const one = await store.list(`status/${run}-c/`);
      const partial = await store.list(`status/${run}-c/de`);
      const none = await store.list(`status/${run}-zzz`);
      // Assess
      assert.deepEqual(all, [
        `status/${run}-a/resize.json`,
        `status/${run}-b/resize.json`,
        `status/${run}-c/detect.json`,
        `status/${run}-c/resize.json`,
      ]);
      assert.deepEqual(one, [`status/${run}-c/detect.json`, `status/${run}-c/resize.json`]);
      assert.deepEqual(partial, [`status/${run}-c/detect.json`]);
      assert.deepEqual(none, []);
    });

    it('lists more keys than one page holds', async () => {
      const prefix = `status/${run}-many/`;
      const expected: string[] = [];
      for (let i = 0; i < 7; i += 1) expected.push(`${prefix}${String(i).padStart(2, '0')}.json`);
      await Promise.all(expected.map((k) => store.put(k, Buffer.from('{}'), { contentType: 'application/json' })));
      assert.deepEqual(await store.list(prefix), expected);
    });

    it('lists one page at a time: keys after startAfter, at most maxKeys, walking every key once', async () => {
      // Prepare: 8 keys (more than the S3 adapters' test page size of 3, so a page crosses requests).
      const prefix = `status/${run}-pages/`;
      const expected: string[] = [];
      for (let i = 0; i < 8; i += 1) expected.push(`${prefix}${String(i).padStart(2, '0')}.json`);
      await Promise.all(expected.map((k) => store.put(k, Buffer.from('{}'), { contentType: 'application/json' })));
      // Act: pages of 3, each after the last key of the one before; then pages of 1.
      const walk = async (size: number) => {
        const seen: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.list(prefix, { maxKeys: size, ...(after !== undefined ? { startAfter: after } : {}) });
          if (page.length === 0) break;
          seen.push(page);
          after = page[page.length - 1];
        }
        return seen;
      };
      const threes = await walk(3);
      const ones = await walk(1);
      // Assess
      assert.deepEqual(threes, [expected.slice(0, 3), expected.slice(3, 6), expected.slice(6)]);
      assert.deepEqual(ones.flat(), expected);
      assert.equal(ones.length, 8);
      // startAfter need not be a key: here it falls between 03 and 04.
      assert.deepEqual(await store.list(prefix, { startAfter: `${prefix}03.json-`, maxKeys: 2 }), expected.slice(4, 6));
      // Before the prefix: from its first key; after all of them: nothing; more than there are: all.
      assert.deepEqual(await store.list(prefix, { startAfter: 'status/', maxKeys: 1 }), expected.slice(0, 1));
      assert.deepEqual(await store.list(prefix, { startAfter: `${prefix}zz` }), []);
      assert.deepEqual(await store.list(prefix, { maxKeys: 1000 }), expected);
    });

    it('refuses a listing page that is not one', async () => {
      await assert.rejects(store.list('status/', { maxKeys: 0 }), {
        name: 'InvalidInputError',
        message: 'list maxKeys: expected a whole number from 1, got 0',
      });
      await assert.rejects(store.list('status/', { maxKeys: 1.5 }), { message: 'list maxKeys: expected a whole number from 1, got 1.5' });
      await assert.rejects(store.list('status/', { startAfter: 'status/../x' }), {
        name: 'UnsafeKeyError',
        message: 'unsafe object key "status/../x": ".." segments are not allowed',
      });
    });

    for (const [key, message] of UNSAFE_KEYS) {
      it(`refuses the unsafe key ${JSON.stringify(key)} in every operation`, async () => {
        const check = (error: unknown) => {
          assert.ok(error instanceof UnsafeKeyError, `expected UnsafeKeyError, got ${String(error)}`);
          assert.equal(error.message, message);
          assert.equal(error.retryable, false);
          return true;
        };
        await assert.rejects(store.put(key, Buffer.from('x')), check);
        await assert.rejects(store.get(key), check);
        await assert.rejects(store.exists(key), check);
        await assert.rejects(store.head(key), check);
        await assert.rejects(store.putIfAbsent(key, Buffer.from('x')), check);
        await assert.rejects(store.delete(key), check);
        await assert.rejects(store.copy(key, 'uploads/x.jpg'), check);
        await assert.rejects(store.copy('uploads/x.jpg', key), check);
        if (store.presignGet) await assert.rejects(store.presignGet(key, 60), check);
      });
    }

    it('refuses an unsafe listing prefix', async () => {
      await assert.rejects(store.list('../'), {
        name: 'UnsafeKeyError',
        message: 'unsafe object key "../": ".." segments are not allowed',
      });
    });

    it(subjectPresignsTitle(), async () => {
      const key = imageKey('tagged', newImageId());
      const body = Buffer.from('presigned bytes \x00\x01\x02');
      await store.put(key, body, { contentType: 'image/jpeg' });
      const url = await store.presignGet?.(key, 60);
      if (!subject.presigns) {
        assert.equal(url, undefined);
        return;
      }
      assert.ok(url, 'expected a URL');
      const response = await fetch(new URL(url, subject.presignBase));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);
      // The signature covers the key: the same URL for another key is refused.
      const tampered = url.replace(key, imageKey('tagged', newImageId()));
      const refused = await fetch(new URL(tampered, subject.presignBase));
      assert.equal(refused.status, 403);
      await refused.body?.cancel();
    });
  });
}

function subjectPresignsTitle(): string {
  return 'presignGet gives a URL that fetch can GET, for that key only';
}
