import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newImageId } from '../../src/domain/imageId';
import { uploadKey } from '../../src/domain/keys';
import type { ObjectStore, PresignedPost } from '../../src/ports/ObjectStore';

/**
 * The presigned POST contract: the same form uploads against every store (the folder store behind
 * the embedded server's POST /bucket in the unit tests, S3ObjectStore on MinIO in the integration
 * tests). The store itself enforces the policy: a file of exactly the signed size is stored; any
 * other size, another content type, another key, or a form once expired is refused and nothing
 * is stored. Statuses and S3 error codes are asserted; the messages are each server's own.
 */
export interface PostPolicyUnderTest {
  store: ObjectStore;
  /**
   * What the store does with a form posted a second time: the folder store refuses it (a form is
   * single-use there: 403), S3 and its kin store it again (the ingest step then ignores it and
   * removes it: src/ingest/ingestUpload.ts).
   */
  replay: 'refused' | 'stored';
  /** The origin a relative form URL is resolved against (the embedded server's own); none for absolute URLs. */
  origin?: string;
  cleanup?: () => Promise<void>;
}

export interface PostAnswer {
  status: number;
  /** The S3 error code of the XML answer (`<Code>`), if any. */
  code?: string;
  message?: string;
  body: string;
}

/** Posts the form as a browser would: every field as given (with overrides), then the file last. */
export async function postForm(
  post: PresignedPost,
  file: Buffer,
  options: { origin?: string; fields?: Record<string, string | undefined>; fileType?: string } = {},
): Promise<PostAnswer> {
  const form = new FormData();
  const fields: Record<string, string | undefined> = { ...post.fields, ...options.fields };
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(file)], { type: options.fileType ?? post.fields['Content-Type'] ?? '' }), 'photo');
  const url = options.origin === undefined ? post.url : new URL(post.url, options.origin).toString();
  const response = await fetch(url, { method: post.method, body: form });
  const body = await response.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return { status: response.status, body, ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
}

export function postPolicyContract(name: string, setUp: () => Promise<PostPolicyUnderTest>): void {
  describe(`presignPost contract: ${name}`, () => {
    let subject: PostPolicyUnderTest;
    let store: ObjectStore;
    const bytes = Buffer.alloc(2000, 7);
    const sign = (key: string, size = bytes.length, expiresInSeconds = 60) =>
      store.presignPost(key, { contentType: 'image/jpeg', size, expiresInSeconds });
    const post = (form: PresignedPost, file: Buffer, options: Parameters<typeof postForm>[2] = {}) =>
      postForm(form, file, { ...(subject.origin !== undefined ? { origin: subject.origin } : {}), ...options });

    before(async () => {
      subject = await setUp();
      store = subject.store;
    });
    after(async () => {
      await subject?.cleanup?.();
    });

    it('a POST within the policy stores the object with its content type; the form says how to send it', async () => {
      // Prepare
      const key = uploadKey(newImageId(), 'jpg');
      const before = Date.now();
      const form = await sign(key, bytes.length, 120);
      // Act
      const answer = await post(form, bytes);
      // Assess
      assert.equal(form.method, 'POST');
      assert.equal(form.fields.key, key);
      assert.equal(form.fields['Content-Type'], 'image/jpeg');
      const expires = Date.parse(form.expires_at);
      assert.ok(expires >= before + 119_000 && expires <= Date.now() + 121_000, `expires_at ${form.expires_at}`);
      assert.ok([200, 201, 204].includes(answer.status), `expected a 2xx, got ${answer.status}: ${answer.body}`);
      const stored = await store.get(key);
      assert.deepEqual(stored.body, bytes);
      assert.equal(stored.contentType, 'image/jpeg');
    });

    it('refuses a file one byte over the declared size (400 EntityTooLarge) and stores nothing', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const answer = await post(await sign(key, bytes.length - 1), bytes);
      assert.equal(answer.status, 400, answer.body);
      assert.equal(answer.code, 'EntityTooLarge');
      assert.equal(await store.exists(key), false);
    });

    it('refuses a file one byte under the declared size (400 EntityTooSmall) and stores nothing', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const answer = await post(await sign(key, bytes.length + 1), bytes);
      assert.equal(answer.status, 400, answer.body);
      assert.equal(answer.code, 'EntityTooSmall');
      assert.equal(await store.exists(key), false);
    });

    it('refuses an empty file (400 EntityTooSmall) and stores nothing', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const answer = await post(await sign(key), Buffer.alloc(0));
      assert.equal(answer.status, 400, answer.body);
      assert.equal(answer.code, 'EntityTooSmall');
      assert.equal(await store.exists(key), false);
    });

    it('refuses another content type (403) and stores nothing', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const answer = await post(await sign(key), bytes, { fields: { 'Content-Type': 'text/html' }, fileType: 'text/html' });
      assert.equal(answer.status, 403, answer.body);
      assert.equal(answer.code, 'AccessDenied');
      assert.equal(await store.exists(key), false);
    });

    it('refuses a form without the content type (403) and stores nothing', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const answer = await post(await sign(key), bytes, { fields: { 'Content-Type': undefined } });
      assert.equal(answer.status, 403, answer.body);
      assert.equal(await store.exists(key), false);
    });

    it('refuses another key (403) and stores nothing under either key', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const other = uploadKey(newImageId(), 'jpg');
      const answer = await post(await sign(key), bytes, { fields: { key: other } });
      assert.equal(answer.status, 403, answer.body);
      assert.equal(answer.code, 'AccessDenied');
      assert.equal(await store.exists(other), false);
      assert.equal(await store.exists(key), false);
    });

    it("refuses one form's fields with another's policy (403: the signature covers the policy)", async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const roomy = await sign(uploadKey(newImageId(), 'jpg'), bytes.length);
      const tight = await sign(key, 10);
      const policyField = Object.keys(tight.fields).find((f) => f.toLowerCase() === 'policy')!;
      const answer = await post(tight, bytes, { fields: { [policyField]: roomy.fields[policyField] } });
      assert.equal(answer.status, 403, answer.body);
      assert.equal(await store.exists(key), false);
    });

    it('refuses an expired policy (403) and stores nothing', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const form = await sign(key, bytes.length, 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const answer = await post(form, bytes);
      assert.equal(answer.status, 403, answer.body);
      assert.equal(answer.code, 'AccessDenied');
      assert.equal(await store.exists(key), false);
    });

    it('a form posted again: refused by a store that makes forms single-use, stored again by S3 and its kin', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      const form = await sign(key);
      const first = await post(form, bytes);
      assert.ok(first.status >= 200 && first.status < 300, `${first.status}: ${first.body}`);
      const other = Buffer.alloc(bytes.length, 9);
      const again = await post(form, other);
      if (subject.replay === 'refused') {
        assert.equal(again.status, 403, again.body);
        assert.equal(again.code, 'AccessDenied');
        assert.deepEqual((await store.get(key)).body, bytes, 'the first bytes stay');
      } else {
        assert.ok(again.status >= 200 && again.status < 300, `${again.status}: ${again.body}`);
        assert.deepEqual((await store.get(key)).body, other);
      }
    });

    it('refuses options that make no policy, and unsafe keys', async () => {
      const key = uploadKey(newImageId(), 'jpg');
      await assert.rejects(store.presignPost(key, { contentType: 'image/jpeg', size: 0, expiresInSeconds: 60 }), {
        name: 'InvalidInputError',
        message: 'presignPost size: expected a whole number of bytes from 1, got 0',
      });
      await assert.rejects(store.presignPost(key, { contentType: 'jpeg', size: 10, expiresInSeconds: 60 }), {
        message: 'presignPost contentType: expected a media type such as image/jpeg, got "jpeg"',
      });
      await assert.rejects(store.presignPost(key, { contentType: 'image/jpeg', size: 10, expiresInSeconds: 604_801 }), {
        message: 'presignPost expiresInSeconds: expected a whole number from 1 to 604800, got 604801',
      });
      await assert.rejects(store.presignPost('uploads/../x.jpg', { contentType: 'image/jpeg', size: 10, expiresInSeconds: 60 }), {
        name: 'UnsafeKeyError',
      });
    });
  });
}
