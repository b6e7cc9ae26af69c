import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureModel } from '../../models/ensure-model';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { FAILING_UPLOADS } from '../helpers/badInputCases';
import { fixtureNames, readFixture, referenceDetections } from '../helpers/fixtures';
import { waitForImage } from '../helpers/waitForImage';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver';

/**
 * Search by label and completion events on the embedded default, as a user meets them: every fixture
 * and one bad file uploaded over HTTP, then GET /images?label=… and GET /labels; and a webhook
 * receiver (a real HTTP server, test/helpers/webhookReceiver.ts) that verifies each delivery's signature and answers 503 to the
 * first two tries of every event, then 200: each event still arrives, once accepted, after three tries.
 */
const SECRET = 'search-events-test-secret-0123456789';
const FAILS_PER_EVENT = 2;

describe('search by label and completion events (embedded default, webhook)', { timeout: 240_000 }, () => {
  let pipeline: EmbeddedPipeline;
  let receiver: WebhookReceiver;
  const ids = new Map<string, string>(); // fixture name -> image id
  let badId = '';

  before(async () => {
    receiver = await startWebhookReceiver({ secret: SECRET, failsPerEvent: FAILS_PER_EVENT, failStatus: 503 });
    const modelPath = await ensureModel();
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'pipeline-search-')),
      LOG_LEVEL: 'warn',
      MODEL_PATH: modelPath,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      // Each try may take half its lease (1.5 s): a loaded machine must not time a try out after the receiver took it.
      WEBHOOK_RETRY_SECONDS: '3',
    });
    pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
    // Every fixture, then the bad file (a PNG with damaged pixel data: fails for good at resize).
    for (const name of fixtureNames()) {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(readFixture(name))], { type: 'image/jpeg' }), name);
      const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form });
      assert.equal(res.status, 202, name);
      ids.set(name, ((await res.json()) as { image_id: string }).image_id);
    }
    const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: FAILING_UPLOADS[0]!.request().body as FormData });
    badId = ((await res.json()) as { image_id: string }).image_id;
    for (const id of [...ids.values(), badId])
      assert.notEqual((await waitForImage(pipeline.app.store, id, { timeoutMs: 120_000 })).status, 'timeout');
  });
  after(async () => {
    await pipeline?.stop();
    await receiver?.close();
  });

  it('GET /images?label=horse returns exactly the photos with a horse; AND of labels; limit 1 walks each once', async () => {
    const reference = referenceDetections();
    const withLabel = (label: string) =>
      fixtureNames()
        .filter((n) => reference[n]!.detections.some((d) => d.label === label))
        .map((n) => ids.get(n)!)
        .sort()
        .reverse(); // newest first, as ids sort by upload time
    const search = async (query: string) => {
      const res = await fetch(`${pipeline.url}/images?${query}`);
      return { status: res.status, body: (await res.json()) as { images: Array<{ image_id: string }>; next_cursor: string | null } };
    };
    const horse = await search('label=horse');
    assert.equal(horse.status, 200);
    assert.deepEqual(
      horse.body.images.map((i) => i.image_id),
      withLabel('horse'),
    );
    assert.equal(horse.body.next_cursor, null);
    for (const [query, expected] of [
      ['label=person&label=dog', withLabel('person').filter((id) => withLabel('dog').includes(id))],
      ['label=traffic%20light', []],
      ['label=kite,person', withLabel('kite')],
    ] as const) {
      assert.deepEqual(
        (await search(query)).body.images.map((i) => i.image_id),
        expected,
        query,
      );
    }
    for (const label of ['person', 'dog', 'horse']) {
      const walked: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 20; pages += 1) {
        const page = await search(`label=${label}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.body.images.length <= 1);
        walked.push(...page.body.images.map((i) => i.image_id));
        cursor = page.body.next_cursor;
        if (!cursor) break;
      }
      assert.deepEqual(walked, withLabel(label), `${label}: limit 1 walks every match once`);
    }
  });

  it('an unknown or hostile label, or a forged cursor, is a 400 with the reason', async () => {
    for (const [query, code, message] of [
      [
        'label=unicorn',
        'invalid_label',
        'expected each label to be a COCO name such as "dog", "person" or "traffic light" (GET /labels lists those found so far), got "unicorn"',
      ],
      [
        `label=${encodeURIComponent('../original')}`,
        'invalid_label',
        'expected each label to be a COCO name such as "dog", "person" or "traffic light" (GET /labels lists those found so far), got "../original"',
      ],
      ['label=dog&cursor=Li4vLi4v', 'invalid_cursor', 'expected cursor to be the next_cursor of an earlier answer, got "Li4vLi4v"'],
    ] as const) {
      const res = await fetch(`${pipeline.url}/images?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.deepEqual(body.error, { code, message }, query);
    }
  });

  it('GET /labels counts the photos of each label found', async () => {
    const reference = referenceDetections();
    const expected = new Map<string, number>();
    for (const n of fixtureNames())
      for (const l of new Set(reference[n]!.detections.map((d) => d.label))) expected.set(l, (expected.get(l) ?? 0) + 1);
    const res = await fetch(`${pipeline.url}/labels`);
    const body = (await res.json()) as { labels: Array<{ label: string; count: number }> };
    assert.deepEqual(new Map(body.labels.map((l) => [l.label, l.count])), expected);
    const counts = body.labels.map((l) => l.count);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => b - a),
      'most frequent first',
    );
  });

  it('the webhook gets one signed event per photo, each after two failed tries, with the detections or the reason', async () => {
    const photos = fixtureNames().length + 1;
    await receiver.until(
      () => receiver.accepted.length >= photos,
      () => `${receiver.accepted.length} of ${photos} events`,
      60_000,
    );
    assert.deepEqual(receiver.problems, [], 'every delivery was signed with the secret');
    assert.equal(receiver.accepted.length, photos);
    for (const [name, id] of ids) {
      const got = receiver.accepted.filter((d) => d.body.detail.image_id === id);
      assert.equal(got.length, 1, name);
      const { body } = got[0]!;
      assert.deepEqual([body.source, body['detail-type'], got[0]!.id], ['image-pipeline', 'Image Tagged', `${id}:tagged`], name);
      const status = (await (await fetch(`${pipeline.url}/images/${id}`)).json()) as { detections: unknown[] };
      assert.deepEqual(body.detail.detections, status.detections, name);
      assert.equal(receiver.tries.get(`${id}:tagged`), FAILS_PER_EVENT + 1, `${name}: tried three times`);
    }
    const failed = receiver.accepted.filter((d) => d.body.detail.image_id === badId);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.body['detail-type'], 'Image Failed');
    assert.equal(failed[0]!.body.detail.stage, 'resize');
    assert.equal(failed[0]!.body.detail.reason, FAILING_UPLOADS[0]!.reason);
    assert.deepEqual(await pipeline.app.deadLetters.listDeadLetters('events_queue'), []);
  });
});
