import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp, { type Metadata } from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { newImageId } from '../../src/domain/imageId';
import { imageKey } from '../../src/domain/keys';
import { imageIdOfIndexKey, labelOfSegment } from '../../src/domain/labelKeys';
import type { Detection } from '../../src/domain/messages';
import { ownerOfSegment, parsePhotoRecordKey } from '../../src/domain/owners';
import type { DeadLetterAdmin } from '../../src/ports/DeadLetters';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { FAILING_UPLOADS, imageForm, REFUSED_UPLOADS } from '../helpers/badInputCases';
import { createUpload } from '../helpers/createUpload';
import { readFixture } from '../helpers/fixtures';
import { realPngBomb } from '../helpers/hostileImages';
import { postForm } from '../helpers/postPolicyContract';
import { MAX_CRAFTED_SCANS, progressiveJpeg } from '../helpers/progressiveJpeg';
import { type ImageOutcome, waitForImage } from '../helpers/waitForImage';

/**
 * Bad input against the embedded default over HTTP. Each case ends in one of three ways: a correct
 * tagged output, a clear 4xx at upload with our message, or a terminal failure whose reason is in
 * the status record or the dead-letter queue. Never a crash, an endless retry, or a stalled
 * neighbour: a good photo uploaded alongside each hostile one must still be tagged.
 */
const MAX_UPLOAD_BYTES = 1_200_000;
const MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024;
/** What every 413 of POST /upload adds: where larger photos go (MAX_BUCKET_UPLOAD_BYTES by default). */
const LARGER = '; send larger photos with POST /uploads (up to 52428800 bytes)';

const labels = (ds: Detection[] | undefined) => (ds ?? []).map((d) => d.label).sort();

interface UploadReply {
  status: number;
  body: {
    image_id?: string;
    format?: string;
    width?: number;
    height?: number;
    original_path?: string;
    error?: { code: string; message: string };
  };
}

describe('bad input on the embedded default, over HTTP', () => {
  let pipeline: EmbeddedPipeline;
  let deadLetters: DeadLetterAdmin;
  const neighbours: string[] = [];
  let dogDetections: Detection[] = [];

  async function post(body: Buffer | FormData, headers: Record<string, string> = {}): Promise<UploadReply> {
    const res = await fetch(`${pipeline.url}/upload`, {
      method: 'POST',
      body: body instanceof FormData ? body : new Uint8Array(body),
      headers,
    });
    return { status: res.status, body: (await res.json()) as UploadReply['body'] };
  }

  /** Uploads a good photo beside the hostile one; checked at the end of the run. */
  async function neighbour(): Promise<void> {
    const r = await post(imageForm(readFixture('person.jpg')));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    neighbours.push(r.body.image_id!);
  }

  async function outcomeOf(imageId: string): Promise<ImageOutcome> {
    return waitForImage(pipeline.app.store, imageId, { timeoutMs: 60_000, pollMs: 50 });
  }

  async function acceptedAndTagged(
    bytes: Buffer,
    filename = 'photo.jpg',
  ): Promise<{ id: string; reply: UploadReply; outcome: ImageOutcome; tagged: Metadata }> {
    const reply = await post(imageForm(bytes, { filename }));
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const id = reply.body.image_id!;
    const outcome = await outcomeOf(id);
    assert.equal(outcome.status, 'done', `${outcome.failedStage}: ${outcome.error}`);
    const tagged = await sharp((await pipeline.app.store.get(imageKey('tagged', id))).body).metadata();
    assert.equal(tagged.format, 'jpeg');
    return { id, reply, outcome, tagged };
  }

  function refused(r: UploadReply, status: number, code: string, message: string | RegExp): void {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, code);
    if (typeof message === 'string') assert.equal(r.body.error?.message, message);
    else assert.match(r.body.error?.message ?? '', message);
  }

  before(async () => {
    const modelPath = await ensureModel();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-bad-input-'));
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'error',
      MODEL_PATH: modelPath,
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      VISIBILITY_TIMEOUT_SECONDS: '2',
    });
    pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
    deadLetters = pipeline.app.deadLetters;
    const dog = await acceptedAndTagged(readFixture('dog.jpg'));
    dogDetections = dog.outcome.stages.detect?.detections ?? [];
    assert.ok(dogDetections.length > 0);
  });

  after(async () => {
    // Every good neighbour uploaded beside a hostile input was tagged.
    try {
      for (const id of neighbours) assert.equal((await outcomeOf(id)).status, 'done', id);
      assert.ok(neighbours.length >= 10);
    } finally {
      await pipeline?.stop();
    }
  });

  for (const c of REFUSED_UPLOADS) {
    it(`refuses ${c.name} with ${c.status} ${c.code}`, async () => {
      await neighbour();
      const { body, headers } = c.request();
      refused(await post(body, headers), c.status, c.code, c.message);
    });
  }

  for (const c of FAILING_UPLOADS) {
    it(`${c.name}: accepted, then a terminal failure at ${c.stage} with the reason, not retried`, async () => {
      await neighbour();
      const { body, headers } = c.request();
      const r = await post(body, headers);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const id = r.body.image_id!;
      const outcome = await outcomeOf(id);
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.failedStage, c.stage);
      assert.equal(outcome.error, c.reason);
      assert.equal(outcome.stages[c.stage]?.attempt, 1, 'bad input is not retried');
      const dead = await deadLetters.listDeadLetters(pipeline.app.config.queues[c.stage === 'detect' ? 'detect' : c.stage]);
      assert.equal(dead.filter((d) => d.body.includes(id)).length, 1);
      assert.equal(dead.find((d) => d.body.includes(id))?.reason, outcome.error);
      // The status API tells the user why.
      const status = (await (await fetch(`${pipeline.url}/images/${id}`)).json()) as {
        state: string;
        error?: { stage: string; reason: string };
      };
      assert.equal(status.state, 'failed');
      assert.deepEqual(status.error, { stage: c.stage, reason: outcome.error });
    });
  }

  it('through POST /uploads and the bucket: the 883-scan JPEG and a 70000x1 PNG fail at ingest, at attempt 1, with the reason', async () => {
    await neighbour();
    // The reasons POST /upload refuses them with, recorded as ingest's.
    const reason = (code: string) => `ImageTooLargeError: ${REFUSED_UPLOADS.find((c) => c.code === code)!.message}`;
    const cases: Array<[Buffer, string, string]> = [
      [progressiveJpeg(64, 48, MAX_CRAFTED_SCANS), 'image/jpeg', reason('too_many_scans')],
      [realPngBomb(70_000, 1), 'image/png', reason('side_too_long')],
    ];
    for (const [bytes, contentType, reason] of cases) {
      const created = await createUpload(pipeline.url!, { content_type: contentType, size: bytes.length });
      assert.equal((await postForm(created.upload, bytes)).status, 204);
      const outcome = await outcomeOf(created.image_id);
      assert.deepEqual([outcome.status, outcome.failedStage, outcome.error], ['failed', 'upload', reason]);
      assert.equal(outcome.stages.upload?.attempt, 1, 'bad input is not retried');
    }
    assert.deepEqual(await deadLetters.listDeadLetters(pipeline.app.config.queues.ingest), [], 'refused, not dead-lettered');
  });

  it('refuses a file over the byte limit: by Content-Length, and inside the multipart parser', async () => {
    await neighbour();
    const kite = readFixture('kite.jpg'); // 1.4 MB > the limit plus multipart headroom
    assert.ok(kite.length > MAX_BODY_BYTES);
    refused(
      await post(imageForm(kite)),
      413,
      'too_large',
      new RegExp(`^expected an upload of at most ${MAX_BODY_BYTES} bytes, got \\d+${LARGER.replace(/[()]/g, '\\$&')}$`),
    );
    // Over the file limit but within the body headroom: busboy's file limit catches it.
    const padded = Buffer.concat([readFixture('dog.jpg'), Buffer.alloc(MAX_UPLOAD_BYTES + 10_000 - readFixture('dog.jpg').length)]);
    refused(await post(imageForm(padded)), 413, 'too_large', `expected an upload of at most ${MAX_UPLOAD_BYTES} bytes, got more${LARGER}`);
    refused(
      await post(padded, { 'content-type': 'image/jpeg' }),
      413,
      'too_large',
      `expected an upload of at most ${MAX_UPLOAD_BYTES} bytes, got ${padded.length}${LARGER}`,
    );
  });

  it('tags a CMYK JPEG in sRGB at its size', async () => {
    await neighbour();
    const cmyk = await sharp(readFixture('dog.jpg')).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const { tagged, outcome } = await acceptedAndTagged(cmyk);
    assert.deepEqual([tagged.width, tagged.height, tagged.space, tagged.channels], [768, 576, 'srgb', 3]);
    assert.deepEqual(labels(outcome.stages.detect?.detections), labels(dogDetections));
  });

  it('tags a 16-bit PNG', async () => {
    await neighbour();
    const png16 = await sharp(readFixture('dog.jpg')).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(png16).metadata()).depth, 'ushort');
    const { tagged, reply, outcome } = await acceptedAndTagged(png16, 'photo.png');
    assert.equal(reply.body.format, 'png');
    assert.deepEqual([tagged.width, tagged.height, tagged.channels], [768, 576, 3]);
    assert.deepEqual(labels(outcome.stages.detect?.detections), labels(dogDetections));
  });

  it('tags an already-grayscale photo', async () => {
    await neighbour();
    const grey = await sharp(readFixture('dog.jpg')).toColourspace('b-w').jpeg().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    const { tagged, outcome } = await acceptedAndTagged(grey);
    assert.deepEqual([tagged.width, tagged.height], [768, 576]);
    assert.ok((outcome.stages.detect?.detections ?? []).length > 0);
    const g = await sharp(
      (await pipeline.app.store.get(imageKey('grayscale', outcome.stages.tag!.output_key!.slice(7, -4)))).body,
    ).metadata();
    assert.equal(g.format, 'jpeg');
  });

  it('EXIF orientation 6: boxes land on the objects of the upright image', async () => {
    await neighbour();
    // The dog's pixels turned a quarter turn anticlockwise, stored with "rotate 90° clockwise to view".
    const rotated = await sharp(readFixture('dog.jpg')).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const meta = await sharp(rotated).metadata();
    assert.deepEqual([meta.width, meta.height, meta.orientation], [576, 768, 6]);
    const { reply, tagged, outcome } = await acceptedAndTagged(rotated);
    assert.deepEqual([reply.body.width, reply.body.height], [768, 576], 'upload reports the upright size');
    assert.deepEqual([tagged.width, tagged.height], [768, 576], 'tagged is upright');
    assert.equal(tagged.orientation ?? 1, 1, 'no orientation left to apply twice');
    const got = outcome.stages.detect?.detections ?? [];
    assert.deepEqual(
      got.map((d) => d.label),
      dogDetections.map((d) => d.label),
    );
    got.forEach((d, i) => {
      const e = dogDetections[i]!;
      for (const k of ['x', 'y', 'width', 'height'] as const) {
        assert.ok(Math.abs(d.box[k] - e.box[k]) <= 6, `${d.label} ${k}: ${d.box[k]} vs ${e.box[k]} on the plain dog.jpg`);
      }
    });
    assert.deepEqual(outcome.stages.resize?.output_key?.startsWith('resized/'), true);
    const resized = await sharp((await pipeline.app.store.get(outcome.stages.resize!.output_key!)).body).metadata();
    assert.deepEqual([resized.width, resized.height], [192, 144], 'resized copy is upright too');
  });

  it('tags a 1x1 image and a 12000x8 strip', async () => {
    await neighbour();
    const one = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const a = await acceptedAndTagged(one);
    assert.deepEqual([a.tagged.width, a.tagged.height], [1, 1]);
    const strip = await sharp({ create: { width: 12_000, height: 8, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const b = await acceptedAndTagged(strip);
    assert.deepEqual([b.tagged.width, b.tagged.height], [12_000, 8]);
    const resized = await sharp((await pipeline.app.store.get(b.outcome.stages.resize!.output_key!)).body).metadata();
    assert.deepEqual([resized.width, resized.height], [3000, 2]);
  });

  it('takes a PNG and a WebP named .jpg for what they are', async () => {
    await neighbour();
    const png = await sharp(readFixture('dog.jpg')).png().toBuffer();
    const webp = await sharp(readFixture('dog.jpg')).webp().toBuffer();
    for (const [bytes, format, ext] of [
      [png, 'png', 'png'],
      [webp, 'webp', 'webp'],
    ] as const) {
      const { reply, tagged, outcome } = await acceptedAndTagged(bytes, 'photo.jpg');
      assert.equal(reply.body.format, format);
      assert.equal(reply.body.original_path, imageKey('original', reply.body.image_id!, ext));
      assert.deepEqual([tagged.width, tagged.height], [768, 576]);
      assert.deepEqual(labels(outcome.stages.detect?.detections), labels(dogDetections));
    }
  });

  it('tags the first frame of an animated GIF', async () => {
    await neighbour();
    const frame = (background: string) =>
      sharp({ create: { width: 64, height: 48, channels: 3, background } })
        .png()
        .toBuffer();
    const gif = await sharp([await frame('#ff0000'), await frame('#00ff00'), await frame('#0000ff')], { join: { animated: true } })
      .gif()
      .toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 3);
    const { tagged, id } = await acceptedAndTagged(gif, 'anim.jpg');
    assert.deepEqual([tagged.width, tagged.height, tagged.pages ?? 1], [64, 48, 1]);
    const { data } = await sharp((await pipeline.app.store.get(imageKey('tagged', id))).body)
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.ok(data[0]! > 200 && data[1]! < 60, 'first frame (red)');
  });

  it('refuses a chunked multipart body over the limit while it streams, before the client has sent it all', async () => {
    await neighbour();
    const total = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const { port } = new URL(pipeline.url!);
    const result = await new Promise<{ status: number; body: string; sentWhenAnswered: number; stoppedEarly: boolean }>(
      (resolve, reject) => {
        let sent = 0;
        let answeredAt = -1;
        let body = '';
        let status = 0;
        let stopped = false;
        const req = http.request({
          host: '127.0.0.1',
          port,
          path: '/upload',
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=xyz', 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          answeredAt = sent;
          status = res.statusCode ?? 0;
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status, body, sentWhenAnswered: answeredAt, stoppedEarly: true }));
        });
        req.on('error', (e) => {
          // The server dropping the connection mid-upload is a refusal too, if the answer came first.
          if (answeredAt >= 0 || stopped) return;
          reject(e);
        });
        req.write('--xyz\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n');
        const pump = () => {
          if (answeredAt >= 0 || req.destroyed) return;
          if (sent >= total) {
            stopped = true;
            req.end('\r\n--xyz--\r\n');
            return;
          }
          sent += chunk.length;
          req.write(chunk);
          setTimeout(pump, 5);
        };
        pump();
      },
    );
    assert.equal(result.status, 413, result.body);
    assert.ok(result.sentWhenAnswered < total, `answered after ${result.sentWhenAnswered} of ${total} bytes`);
    assert.ok(result.sentWhenAnswered <= MAX_BODY_BYTES + 512 * 1024, `answered after ${result.sentWhenAnswered} bytes`);
    // The file's own limit, found by the multipart parser as the bytes stream in.
    assert.deepEqual((JSON.parse(result.body) as { error: unknown }).error, {
      code: 'too_large',
      message: `expected an upload of at most ${MAX_UPLOAD_BYTES} bytes, got more${LARGER}`,
    });
  });

  it('dead-letters malformed and hostile queue messages with a reason (at once, or after the redrive policy for a missing object); neighbours pass', async () => {
    await neighbour();
    const resizeQueue = pipeline.app.config.queues.resize;
    const tagQueue = pipeline.app.config.queues.tag;
    const ghost = newImageId();
    const cases: Array<{ queue: string; body: string; reason: string }> = [
      { queue: resizeQueue, body: 'not json {', reason: 'InvalidMessageError: resize message: body is not JSON (got "not json {")' },
      {
        queue: resizeQueue,
        body: JSON.stringify({ v: 3, image_id: ghost, original_path: imageKey('original', ghost) }),
        reason: 'InvalidMessageError: resize message: unknown message version 3, expected 1 or 2',
      },
      {
        queue: resizeQueue,
        body: JSON.stringify({ v: 1, image_id: '../../etc/passwd', original_path: 'original/../../etc/passwd.jpg' }),
        reason:
          'InvalidMessageError: resize message: image_id: expected a server-generated image id (UUIDv7); original_path: expected an image key like original/<image_id>.jpg',
      },
      {
        queue: resizeQueue,
        body: JSON.stringify([1, 2]),
        reason: 'InvalidMessageError: resize message: (root): Invalid input: expected object, received array',
      },
      {
        queue: resizeQueue,
        body: JSON.stringify({ v: 1, image_id: ghost, original_path: imageKey('original', ghost), extra: '../x' }),
        reason: 'InvalidMessageError: resize message: (root): Unrecognized key: "extra"',
      },
      // Well-formed, but the object is not there (yet): retried, not a loop — the queue's redrive
      // policy dead-letters it after maxReceiveCount receives (an object not yet found is a fault of
      // the moment or of the deployment, a redrive fixes it once the object is there; not bad input).
      {
        queue: resizeQueue,
        body: JSON.stringify({ v: 1, image_id: ghost, original_path: imageKey('original', ghost) }),
        reason: 'maxReceiveCount exceeded',
      },
      {
        queue: tagQueue,
        body: JSON.stringify({
          v: 1,
          image_id: ghost,
          original_path: `original/${ghost}.jpg/../../../x.jpg`,
          origin_h: 1,
          origin_w: 1,
          detections: [],
        }),
        reason: 'InvalidMessageError: tag message: original_path: expected an image key like original/<image_id>.jpg',
      },
    ];
    const before = new Map<string, number>();
    for (const q of [resizeQueue, tagQueue]) before.set(q, (await deadLetters.listDeadLetters(q)).length);
    for (const c of cases) await pipeline.app.queue.send(c.queue, c.body);
    await neighbour();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const dead = [
        ...(await deadLetters.listDeadLetters(resizeQueue)).slice(before.get(resizeQueue)),
        ...(await deadLetters.listDeadLetters(tagQueue)).slice(before.get(tagQueue)),
      ];
      if (dead.length >= cases.length || Date.now() > deadline) {
        for (const c of cases) {
          const letter = dead.find((d) => d.body === c.body);
          assert.ok(letter, `dead-lettered: ${c.body}`);
          // Our text exactly: no cause is appended, so no server path leaks into the reason.
          assert.equal(letter.reason, c.reason);
        }
        assert.equal(dead.length, cases.length);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Nothing was written outside the server's own keys: every key is <folder>/<UUIDv7>..., or an
    // owner's photo record or label entry, owners/<owner>/photos|labels/<COCO label>/<inverted UUIDv7>
    // (src/domain/owners.ts), of an owner it decodes to.
    for (const key of await pipeline.app.store.list('')) {
      if (key.startsWith('owners/')) {
        const [, owner = '', kind, segment = ''] = key.split('/');
        assert.ok(ownerOfSegment(owner) !== undefined, key);
        if (kind === 'photos') assert.ok(parsePhotoRecordKey(key), key);
        else {
          const prefix = `owners/${owner}/labels/${segment}/`;
          assert.ok(kind === 'labels' && labelOfSegment(segment) !== undefined && imageIdOfIndexKey(prefix, key) !== undefined, key);
        }
        continue;
      }
      assert.match(
        key,
        /^(original|resized|grayscale|tagged|status)\/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}[./]/,
        key,
      );
    }
    await assert.rejects(pipeline.app.store.get('original/../../etc/passwd'), {
      name: 'UnsafeKeyError',
      message: 'unsafe object key "original/../../etc/passwd": ".." segments are not allowed',
    });
  });
});
