import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { detect } from '../../src/detect/Detector';
import { imageKey } from '../../src/domain/keys';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { fixtureNames, readFixture } from '../helpers/fixtures';
import { waitForImage } from '../helpers/waitForImage';

/** The embedded default as a user meets it: multipart uploads over HTTP, tagged photos out. */
describe('embedded default, end to end over HTTP', () => {
  let pipeline: EmbeddedPipeline;
  let modelPath: string;

  before(async () => {
    modelPath = await ensureModel();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'warn', MODEL_PATH: modelPath });
    pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
  });
  after(async () => pipeline?.stop());

  it('tags every fixture with the detector’s detections on the original', async () => {
    const names = fixtureNames();
    // Act: upload them all at once, as the seed's curl does, one multipart request each.
    const accepted = await Promise.all(
      names.map(async (name) => {
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(readFixture(name))], { type: 'image/jpeg' }), name);
        const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form });
        assert.equal(res.status, 202, `${name}: ${await res.clone().text()}`);
        return { name, ...((await res.json()) as { image_id: string }) };
      }),
    );
    // Assess
    for (const { name, image_id } of accepted) {
      const outcome = await waitForImage(pipeline.app.store, image_id, { timeoutMs: 60_000 });
      assert.equal(outcome.status, 'done', `${name}: ${outcome.error ?? ''}`);
      const tagged = await pipeline.app.store.get(imageKey('tagged', image_id));
      const [meta, orig] = await Promise.all([sharp(tagged.body).metadata(), sharp(readFixture(name)).metadata()]);
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', orig.width, orig.height], name);
      const expected = await detect(readFixture(name), { modelPath });
      const got = outcome.stages.detect?.detections ?? [];
      assert.deepEqual(
        got.map((d) => d.label),
        expected.map((d) => d.label),
        name,
      );
      got.forEach((d, i) => {
        const e = expected[i]!;
        assert.ok(Math.abs(d.score - e.score) < 0.002, `${name} ${d.label} score`);
        for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(d.box[k] - e.box[k]) < 0.2, `${name} ${d.label} ${k}`);
      });
    }
  });
});
