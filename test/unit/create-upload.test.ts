import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { App } from '../../src/app/createApp';
import { LAMBDA_DIRECT_UPLOAD_BYTES, loadConfig } from '../../src/config';
import { IMAGE_ID_PATTERN } from '../../src/domain/imageId';
import { parseUploadKey } from '../../src/domain/keys';
import { startEmbedded } from '../../src/runtime/startEmbedded';
import { apiKeysEnv, httpApiEvent, lambdaContext, lambdaFunctions, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';
import { postForm } from '../helpers/postPolicyContract';

interface Created {
  image_id: string;
  upload: { url: string; method: string; fields: Record<string, string>; expires_at: string };
  status_url: string;
}

function createUpload(app: ReturnType<typeof testApp>, body: unknown, headers: Record<string, string> = { host: 'localhost:3000' }) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return lambdaFunctions(app).upload(
    httpApiEvent({ path: '/uploads', body: Buffer.from(raw), contentType: 'application/json', headers }),
    lambdaContext(),
  );
}

describe('POST /uploads (a form straight to the bucket)', () => {
  it('answers 201 with the new id, a form for uploads/<owner>/<id>.<ext> on this server, its expiry and the status URL; stores nothing', async () => {
    // Prepare
    const app = testApp({ env: { PUBLIC_URL: 'http://localhost:3000' } });
    const before = Date.now();
    // Act
    const res = await createUpload(app, { content_type: 'image/png', size: 12_000_000, file_name: 'holiday.png' });
    // Assess
    assert.equal(res.statusCode, 201, res.body);
    const created = JSON.parse(res.body) as Created;
    assert.match(created.image_id, IMAGE_ID_PATTERN);
    assert.equal(created.status_url, `/images/${created.image_id}`);
    assert.equal(res.headers?.location, created.status_url);
    assert.equal(created.upload.url, 'http://localhost:3000/bucket');
    assert.equal(created.upload.method, 'POST');
    // The key names its owner (AUTH=none's `local`, in base32): the form binds it.
    assert.equal(created.upload.fields.key, `uploads/nrxwgylm/${created.image_id}.png`);
    assert.deepEqual(parseUploadKey(created.upload.fields.key!), { imageId: created.image_id, ext: 'png', owner: 'local' });
    assert.equal(created.upload.fields['Content-Type'], 'image/png');
    // The form binds exactly the size declared, not 1 byte to MAX_BUCKET_UPLOAD_BYTES.
    const policy = JSON.parse(Buffer.from(created.upload.fields.policy!, 'base64').toString('utf8')) as { conditions: unknown[] };
    assert.deepEqual(policy.conditions[2], ['content-length-range', 12_000_000, 12_000_000]);
    const expires = Date.parse(created.upload.expires_at);
    assert.ok(expires >= before + 899_000 && expires <= Date.now() + 900_000, created.upload.expires_at);
    assert.deepEqual(await app.store.list('uploads/'), []);
    assert.deepEqual(await app.store.list('original/'), []);
    // The fields are a bearer secret: never logged.
    assert.ok(!JSON.stringify(app.logs).includes(created.upload.fields['x-signature']!), 'the signature was logged');
    assert.ok(app.logs.some((l) => l.message === 'upload form signed' && l.file_name === 'holiday.png'));
  });

  it('takes the content type in any case; the form goes under PUBLIC_URL (its path kept), whatever Host or a proxy header says', async () => {
    const hostile = {
      host: 'evil.example',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'evil.example',
      forwarded: 'host=evil.example',
    };
    const app = testApp({ env: { PUBLIC_URL: 'https://photos.example/pipeline/' } });
    const res = await createUpload(app, { content_type: 'IMAGE/JPEG', size: 1 }, hostile);
    const created = JSON.parse(res.body) as Created;
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(created.upload.url, 'https://photos.example/pipeline/bucket');
    assert.equal(created.upload.fields['Content-Type'], 'image/jpeg');
    assert.match(created.upload.fields.key!, /\.jpg$/);
    // Without PUBLIC_URL, a function (no server of its own) leaves the folder store's path as it is.
    const bare = JSON.parse((await createUpload(testApp(), { content_type: 'image/jpeg', size: 1 }, hostile)).body) as Created;
    assert.equal(bare.upload.url, '/bucket');
  });

  it('takes HEIC as image/heic, image/heif, or application/octet-stream named .heic/.heif (what browsers send for it): a .heic key, typed image/heic', async () => {
    for (const body of [
      { content_type: 'image/heic', size: 10 },
      { content_type: 'image/heif', size: 10 },
      { content_type: 'application/octet-stream', size: 10, file_name: 'IMG_0001.HEIC' },
      { content_type: 'application/octet-stream', size: 10, file_name: 'photo.heif' },
    ]) {
      const res = await createUpload(testApp(), body);
      const created = JSON.parse(res.body) as Created;
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(created.upload.fields['Content-Type'], 'image/heic', JSON.stringify(body));
      assert.match(created.upload.fields.key!, /^uploads\/nrxwgylm\/[0-9a-f-]{36}\.heic$/);
    }
  });

  const example = '{"content_type": "image/jpeg", "size": 5242880, "file_name": "photo.jpg"}';
  const refusals: Array<[string, unknown, number, string, string]> = [
    ['bad JSON', '{"content_type": ', 400, 'invalid_json', `expected a JSON body such as ${example}, got Unexpected end of JSON input`],
    ['an empty body', '', 400, 'invalid_json', `expected a JSON body such as ${example}, got an empty body`],
    ['an array', [1], 400, 'invalid_request', `expected ${example} (file_name optional); expected a JSON object, got [1]`],
    [
      'no size',
      { content_type: 'image/jpeg' },
      400,
      'invalid_request',
      `expected ${example} (file_name optional); size: expected a whole number of bytes, got nothing`,
    ],
    [
      'a size in a string',
      { content_type: 'image/jpeg', size: '12' },
      400,
      'invalid_request',
      `expected ${example} (file_name optional); size: expected a whole number of bytes, got "12"`,
    ],
    [
      'a size of 0',
      { content_type: 'image/jpeg', size: 0 },
      400,
      'invalid_request',
      `expected ${example} (file_name optional); size: expected at least 1 byte, got 0`,
    ],
    [
      'an unknown field',
      { content_type: 'image/jpeg', size: 10, key: 'original/x.jpg' },
      400,
      'invalid_request',
      `expected ${example} (file_name optional); Unrecognized key: "key"`,
    ],
    [
      'a size over MAX_BUCKET_UPLOAD_BYTES',
      { content_type: 'image/jpeg', size: 52_428_801 },
      413,
      'too_large',
      'expected size to be at most 52428800 bytes, got 52428801',
    ],
    [
      'JSON nested 200,000 deep (it parses, but walking it overflowed the stack: a 503 before)',
      `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
      400,
      'invalid_json',
      `expected a JSON body such as ${example}, got JSON nested more than 32 levels deep`,
    ],
    [
      'JSON nested 30 deep (shown, bounded)',
      `${'['.repeat(30)}${']'.repeat(30)}`,
      400,
      'invalid_request',
      `expected ${example} (file_name optional); expected a JSON object, got [[[[…]]]]`,
    ],
    [
      'a body over 16 KiB',
      { content_type: 'image/jpeg', size: 10, file_name: 'x'.repeat(16 * 1024) },
      413,
      'too_large',
      `expected a JSON body of at most 16384 bytes such as ${example}, got more`,
    ],
    [
      'a content type that is not an image',
      { content_type: 'text/html', size: 10 },
      415,
      'unsupported_content_type',
      'expected content_type to be one of image/jpeg, image/png, image/webp, image/gif, image/tiff, image/avif, image/heic, image/heif, or application/octet-stream with a file_name whose extension names one (such as "IMG_0001.HEIC"), got "text/html"',
    ],
    [
      'application/octet-stream without a file name that says the format',
      { content_type: 'application/octet-stream', size: 10, file_name: 'notes.txt' },
      415,
      'unsupported_content_type',
      'expected content_type to be one of image/jpeg, image/png, image/webp, image/gif, image/tiff, image/avif, image/heic, image/heif, or application/octet-stream with a file_name whose extension names one (such as "IMG_0001.HEIC"), got "application/octet-stream" with file_name "notes.txt"',
    ],
  ];
  for (const [what, body, status, code, message] of refusals) {
    it(`refuses ${what} with ${status} and a JSON reason, signing nothing`, async () => {
      const app = testApp();
      const res = await createUpload(app, body);
      assert.equal(res.statusCode, status, res.body);
      assert.deepEqual((JSON.parse(res.body) as { error: unknown }).error, { code, message });
      assert.ok(!app.logs.some((l) => l.message === 'upload form signed'));
    });
  }

  it('wants a valid API key with AUTH=api-key, like POST /upload', async () => {
    const app = testApp({ env: apiKeysEnv({ alice: 'k'.repeat(20) }) });
    const refused = await createUpload(app, { content_type: 'image/jpeg', size: 10 });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers?.['www-authenticate'], 'ApiKey realm="image-pipeline", header="x-api-key"');
    const allowed = await createUpload(app, { content_type: 'image/jpeg', size: 10 }, { host: 'h', 'x-api-key': 'k'.repeat(20) });
    assert.equal(allowed.statusCode, 201);
  });

  it('on the embedded server: the form it hands out stores the photo under uploads/ and announces it', async () => {
    // Prepare
    const base = testApp();
    const announced: string[] = [];
    // The folder store's app announces its writes (createApp made the hook); this one records them instead.
    assert.equal(typeof base.announceCreated, 'function');
    const app: App = {
      ...base,
      announceCreated: async (key) => {
        announced.push(key);
      },
    };
    const pipeline = await startEmbedded(app, { port: 0 });
    try {
      const photo = readFixture('dog.jpg');
      // Act
      const res = await fetch(`${pipeline.url}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content_type: 'image/jpeg', size: photo.length }),
      });
      const created = (await res.json()) as Created;
      const answer = await postForm(created.upload as Parameters<typeof postForm>[0], photo);
      // Assess
      assert.equal(res.status, 201);
      assert.equal(created.upload.url, `${pipeline.url}/bucket`);
      assert.equal(answer.status, 204, answer.body);
      assert.deepEqual((await base.store.get(created.upload.fields.key!)).body, photo);
      assert.deepEqual(announced, [created.upload.fields.key]);
    } finally {
      await pipeline.stop();
    }
  });
});

describe('limits true to each place', () => {
  it('caps POST /upload on Lambda at what a 6 MB invocation carries base64-encoded, not on serverless offline', () => {
    assert.equal(LAMBDA_DIRECT_UPLOAD_BYTES, 4_483_616);
    const lambda = loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'upload' }).limits;
    assert.deepEqual(lambda, {
      maxUploadBytes: 4_483_616,
      maxUploadBytesIsLambdaCap: true,
      maxBucketUploadBytes: 52_428_800,
      maxInputPixels: 67_108_864,
      maxJpegScans: 32,
      imageTimeoutSeconds: 20,
    });
    assert.equal(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'upload', IS_OFFLINE: 'true' }).limits.maxUploadBytes, 10_485_760);
    assert.equal(loadConfig({}).limits.maxUploadBytes, 10_485_760);
    assert.deepEqual(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'upload', MAX_UPLOAD_BYTES: '1000' }).limits.maxUploadBytes, 1000);
    assert.equal(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'upload', MAX_UPLOAD_BYTES: '1000' }).limits.maxUploadBytesIsLambdaCap, false);
    assert.equal(loadConfig({}).uploadExpiresSeconds, 900);
    assert.throws(() => loadConfig({ UPLOAD_EXPIRES_SECONDS: '604801' }), {
      message:
        'UPLOAD_EXPIRES_SECONDS: expected a whole number of seconds from 1 to 604800 (7 days, the longest a signature lasts), got "604801"',
    });
    assert.throws(() => loadConfig({ MAX_BUCKET_UPLOAD_BYTES: '-1' }), {
      message: 'MAX_BUCKET_UPLOAD_BYTES: expected a positive whole number of bytes, got "-1"',
    });
  });

  it('on Lambda, POST /upload refuses a photo over the cap with its own JSON 413 that points to POST /uploads', async () => {
    // AUTH=none is refused on Lambda unless said to be private (src/auth/noneModeRule.ts).
    const app = testApp({ env: { AWS_LAMBDA_FUNCTION_NAME: 'upload', METRICS: 'prometheus', AUTH_NONE_PUBLIC: 'true' } });
    const res = await lambdaFunctions(app).upload(
      httpApiEvent({ body: Buffer.alloc(LAMBDA_DIRECT_UPLOAD_BYTES + 1, 0xff), contentType: 'image/jpeg' }),
      lambdaContext(),
    );
    assert.equal(res.statusCode, 413);
    assert.deepEqual((JSON.parse(res.body) as { error: unknown }).error, {
      code: 'too_large',
      message:
        'expected an upload of at most 4483616 bytes, got 4483617 (the most a Lambda invocation carries: 6 MB, base64-encoded); send larger photos with POST /uploads (up to 52428800 bytes)',
    });
  });
});
