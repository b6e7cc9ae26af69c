// S3ObjectStore.presignPost against a real S3-compatible server: the POST policy the store hands out
// (POST /uploads) is enforced by the server itself, as it is by S3 — the same contract the folder
// store meets behind the embedded POST /bucket (test/unit/bucket-post.test.ts).
// Run: node --import tsx --test test/integration/presigned-post.test.ts
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type LocalS3Server, startMinio } from '../../scripts/servers/local-servers';
import { newImageId } from '../../src/domain/imageId';
import { uploadKey } from '../../src/domain/keys';
import { provisionBucket } from '../../src/ports/provisionBucket';
import { postForm, postPolicyContract } from '../helpers/postPolicyContract';
import { s3StoreOn } from '../helpers/s3Store';

let minio: LocalS3Server | undefined;
const startOnce = async () => {
  minio ??= await startMinio();
  return minio;
};
after(async () => {
  await minio?.stop();
});

postPolicyContract('S3ObjectStore on MinIO', async () => {
  const server = await startOnce();
  const store = s3StoreOn(server, `post-${process.pid}-${Date.now().toString(36)}`);
  await provisionBucket(store);
  return { store, replay: 'stored' };
});

describe('S3ObjectStore.presignPost specifics on MinIO', () => {
  it('signs an absolute path-style URL of the bucket, with SigV4 fields and no secret in them', async () => {
    const server = await startOnce();
    const bucket = `post-url-${process.pid}-${Date.now().toString(36)}`;
    const store = s3StoreOn(server, bucket);
    await provisionBucket(store);
    const key = uploadKey(newImageId(), 'jpg');
    const form = await store.presignPost(key, { contentType: 'image/jpeg', size: 1000, expiresInSeconds: 60 });
    assert.equal(form.url, `${server.endpoint}/${bucket}`);
    assert.deepEqual(Object.keys(form.fields).sort(), [
      'Content-Type',
      'Policy',
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Signature',
      'bucket',
      'key',
    ]);
    assert.ok(!JSON.stringify(form).includes(server.secretAccessKey), 'the secret key is in the form');
    const policy = JSON.parse(Buffer.from(form.fields.Policy!, 'base64').toString('utf8')) as { conditions: unknown[] };
    assert.deepEqual(policy.conditions, [
      ['eq', '$Content-Type', 'image/jpeg'],
      ['content-length-range', 1000, 1000],
      { 'Content-Type': 'image/jpeg' },
      { bucket },
      { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
      { 'X-Amz-Credential': form.fields['X-Amz-Credential'] },
      { 'X-Amz-Date': form.fields['X-Amz-Date'] },
      { key },
    ]);
    // A 5 MB photo goes in whole with a form for its size.
    const bytes = Buffer.alloc(5 * 1024 * 1024);
    const big = await store.presignPost(uploadKey(newImageId(), 'jpg'), {
      contentType: 'image/jpeg',
      size: bytes.length,
      expiresInSeconds: 60,
    });
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
    const answer = await postForm(big, bytes);
    assert.equal(answer.status, 204, answer.body);
    assert.ok((await store.get(big.fields.key!)).body.equals(bytes));
  });

  it("lets a page on another origin post the form and read the answer (the gallery on serverless offline's port): CORS", async () => {
    const server = await startOnce();
    const store = s3StoreOn(server, `post-cors-${process.pid}-${Date.now().toString(36)}`);
    await provisionBucket(store);
    const form = await store.presignPost(uploadKey(newImageId(), 'jpg'), {
      contentType: 'image/jpeg',
      size: 10,
      expiresInSeconds: 60,
    });
    const origin = 'http://127.0.0.1:3000';
    const preflight = await fetch(form.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    const body = new FormData();
    for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
    body.append('file', new Blob([new Uint8Array(10)]), 'x.jpg');
    const res = await fetch(form.url, { method: 'POST', body, headers: { origin } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });
});
