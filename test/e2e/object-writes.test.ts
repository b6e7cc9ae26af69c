import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureModel } from '../../models/ensure-model';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { imageKey } from '../../src/domain/keys';
import { LOCAL_OWNER, ownerLabelKey, photoRecordKey } from '../../src/domain/owners';
import { createPorts } from '../../src/ports/createPorts';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { countingStore, type StoreCalls } from '../helpers/countingStore';
import { fixtureNames, readFixture } from '../helpers/fixtures';
import { waitForImage } from '../helpers/waitForImage';

/**
 * What a photo costs in object writes (S3 PUTs on AWS), counted on a real embedded pipeline whose
 * folder store is wrapped in a counting decorator: every put of every stage, the upload included.
 * A successful photo writes its four images — resize's, grayscale's and tag's each carrying its
 * stage's done record as metadata, in the same PUT — its record twice (the upload writes it; it is
 * its owner's index entry, so owners cost no write of their own; detect rewrites it once with its
 * detections and the done records of resize and grayscale its message carried) and one label-index
 * entry per distinct label found, in its owner's index: 4 + 2 + L. No `status/` object is written.
 * The bench's bill counts the same way (bench/requestCounts.ts).
 */
const FIXED_WRITES_PER_PHOTO = 6;

describe('object writes per photo, counted on the embedded pipeline', () => {
  let pipeline: EmbeddedPipeline;
  let calls: StoreCalls;
  let dir: string;

  before(async () => {
    const modelPath = await ensureModel();
    dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-writes-'));
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'warn', MODEL_PATH: modelPath });
    const ports = createPorts(config);
    const counted = countingStore(ports.store);
    calls = counted.calls;
    pipeline = await startEmbedded(createApp({ config, ports: { ...ports, store: counted.store }, detector: 'worker' }), { port: 0 });
  });
  after(async () => {
    await pipeline?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`writes ${FIXED_WRITES_PER_PHOTO} objects plus one label-index entry per distinct label, and nothing else`, async (t) => {
    // Act: every fixture uploaded over HTTP, one at a time, each waited for.
    const photos: Array<{ name: string; id: string; labels: string[] }> = [];
    for (const name of fixtureNames()) {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(readFixture(name))], { type: 'image/jpeg' }), name);
      const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form });
      assert.equal(res.status, 202, `${name}: ${await res.clone().text()}`);
      const { image_id } = (await res.json()) as { image_id: string };
      const outcome = await waitForImage(pipeline.app.store, image_id, { timeoutMs: 60_000 });
      assert.equal(outcome.status, 'done', `${name}: ${outcome.error ?? ''}`);
      const labels = [...new Set((outcome.stages.tag?.detections ?? []).map((d) => d.label))];
      photos.push({ name, id: image_id, labels });
    }

    // Assess: each photo's writes, exactly (a key written twice counts twice).
    const byPhoto = new Map(photos.map((p) => [p.id, [] as string[]]));
    const unattributed: string[] = [];
    for (const key of calls.writes) {
      const owner = photos.find(
        (p) =>
          key.includes(p.id) ||
          key === photoRecordKey(LOCAL_OWNER, p.id) ||
          p.labels.some((l) => key === ownerLabelKey(LOCAL_OWNER, l, p.id)),
      );
      (owner ? byPhoto.get(owner.id)! : unattributed).push(key);
    }
    let total = 0;
    for (const p of photos) {
      const writes = byPhoto.get(p.id)!;
      total += writes.length;
      const folders = writes.map((k) =>
        k.startsWith('status/')
          ? k.replace(`/${p.id}/`, '/').replace('.json', '')
          : k.startsWith('owners/')
            ? `owners/${k.split('/')[2]}`
            : k.split('/')[0],
      );
      t.diagnostic(`${p.name}: ${writes.length} writes (${FIXED_WRITES_PER_PHOTO} + ${p.labels.length} labels): ${folders.join(', ')}`);
    }
    t.diagnostic(`${photos.length} photos, ${total} writes, ${(total / photos.length).toFixed(2)} a photo`);
    for (const p of photos) {
      const expected = [
        ...(['original', 'resized', 'grayscale', 'tagged'] as const).map((folder) => imageKey(folder, p.id)),
        // The upload's write of the record, and detect's rewrite of it.
        photoRecordKey(LOCAL_OWNER, p.id),
        photoRecordKey(LOCAL_OWNER, p.id),
        ...p.labels.map((l) => ownerLabelKey(LOCAL_OWNER, l, p.id)),
      ];
      assert.deepEqual([...byPhoto.get(p.id)!].sort(), expected.sort(), p.name);
      assert.equal(byPhoto.get(p.id)!.length, FIXED_WRITES_PER_PHOTO + p.labels.length, p.name);
    }
    assert.deepEqual(unattributed, []);
  });
});
