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
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { readFixture } from '../helpers/fixtures';
import { waitForImage } from '../helpers/waitForImage';

/**
 * No module-level state: two embedded pipelines in one process, each on its own data folder, run at
 * the same time; each tags its own photos, and nothing of one (objects, records, log lines, metrics)
 * turns up in the other.
 */
describe('two embedded pipelines in one process', () => {
  const photos = { a: ['dog.jpg', 'eagle.jpg', 'kite.jpg'], b: ['horses.jpg', 'giraffe.jpg', 'person.jpg'] } as const;
  const pipelines: Partial<Record<'a' | 'b', EmbeddedPipeline>> = {};
  const logs: Record<'a' | 'b', Array<Record<string, unknown>>> = { a: [], b: [] };
  const dirs: Partial<Record<'a' | 'b', string>> = {};

  let modelPath: string;

  before(async () => {
    modelPath = await ensureModel();
    for (const side of ['a', 'b'] as const) {
      dirs[side] = mkdtempSync(path.join(os.tmpdir(), `pipeline-two-${side}-`));
      const config = loadConfig({ DATA_DIR: dirs[side], MODEL_PATH: modelPath, LOG_LEVEL: 'info' });
      const app = createApp({
        config,
        detector: 'worker',
        logSink: (line) => logs[side].push(JSON.parse(line) as Record<string, unknown>),
      });
      pipelines[side] = await startEmbedded(app, { port: 0 });
    }
  });
  after(async () => {
    await Promise.all(Object.values(pipelines).map((p) => p.stop()));
  });

  it('each tags its own photos, at the same time, and nothing crosses', async () => {
    // Act: every photo uploaded to its pipeline over HTTP, all at once.
    const upload = async (side: 'a' | 'b', name: string) => {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(readFixture(name))], { type: 'image/jpeg' }), name);
      const res = await fetch(`${pipelines[side]!.url}/upload`, { method: 'POST', body: form });
      assert.equal(res.status, 202, await res.clone().text());
      return { side, name, id: ((await res.json()) as { image_id: string }).image_id };
    };
    const accepted = await Promise.all([...photos.a.map((n) => upload('a', n)), ...photos.b.map((n) => upload('b', n))]);
    const outcomes = await Promise.all(accepted.map((u) => waitForImage(pipelines[u.side]!.app.store, u.id, { timeoutMs: 120_000 })));

    for (const [i, u] of accepted.entries()) {
      const outcome = outcomes[i]!;
      assert.equal(outcome.status, 'done', `${u.side} ${u.name}: ${outcome.error ?? ''}`);
      // Its own photo: the tagged image has the original's size and the detections are that photo's.
      const { store } = pipelines[u.side]!.app;
      const tagged = await sharp((await store.get(`tagged/${u.id}.jpg`)).body).metadata();
      const original = await sharp(readFixture(u.name)).metadata();
      assert.deepEqual([tagged.width, tagged.height], [original.width, original.height], `${u.side} ${u.name}`);
      const expected = await detect(readFixture(u.name), { modelPath });
      assert.deepEqual(
        (outcome.stages.detect?.detections ?? []).map((d) => d.label),
        expected.map((d) => d.label),
        `${u.side} ${u.name}`,
      );
    }
    for (const side of ['a', 'b'] as const) {
      const own = accepted.filter((u) => u.side === side).map((u) => u.id);
      const other = accepted.filter((u) => u.side !== side).map((u) => u.id);
      const { app, url } = pipelines[side]!;
      // Objects: each folder holds its own images and no other.
      for (const folder of ['original', 'resized', 'grayscale', 'tagged']) {
        const ids = (await app.store.list(`${folder}/`)).map((k) => k.slice(folder.length + 1, k.lastIndexOf('.')));
        assert.deepEqual(ids.sort(), [...own].sort(), `${side} ${folder}/`);
      }
      assert.ok(app.config.dataDir === dirs[side]);
      // Status API: the other pipeline's ids are unknown here.
      for (const id of other) assert.equal((await fetch(`${url}/images/${id}`)).status, 404);
      // Logs: every line that names an image names one of its own; each of its photos logged all five stages.
      const named = logs[side].filter((l) => l.image_id !== undefined);
      assert.deepEqual(
        named.filter((l) => !own.includes(String(l.image_id))),
        [],
        `${side} logged another pipeline's image`,
      );
      for (const id of own) {
        assert.deepEqual(
          named.filter((l) => l.image_id === id && l.message === 'stage done').map((l) => l.stage),
          ['upload', 'resize', 'grayscale', 'detect', 'tag'],
        );
      }
      // Metrics: each counts its own.
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /^pipeline_stage_processed_total\{stage="tag"\} 3$/m, side);
      assert.match(metrics, /^pipeline_stage_processed_total\{stage="upload"\} 3$/m, side);
    }
  });
});
