import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { imageKey } from '../../src/domain/keys';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
import type { PresignedPost } from '../../src/ports/ObjectStore';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { type CreatedUpload, createUpload } from '../helpers/createUpload';
import { readFixture } from '../helpers/fixtures';
import { MALFORMED_FORMS, malformedUploadMessage } from '../helpers/malformedForms';
import { connect, head, oddMultipart, post, request, withDeadline } from '../helpers/rawHttp';
import { waitForImage } from '../helpers/waitForImage';

/**
 * Hostile and odd HTTP against the embedded default (`npm start`): every malformed request answered
 * at once with the usual JSON 4xx, every wait bounded, no header choosing a URL, a client that
 * leaves freeing what its request held and logged at info, /metrics for this machine only, and
 * after all of it the server up and a good photo tagged. Each answer is awaited with a deadline
 * that is a failure ("no answer within …"), never a wait.
 */
const ANSWER_MS = 15_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
const UNSAFE_RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

interface Started {
  pipeline: EmbeddedPipeline;
  port: number;
  dir: string;
  lines: string[];
  /** Resolves with the first log line (parsed) from line number `from` on that `match` accepts, now or later, within the deadline. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, what: string, from?: number): Promise<Record<string, unknown>>;
  /** Keys of originals read whole (store.get) since the last reset. */
  wholeReads: string[];
}

async function start(env: Record<string, string> = {}, host?: string): Promise<Started> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-hostile-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'debug', ...env });
  const lines: string[] = [];
  const logged = new EventEmitter();
  const wholeReads: string[] = [];
  // The folder store, noting each whole read of an original: a download must stream instead.
  class NotingStore extends FsObjectStore {
    override get(key: string) {
      if (key.startsWith('original/')) wholeReads.push(key);
      return super.get(key);
    }
  }
  const store = new NotingStore({ root: path.join(dir, 'images') });
  const queue = new MemoryQueue({ maxReceiveCount: config.maxReceiveCount, visibilityTimeoutSeconds: config.visibilityTimeoutSeconds });
  const app = createApp({
    config,
    ports: { store, queue, deadLetters: queue, close: () => queue.close() },
    detector: async () => [{ label: 'dog', score: 0.9, box: { x: 10, y: 10, width: 20, height: 20 } }],
    logSink: (line) => {
      lines.push(line);
      logged.emit('line', JSON.parse(line));
    },
  });
  const pipeline = await startEmbedded(app, { port: 0, ...(host ? { host } : {}) });
  const waitForLog: Started['waitForLog'] = (match, what, from = 0) => {
    const seen = lines
      .slice(from)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find(match);
    if (seen) return Promise.resolve(seen);
    let listener: (line: Record<string, unknown>) => void = () => undefined;
    const found = new Promise<Record<string, unknown>>((resolve) => {
      listener = (line) => {
        if (match(line)) resolve(line);
      };
      logged.on('line', listener);
    });
    return withDeadline(found, ANSWER_MS, `log line: ${what}`).finally(() => logged.off('line', listener));
  };
  return { pipeline, port: Number(new URL(pipeline.url!).port), dir, lines, waitForLog, wholeReads };
}

const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string } }).error;

/** A signed form for a photo of `size` bytes, from POST /uploads. */
function signedForm(url: string, size: number, extra: Record<string, unknown> = {}): Promise<CreatedUpload> {
  return createUpload(url, { content_type: 'image/jpeg', size, ...extra });
}

describe('hostile HTTP on the embedded default', () => {
  let s: Started;
  before(async () => {
    s = await start({ MAX_UPLOAD_BYTES: '1000000' });
  });
  after(async () => s?.pipeline.stop());

  it('answers each malformed multipart body at once: 400 bad_multipart on POST /upload, 400 MalformedPOSTRequest on POST /bucket', async () => {
    for (const { name: what, form, reason } of MALFORMED_FORMS) {
      const upload = await request(s.port, post('/upload', form.body, form.contentType), ANSWER_MS, `POST /upload with ${what}`);
      assert.equal(upload.status, 400, `${what}: ${upload.body}`);
      assert.deepEqual(errorOf(upload.body), {
        code: 'bad_multipart',
        message: malformedUploadMessage(reason),
      });
      const bucket = await request(
        s.port,
        post('/bucket', form.body, form.contentType, { accept: 'application/json' }),
        ANSWER_MS,
        `POST /bucket with ${what}`,
      );
      assert.equal(bucket.status, 400, `${what}: ${bucket.body}`);
      assert.deepEqual(errorOf(bucket.body), {
        code: 'MalformedPOSTRequest',
        message: `The body of your POST request is not well-formed multipart/form-data: ${reason}`,
      });
    }
  });

  it('answers a malformed part at the start of a 900 KB body before the rest of it is sent, and closes the connection', async () => {
    const start = oddMultipart('Content-Disposition: form-data; name="image"; filename="a\0.jpg"').body.subarray(0, 80);
    const c = connect(s.port, [
      head('POST /upload HTTP/1.1', {
        host: 'localhost',
        'content-type': 'multipart/form-data; boundary=b0undary',
        'content-length': 900_000,
      }),
      start,
    ]);
    const answer = await withDeadline(c.answer, ANSWER_MS, 'the answer to a body 80 bytes into 900 KB');
    assert.equal(answer.status, 400);
    assert.equal(errorOf(answer.body).code, 'bad_multipart');
    assert.equal(answer.headers.connection, 'close');
    await withDeadline(c.closed, ANSWER_MS, 'the server closing the connection');
  });

  it('a client that goes on sending after its refusal still reads it: a declared body too large, 10 times each on POST /upload and POST /bucket', async () => {
    // Closing at once with the body unread would reset the connection, and a reset drops the answer
    // at a client that has not read it yet; the server reads and drops the rest for a while instead.
    const targets = [
      { path: '/upload', type: 'image/jpeg', status: 413, code: 'too_large' },
      { path: '/bucket', type: 'multipart/form-data; boundary=b', status: 400, code: 'EntityTooLarge' },
    ];
    for (const t of targets) {
      for (let round = 0; round < 10; round++) {
        const what = `POST ${t.path}, round ${round}`;
        const c = connect(s.port, [
          head(`POST ${t.path} HTTP/1.1`, {
            host: 'localhost',
            accept: 'application/json',
            'content-type': t.type,
            'content-length': 200_000_000,
          }),
        ]);
        // A client busy sending reads its answer only once its 4 MB are written (or the write failed).
        c.socket.pause();
        await new Promise((resolve) => c.socket.once('connect', resolve)); // the head goes first
        await new Promise<void>((resolve) => {
          c.socket.write(Buffer.alloc(4 * 1024 * 1024, 0x41), () => resolve());
          c.socket.once('close', () => resolve());
        });
        c.socket.resume();
        const answer = await withDeadline(c.answer, ANSWER_MS, `${what}: the answer to a declared 200 MB body`);
        assert.equal(answer.status, t.status, what);
        assert.equal(errorOf(answer.body).code, t.code, what);
        assert.equal(answer.headers.connection, 'close', what);
        await withDeadline(c.closed, ANSWER_MS, `${what}: the connection closing`);
      }
    }
  });

  it('refuses a form past its limits at once: parts and fields, a field, a file', async () => {
    const part = (name: string, value: string) => `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const form = (parts: string[]) => ({ body: Buffer.from(`${parts.join('')}--b--\r\n`), contentType: 'multipart/form-data; boundary=b' });
    const cases: Array<[string, { body: Buffer; contentType: string }, number, string, string]> = [
      [
        '25 fields',
        form(Array.from({ length: 25 }, (_, i) => part(`f${i}`, 'v'))),
        400,
        'bad_multipart',
        'expected a form with one file in field "image": expected at most 20 fields, got more',
      ],
      [
        'a 70 KB field',
        form([part('caption', 'x'.repeat(70_000))]),
        400,
        'bad_multipart',
        'expected a form with one file in field "image": expected a field value of at most 65536 bytes, got more in "caption"',
      ],
      [
        'three files',
        form([1, 2, 3].map((i) => `--b\r\nContent-Disposition: form-data; name="image"; filename="${i}.jpg"\r\n\r\nx\r\n`)),
        400,
        'several_files',
        'expected one file in field "image", got more than 2 files',
      ],
      [
        'a file over MAX_UPLOAD_BYTES',
        oddMultipart('Content-Disposition: form-data; name="image"; filename="a.jpg"', Buffer.alloc(1_000_001)),
        413,
        'too_large',
        'expected an upload of at most 1000000 bytes, got more; send larger photos with POST /uploads (up to 52428800 bytes)',
      ],
    ];
    for (const [what, body, status, code, message] of cases) {
      const answer = await request(s.port, post('/upload', body.body, body.contentType), ANSWER_MS, what);
      assert.deepEqual([answer.status, errorOf(answer.body)], [status, { code, message }], what);
    }
  });

  it('POST /uploads: JSON nested 200,000 deep is a 400 after its first bytes, a body over 16 KiB a 413, bad JSON a 400', async () => {
    const example = '{"content_type": "image/jpeg", "size": 5242880, "file_name": "photo.jpg"}';
    const deep = Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    const deepAnswer = await request(s.port, post('/uploads', deep, 'application/json'), ANSWER_MS, 'JSON nested 200,000 deep');
    assert.deepEqual(
      [deepAnswer.status, errorOf(deepAnswer.body)],
      [400, { code: 'invalid_json', message: `expected a JSON body such as ${example}, got JSON nested more than 32 levels deep` }],
    );
    // Only the head and the first 64 bytes are sent: the answer does not wait for the rest.
    const c = connect(s.port, [
      head('POST /uploads HTTP/1.1', { host: 'localhost', 'content-type': 'application/json', 'content-length': deep.length }),
      deep.subarray(0, 64),
    ]);
    assert.equal((await withDeadline(c.answer, ANSWER_MS, 'deep JSON, 64 bytes sent')).status, 400);
    c.socket.destroy();
    const big = Buffer.from(JSON.stringify({ content_type: 'image/jpeg', size: 1, file_name: 'x'.repeat(20_000) }));
    const bigAnswer = await request(s.port, post('/uploads', big, 'application/json'), ANSWER_MS, 'a 20 KB JSON body');
    assert.deepEqual(
      [bigAnswer.status, errorOf(bigAnswer.body)],
      [413, { code: 'too_large', message: `expected a JSON body of at most 16384 bytes such as ${example}, got more` }],
    );
    const bad = await request(s.port, post('/uploads', Buffer.from('{"size": '), 'application/json'), ANSWER_MS, 'bad JSON');
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad.body).code, 'invalid_json');
  });

  it('answers bad HTTP with the usual JSON error: a control byte in a header, 17 KB of headers, a bad content-length, a bad chunk', async () => {
    const cases: Array<[string, Buffer[], number, string]> = [
      [
        'a control byte in a header value',
        [Buffer.from('GET /images HTTP/1.1\r\nhost: x\r\nx-a: a\x01b\r\n\r\n', 'latin1')],
        400,
        'bad_request',
      ],
      ['a space in a header name', [Buffer.from('GET /images HTTP/1.1\r\nhost: x\r\nx a: b\r\n\r\n')], 400, 'bad_request'],
      ['17 KB of headers', [head('GET /images HTTP/1.1', { host: 'x', 'x-long': 'a'.repeat(17_000) })], 431, 'headers_too_large'],
      ['a content-length that is no number', [head('POST /upload HTTP/1.1', { host: 'x', 'content-length': 'ten' })], 400, 'bad_request'],
      [
        'a chunk size that is no number',
        [
          head('POST /upload HTTP/1.1', { host: 'x', 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' }),
          Buffer.from('zz\r\nabc\r\n0\r\n\r\n'),
        ],
        400,
        'bad_request',
      ],
      ['a request line that is no HTTP', [Buffer.from('HELLO\r\n\r\n')], 400, 'bad_request'],
    ];
    for (const [what, parts, status, code] of cases) {
      const answer = await request(s.port, parts, ANSWER_MS, what);
      assert.equal(answer.status, status, `${what}: ${answer.body}`);
      assert.equal(errorOf(answer.body).code, code, what);
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/, what);
    }
  });

  it('no request header decides a URL: the form of POST /uploads points at the server itself whatever Host or a proxy header says', async () => {
    const body = Buffer.from(JSON.stringify({ content_type: 'image/jpeg', size: 10 }));
    const hostile: Array<Record<string, string>> = [
      { host: 'evil.example' },
      {
        host: 'evil.example:8080',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'host=evil.example;proto=https',
      },
    ];
    for (const headers of hostile) {
      const answer = await request(
        s.port,
        [head('POST /uploads HTTP/1.1', { 'content-type': 'application/json', 'content-length': body.length, ...headers }), body],
        ANSWER_MS,
        'POST /uploads',
      );
      assert.equal(answer.status, 201, answer.body);
      assert.equal((JSON.parse(answer.body) as { upload: PresignedPost }).upload.url, `${s.pipeline.url}/bucket`);
    }
  });

  it('a client that leaves mid-upload frees what its request held: logged at info, its spooled bytes removed, nothing stored', async () => {
    const before = await s.pipeline.app.store.list('original/');
    const photo = readFixture('dog.jpg');
    /** Sends the head and a third of `body`, waits until the server has the request, then leaves. */
    const leave = async (path: string, contentType: string, body: Buffer) => {
      const from = s.lines.length;
      const c = connect(s.port, [
        head(`POST ${path} HTTP/1.1`, { host: 'x', 'content-type': contentType, 'content-length': body.length }),
        body.subarray(0, Math.floor(body.length / 3)),
      ]);
      const received = await s.waitForLog((l) => l.message === 'request received' && l.path === path, `${path}: received`, from);
      c.socket.destroy();
      const gone = await s.waitForLog(
        (l) => l.message === 'client went away' && l.request_id === received.request_id,
        `${path}: client went away`,
      );
      assert.equal(gone.level, 'INFO');
      // Logged once the request's read has ended and let go of what it held.
      await s.waitForLog(
        (l) => l.message === 'request ended: the client went away' && l.request_id === received.request_id,
        `${path}: its read ended`,
      );
    };
    await leave('/upload', 'image/jpeg', photo);
    await leave(
      '/upload',
      'multipart/form-data; boundary=b0undary',
      oddMultipart('Content-Disposition: form-data; name="image"; filename="dog.jpg"', photo).body,
    );
    assert.deepEqual(readdirSync(path.join(s.dir, 'spool')), [], 'the spool is empty');
    // A form's file cut off on POST /bucket: no object, no temporary file.
    const created = await signedForm(s.pipeline.url!, photo.length);
    const form = new FormData();
    for (const [k, v] of Object.entries(created.upload.fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(photo)]), 'dog.jpg');
    const encoded = new Response(form);
    const type = encoded.headers.get('content-type')!;
    await leave('/bucket', type, Buffer.from(await encoded.arrayBuffer()));
    assert.equal(await s.pipeline.app.store.exists(created.upload.fields.key!), false);
    const uploads = path.join(s.dir, 'images', 'uploads');
    assert.deepEqual(existsSync(uploads) ? readdirSync(uploads) : [], [], 'no temporary file left');
    assert.deepEqual(await s.pipeline.app.store.list('original/'), before, 'nothing stored');
    assert.ok(!s.lines.some((l) => JSON.parse(l).level === 'ERROR'), 'no ERROR line');
  });

  it('streams each image from its file: GET and HEAD /images/{id}/original answer its bytes, no whole read', async () => {
    const photo = readFixture('dog.jpg');
    const res = await fetch(`${s.pipeline.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(photo),
    });
    const { image_id } = (await res.json()) as { image_id: string };
    assert.equal((await waitForImage(s.pipeline.app.store, image_id, { timeoutMs: 60_000 })).status, 'done');
    s.wholeReads.length = 0;
    const got = await fetch(`${s.pipeline.url}/images/${image_id}/original`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-length'), String(photo.length));
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(photo));
    const headOnly = await fetch(`${s.pipeline.url}/images/${image_id}/original`, { method: 'HEAD' });
    assert.equal(headOnly.status, 200);
    assert.equal(headOnly.headers.get('content-length'), String(photo.length));
    assert.deepEqual(s.wholeReads, [], 'the download read the original whole');
    assert.equal((await s.pipeline.app.store.get(imageKey('tagged', image_id))).body.length > 0, true);
  });

  it('logs every client string escaped: no raw control or bidi character in any line', async () => {
    const name = 'gpj.\u202eexe\u001b[31m\u2066.jpg';
    const created = await signedForm(s.pipeline.url!, 10, { file_name: name });
    assert.ok(created.image_id);
    const line = await s.waitForLog((l) => l.message === 'upload form signed' && l.image_id === created.image_id, 'the form signed');
    assert.equal(line.file_name, 'gpj.\\u202eexe\\u001b[31m\\u2066.jpg');
    await fetch(`${s.pipeline.url}/images/%E2%80%AE%1B[0m`);
    for (const l of s.lines) assert.doesNotMatch(l, UNSAFE_RAW, l);
  });

  it('after all of that: the server is up and a good photo is tagged', async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFixture('person.jpg'))], { type: 'image/jpeg' }), 'person.jpg');
    const res = await fetch(`${s.pipeline.url}/upload`, { method: 'POST', body: form });
    assert.equal(res.status, 202);
    const { image_id } = (await res.json()) as { image_id: string };
    assert.equal((await waitForImage(s.pipeline.app.store, image_id, { timeoutMs: 60_000 })).status, 'done');
    assert.ok(!s.lines.some((l) => JSON.parse(l).level === 'ERROR'), 'no ERROR line in the whole run');
  });
});

describe('the embedded server’s deadlines and connection cap', () => {
  let s: Started;
  before(async () => {
    s = await start({
      HTTP_HEADERS_TIMEOUT_SECONDS: '1',
      HTTP_REQUEST_TIMEOUT_SECONDS: '3',
      HTTP_IDLE_TIMEOUT_SECONDS: '2',
      PUBLIC_URL: 'https://photos.example/pipeline',
    });
  });
  after(async () => s?.pipeline.stop());

  it('headers that never end: 408 in JSON, the connection closed', async () => {
    const c = connect(s.port, [Buffer.from('GET /images HTTP/1.1\r\nhost: x\r\nx-slow: ')]);
    const answer = await withDeadline(c.answer, ANSWER_MS, 'headers never finished');
    assert.equal(answer.status, 408);
    assert.equal(errorOf(answer.body).code, 'request_timeout');
    await withDeadline(c.closed, ANSWER_MS, 'the connection closed');
  });

  it('a body that stops: 408 once the connection is silent for HTTP_IDLE_TIMEOUT_SECONDS', async () => {
    const c = connect(s.port, [
      head('POST /upload HTTP/1.1', { host: 'x', 'content-type': 'image/jpeg', 'content-length': 100_000 }),
      Buffer.alloc(1000, 0xff),
    ]);
    const answer = await withDeadline(c.answer, ANSWER_MS, 'a stalled body');
    assert.deepEqual(
      [answer.status, errorOf(answer.body)],
      [408, { code: 'request_timeout', message: 'expected more of the request within 2 s, got nothing' }],
    );
    await withDeadline(c.closed, ANSWER_MS, 'the connection closed');
  });

  it('a body that trickles: 408 at HTTP_REQUEST_TIMEOUT_SECONDS, however steadily it comes', async () => {
    const c = connect(s.port, [head('POST /upload HTTP/1.1', { host: 'x', 'content-type': 'image/jpeg', 'content-length': 100_000 })]);
    const drip = setInterval(() => c.socket.write(Buffer.alloc(10, 0xff)), 300);
    try {
      const answer = await withDeadline(c.answer, ANSWER_MS, 'a trickling body');
      assert.deepEqual(
        [answer.status, errorOf(answer.body)],
        [408, { code: 'request_timeout', message: 'expected the whole request within 3 s, got less by then' }],
      );
    } finally {
      clearInterval(drip);
      c.socket.destroy();
    }
  });

  it('forms point under PUBLIC_URL, its path kept, whatever Host says', async () => {
    const body = Buffer.from(JSON.stringify({ content_type: 'image/png', size: 10 }));
    const answer = await request(
      s.port,
      [head('POST /uploads HTTP/1.1', { host: 'evil.example', 'content-type': 'application/json', 'content-length': body.length }), body],
      ANSWER_MS,
      'POST /uploads',
    );
    assert.equal((JSON.parse(answer.body) as { upload: PresignedPost }).upload.url, 'https://photos.example/pipeline/bucket');
  });
});

describe('the embedded server’s connection cap, and /metrics for this machine only', () => {
  it('holds HTTP_MAX_CONNECTIONS connections; one more is closed at once, and served again once one ends', async () => {
    const s = await start({ HTTP_MAX_CONNECTIONS: '3' });
    try {
      const held = [0, 1, 2].map(() => connect(s.port, [Buffer.from('GET /images HTTP/1.1\r\nhost: x\r\n')]));
      await Promise.all(held.map((c) => new Promise<void>((resolve) => c.socket.once('connect', () => resolve()))));
      // The server reads each held one (its partial request) before the fourth comes in.
      const extra = connect(s.port, [head('GET /images HTTP/1.1', { host: 'x' })]);
      await withDeadline(extra.closed, ANSWER_MS, 'the fourth connection closed');
      assert.equal(extra.received().length, 0, 'nothing answered on a refused connection');
      await s.waitForLog((l) => String(l.message).startsWith('connection refused'), 'the refusal logged');
      for (const c of held) c.socket.destroy();
      // Served again: each try is either refused at once (the server has not seen the close yet) or answered.
      let status = 0;
      for (let i = 0; status !== 200; i++) {
        assert.ok(i < 200, 'never served again');
        status = (
          await request(s.port, [head('GET /images HTTP/1.1', { host: 'x', connection: 'close' })], ANSWER_MS, 'GET /images').catch(() => ({
            status: 0,
          }))
        ).status;
      }
    } finally {
      await s.pipeline.stop();
    }
  });

  it('GET /metrics answers a loopback client, and refuses (403) one from another address', async () => {
    const other = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    assert.ok(other, 'this machine has a non-loopback IPv4 address to ask from');
    // Every address of the machine, so that a request can come from a non-loopback one; AUTH=none
    // there needs saying that this network is private (a test machine's).
    const s = await start({ AUTH_NONE_PUBLIC: 'true' }, '0.0.0.0');
    try {
      const local = await fetch(`http://127.0.0.1:${s.port}/metrics`);
      assert.equal(local.status, 200);
      assert.match(await local.text(), /# TYPE/);
      const remote = await fetch(`http://${other}:${s.port}/metrics`);
      assert.equal(remote.status, 403);
      assert.deepEqual(((await remote.json()) as { error: unknown }).error, {
        code: 'forbidden',
        message: 'GET /metrics is served to clients on this machine (loopback) only; scrape it from there',
      });
      // The rest of the API answers there as usual.
      assert.equal((await fetch(`http://${other}:${s.port}/images`)).status, 200);
    } finally {
      await s.pipeline.stop();
    }
  });
});
