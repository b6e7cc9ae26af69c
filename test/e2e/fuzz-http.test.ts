import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { IMAGE_FORMATS } from '../../src/domain/imageFormats';
import type { PresignedPost } from '../../src/ports/ObjectStore';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { createUpload } from '../helpers/createUpload';
import { readFixture } from '../helpers/fixtures';
import { fuzz, mutated, randomBytes } from '../helpers/fuzz';
import { post, type RawAnswer, request } from '../helpers/rawHttp';
import { waitForImage } from '../helpers/waitForImage';

/**
 * The fuzz suite over HTTP (fast-check): random and mutated multipart forms and raw image bodies
 * against POST /upload, random, deep and mutated JSON against POST /uploads, mutated signed forms
 * against POST /bucket, on the embedded default. Every answer is a 2xx or a 4xx with the usual
 * error body, before a deadline whose passing is a failure (never a wait); no request makes the
 * server log a fault; afterwards the server answers and a good photo is tagged. Seeds are fixed;
 * FUZZ_SEED, FUZZ_RUNS and FUZZ_PATH (test/helpers/fuzz.ts) run others or replay a failure.
 */
const FILE = 'test/e2e/fuzz-http.test.ts';
const DEADLINE_MS = 20_000;
/** Log lines that mean a request reached a fault path of the server (a 5xx), whatever it answered. */
const FAULTS = /^(http request failed|upload failed|upload form failed|bucket POST could not store the object|api request failed)$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
const UNSAFE_RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A 2xx, or a 4xx (not a 408) with our JSON error (S3's XML on POST /bucket): never a 5xx, never Node's bare refusal. */
function assertAnswered(answer: RawAnswer, what: string): void {
  assert.ok(answer.status >= 200 && answer.status < 500, `${what}: ${answer.status} ${answer.body.slice(0, 300)}`);
  // Every request here is sent whole: a 408 means the server's own deadline had to end a read that
  // hung (its idle timeout is 2 s here), which is a hang all the same.
  assert.notEqual(
    answer.status,
    408,
    `${what}: a request sent whole timed out: the server stopped reading it (${answer.body.slice(0, 300)})`,
  );
  if (answer.status < 400) return;
  const type = answer.headers['content-type'] ?? '';
  if (type.startsWith('application/xml')) {
    assert.match(answer.body, /<Error><Code>\w+<\/Code><Message>/, what);
    return;
  }
  assert.match(type, /^application\/json/, `${what}: ${answer.status} ${type}`);
  const error = (JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } }).error;
  assert.ok(typeof error?.code === 'string' && typeof error.message === 'string' && error.message.length > 0, `${what}: ${answer.body}`);
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Header and field text: ordinary, hostile (quotes, paths, bidi, control bytes) or anything. */
const text = (maxLength: number) =>
  fc.oneof(
    fc.constantFrom('image', 'file', 'photo.jpg', 'caption', '../../etc/passwd', 'a"b', 'gpj.\u202eexe', 'x\r\ny', ''),
    fc.string({ unit: 'binary', maxLength }),
  );

interface Part {
  head: Buffer;
  data: Buffer;
}

function part(data: fc.Arbitrary<Buffer>): fc.Arbitrary<Part> {
  const disposition = fc
    .record({ name: text(20), filename: fc.option(text(40), { nil: undefined }) })
    .map(
      ({ name, filename }) => `Content-Disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}`,
    );
  const line = fc.oneof(
    { weight: 4, arbitrary: disposition },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'Content-Type: image/jpeg',
        'Content-Type: application/octet-stream',
        'Content-Type: text/plain; charset=utf-8',
      ),
    },
    { weight: 1, arbitrary: fc.tuple(text(20), text(60)).map(([n, v]) => `${n}: ${v}`) },
    { weight: 1, arbitrary: text(80) },
  );
  return fc.record({ head: fc.array(line, { maxLength: 4 }).map((lines) => latin1(lines.join('\r\n'))), data });
}

function multipart(boundary: string, parts: Part[], preamble: Buffer, closed: boolean): Buffer {
  const chunks: Buffer[] = [preamble];
  for (const p of parts) chunks.push(latin1(`--${boundary}\r\n`), p.head, latin1('\r\n\r\n'), p.data, latin1('\r\n'));
  if (closed) chunks.push(latin1(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** A boundary: ordinary, any RFC 2046 one (sent quoted where it must be), or anything. */
const boundary = fc.oneof(
  { weight: 3, arbitrary: fc.constant('b0undary') },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9'()+_,./:=? -]{0,69}[A-Za-z0-9'()+_,./:=?-]$/) },
  { weight: 1, arbitrary: text(20) },
);

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const boundaryParameter = (b: string) => (TOKEN.test(b) ? b : `"${b}"`);

/** A form's content type, most often the right one for its boundary. */
const formType = (b: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(`multipart/form-data; boundary=${boundaryParameter(b)}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `multipart/form-data; boundary="${b}"`,
        'multipart/form-data',
        `multipart/mixed; boundary=${b}`,
        'image/jpeg',
        '',
      ),
    },
    { weight: 1, arbitrary: text(60) },
  );

/** A form as sent: well framed, or mutated anywhere. */
function formBody(parts: fc.Arbitrary<Part[]>): fc.Arbitrary<{ body: Buffer; contentType: string }> {
  return fc
    .record({ b: boundary, parts, preamble: fc.oneof(fc.constant(Buffer.alloc(0)), randomBytes), closed: fc.boolean() })
    .chain(({ b, parts: ps, preamble, closed }) => {
      const body = multipart(b, ps, preamble, closed);
      return fc.record({
        body: fc.oneof({ weight: 2, arbitrary: fc.constant(body) }, { weight: 1, arbitrary: mutated(body, 2048) }),
        contentType: formType(b),
      });
    });
}

describe('fuzz: hostile HTTP against the embedded default', () => {
  let pipeline: EmbeddedPipeline;
  let port: number;
  let photo: Buffer;
  const lines: string[] = [];

  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-fuzz-'));
    // Short deadlines: a request that lies about its length is answered 408 within the test's own deadline.
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'info',
      MAX_UPLOAD_BYTES: '200000',
      HTTP_HEADERS_TIMEOUT_SECONDS: '2',
      HTTP_IDLE_TIMEOUT_SECONDS: '2',
      HTTP_REQUEST_TIMEOUT_SECONDS: '10',
    });
    const app = createApp({ config, detector: async () => [], logSink: (line) => lines.push(line) });
    pipeline = await startEmbedded(app, { port: 0 });
    port = Number(new URL(pipeline.url!).port);
    photo = await sharp(readFixture('dog.jpg')).resize(96, 72).jpeg().toBuffer();
  });
  after(async () => pipeline?.stop());

  const image = () => fc.oneof(fc.constant(photo), mutated(photo, 512), randomBytes, fc.constant(Buffer.alloc(0)));

  it('POST /upload: random and mutated forms and raw bodies get a 2xx or a 4xx in time', async () => {
    const forms = formBody(fc.array(part(image()), { maxLength: 4 }));
    // The seed's form (one file in "image"), its photo whole or mutated, with fields around it or not.
    const photoForm = fc
      .record({ data: image(), before: fc.array(part(fc.constant(Buffer.from('v'))), { maxLength: 2 }), b: boundary })
      .map(({ data, before, b }) => ({
        body: multipart(
          b,
          [...before, { head: latin1('Content-Disposition: form-data; name="image"; filename="photo.jpg"'), data }],
          Buffer.alloc(0),
          true,
        ),
        contentType: `multipart/form-data; boundary=${boundaryParameter(b)}`,
      }));
    const raw = fc.record({
      body: image(),
      contentType: fc.oneof(fc.constantFrom('image/jpeg', 'image/png', 'application/octet-stream', 'image/'), text(40)),
    });
    await fuzz(
      {
        name: 'POST /upload: random and mutated forms and raw bodies get a 2xx or a 4xx in time',
        file: FILE,
        defaultSeed: 17_101,
        defaultRuns: 2000,
      },
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: forms }, { weight: 2, arbitrary: photoForm }, { weight: 1, arbitrary: raw }),
        async ({ body, contentType }) => {
          const answer = await request(
            port,
            post('/upload', body, contentType),
            DEADLINE_MS,
            `POST /upload (${body.length} bytes, ${JSON.stringify(contentType)})`,
          );
          assertAnswered(answer, 'POST /upload');
        },
      ),
    );
  });

  it('POST /uploads: random, deep and mutated JSON gets a 2xx or a 4xx in time', async () => {
    const types = IMAGE_FORMATS.map((f) => f.contentType);
    const fields = fc
      .record(
        {
          content_type: fc.oneof(fc.constantFrom(...types), text(40)),
          size: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.constant(1e308)),
          file_name: text(300),
          extra: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o));
    const deep = fc
      .tuple(fc.integer({ min: 1, max: 250_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}']))
      .map(([n, [open, close]]) => `${open!.repeat(n)}1${close!.repeat(n)}`);
    const valid = fc
      .record({ content_type: fc.constantFrom(...types), size: fc.integer({ min: 1, max: 52_428_800 }), file_name: text(255) })
      .map((o) => JSON.stringify(o));
    const json = fc.oneof(
      valid,
      fields,
      fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
      deep,
      fields.chain((f) => mutated(Buffer.from(f), 256)).map((b) => b.toString('latin1')),
      text(200),
    );
    await fuzz(
      {
        name: 'POST /uploads: random, deep and mutated JSON gets a 2xx or a 4xx in time',
        file: FILE,
        defaultSeed: 17_102,
        defaultRuns: 2000,
      },
      fc.asyncProperty(json, fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1'), async (body, type) => {
        const answer = await request(
          port,
          post('/uploads', Buffer.from(body, 'utf8'), type),
          DEADLINE_MS,
          `POST /uploads (${body.length} characters)`,
        );
        assertAnswered(answer, 'POST /uploads');
      }),
    );
  });

  it('POST /bucket: mutated signed forms get a 2xx or a 4xx in time', async () => {
    const sign = async (size: number): Promise<PresignedPost> =>
      (await createUpload(pipeline.url!, { content_type: 'image/jpeg', size })).upload;
    /** What is done to the signed fields: all kept, or each kept, dropped, changed or doubled; maybe one more. */
    const fieldEdits = fc.record({
      edits: fc.oneof(
        fc.constant(['keep', 'keep', 'keep', 'keep']),
        fc.array(fc.constantFrom('keep', 'keep', 'drop', 'change', 'double'), { minLength: 4, maxLength: 4 }),
      ),
      changed: text(80),
      // Most often none: an extra field is refused (403) before anything else is looked at.
      extra: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom('x-ignore-note', 'acl', 'success_action_status'), text(20)), text(40)) },
      ),
      fileName: fc.constantFrom('file', 'file', 'File', 'image'),
    });
    await fuzz(
      { name: 'POST /bucket: mutated signed forms get a 2xx or a 4xx in time', file: FILE, defaultSeed: 17_103, defaultRuns: 1000 },
      fc.asyncProperty(
        fieldEdits,
        image(),
        boundary,
        fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(4096) }),
        async (edit, data, b, mutateAt) => {
          const form = await sign(Math.max(1, data.length));
          const parts: Part[] = [];
          Object.entries(form.fields).forEach(([name, value], i) => {
            const how = edit.edits[i] ?? 'keep';
            if (how === 'drop') return;
            const field = {
              head: latin1(`Content-Disposition: form-data; name="${name}"`),
              data: Buffer.from(how === 'change' ? edit.changed : value),
            };
            parts.push(field);
            if (how === 'double') parts.push(field);
          });
          if (edit.extra)
            parts.push({ head: latin1(`Content-Disposition: form-data; name="${edit.extra[0]}"`), data: Buffer.from(edit.extra[1]) });
          parts.push({
            head: latin1(`Content-Disposition: form-data; name="${edit.fileName}"; filename="a.jpg"\r\nContent-Type: image/jpeg`),
            data,
          });
          let body = multipart(b, parts, Buffer.alloc(0), true);
          // Sometimes one byte of the framing changed as well.
          if (mutateAt !== undefined && body.length > 0) {
            body = Buffer.from(body);
            const at = mutateAt % body.length;
            body[at] = body[at]! ^ 0x20;
          }
          const answer = await request(
            port,
            post('/bucket', body, `multipart/form-data; boundary=${b}`),
            DEADLINE_MS,
            `POST /bucket (${body.length} bytes)`,
          );
          assertAnswered(answer, 'POST /bucket');
        },
      ),
    );
  });

  it('after the fuzz: the server answers, nothing reached a fault path, no raw control character was logged, and a good photo is tagged', async () => {
    assert.equal((await fetch(`${pipeline.url}/images?limit=1`)).status, 200);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFixture('dog.jpg'))], { type: 'image/jpeg' }), 'dog.jpg');
    const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form });
    assert.equal(res.status, 202);
    const { image_id } = (await res.json()) as { image_id: string };
    assert.equal((await waitForImage(pipeline.app.store, image_id, { timeoutMs: 60_000 })).status, 'done');
    const faults = lines.filter((l) => FAULTS.test(String((JSON.parse(l) as { message?: unknown }).message)));
    assert.deepEqual(faults, []);
    for (const l of lines) assert.doesNotMatch(l, UNSAFE_RAW, l);
  });
});
