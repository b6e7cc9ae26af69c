/**
 * The default model is faithful to the reference (models/faithfulness.ts): on every photo of the
 * evaluation set (models/evaluation-photos.json: natural photos from five registry packages and the
 * darknet fixtures, disjoint from the int8 calibration photos) it finds every object the TF.js
 * reference finds at >= 0.5 (same label, IoU >= 0.5), adds none at >= 0.5, and moves no score by
 * more than 0.02. The model is the one the pipeline runs by default (ensureModel(), the file
 * MODEL_FILE_NAME names, the layer's main), run as the pipeline runs it (detect(), 1 thread).
 *
 * The stored reference (models/evaluation-reference.json) is re-derived here from the TF.js graph
 * for every photo, so it cannot go stale.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureModel } from '../../models/ensure-model';
import {
  BORDERLINE_BELOW,
  computeReference,
  type EvaluationPhoto,
  ensureEvaluationPhotos,
  readEvaluationReference,
  summarize,
} from '../../models/evaluation';
import { describeJudgement, FAITHFUL, holds, judge } from '../../models/faithfulness';
import { REPO_ROOT } from '../../models/paths';
import { MODEL_FILE_NAME } from '../../src/assets/modelPath';
import { detect } from '../../src/detect/Detector';

let photos: EvaluationPhoto[];
let modelPath: string;
const stored = readEvaluationReference();

before(async () => {
  photos = ensureEvaluationPhotos();
  modelPath = await ensureModel();
});

describe('the evaluation set', () => {
  it('has at least 40 reference objects, several of them borderline (0.5-0.65), and a reference entry per photo', () => {
    const { objects, borderline } = summarize(stored);
    assert.ok(objects >= 40, `${objects} reference objects`);
    assert.ok(borderline.length >= 5, `${borderline.length} borderline objects (below ${BORDERLINE_BELOW})`);
    assert.deepEqual(Object.keys(stored).sort(), photos.map((p) => p.id).sort());
  });

  it('`npx tsx models/evaluation.ts` (as models/README.md gives it) prints the set as the docs state it', () => {
    // Act
    const out = execFileSync('npx', ['tsx', 'models/evaluation.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
    // Assess
    const { photos: count, objects, borderline } = summarize(stored);
    assert.equal(
      out.trim(),
      `${count} photos, ${objects} reference objects at >= 0.5, ${borderline.length} borderline (0.5-${BORDERLINE_BELOW})`,
    );
  });

  it('models/evaluation-reference.json is what the TF.js reference finds now, photo by photo', { timeout: 600_000 }, async () => {
    // Act: the reference graph on every photo (about 0.2 s each on one thread)
    const now = await computeReference(photos);
    // Assess: same labels and order; scores within the stored rounding; boxes within 0.5 px
    for (const p of photos) {
      const a = stored[p.id];
      const b = now[p.id];
      assert.ok(a && b, p.id);
      assert.deepEqual([b.width, b.height], [a.width, a.height], p.id);
      assert.deepEqual(
        b.detections.map((d) => d.label),
        a.detections.map((d) => d.label),
        p.id,
      );
      b.detections.forEach((d, i) => {
        const s = a.detections[i]!;
        assert.ok(Math.abs(d.score - s.score) <= 1e-4, `${p.id} ${d.label}: score ${d.score} vs stored ${s.score}`);
        for (const [k, v] of d.bbox.entries())
          assert.ok(Math.abs(v - s.bbox[k]!) <= 0.5, `${p.id} ${d.label}: bbox ${d.bbox} vs stored ${s.bbox}`);
      });
    }
  });
});

describe(`the default model (${MODEL_FILE_NAME}) against the reference, per evaluation photo`, () => {
  it('is the file the pipeline loads by default', () => {
    assert.equal(path.basename(modelPath), MODEL_FILE_NAME);
  });

  for (const id of Object.keys(stored))
    it(`${id}: every reference object (same label, IoU >= ${FAITHFUL.minIou}), none added, no score moved by more than ${FAITHFUL.maxScoreDelta}`, async (t) => {
      // Prepare
      const photo = photos.find((p) => p.id === id);
      assert.ok(photo, `${id} fetched`);
      // Act
      const found = await detect(readFileSync(photo.file), { modelPath, intraOpNumThreads: 1 });
      // Assess
      const judgement = judge(found, stored[id]!.detections);
      t.diagnostic(`${id}: ${describeJudgement(judgement)}`);
      assert.ok(holds(judgement), `${id}: ${describeJudgement(judgement)}`);
    });
});
