import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readEvaluationRecord, readEvaluationReference } from '../../models/evaluation';
import { readCalibrationRecord } from '../../models/fetch-calibration';

/**
 * The int8 model is calibrated on one set of photos and judged on another: no photo of the
 * evaluation set (models/evaluation-photos.json) is a calibration photo (models/calibration-photos.json),
 * by content hash — the fetchers check each file's bytes against these hashes, so the files used are
 * the ones compared here.
 */
describe('calibration and evaluation photos', () => {
  it('share no photo (sha256), and no photo appears twice in either set', () => {
    // Prepare
    const calibration = readCalibrationRecord().photos.map((p) => p.sha256);
    const evaluation = readEvaluationRecord().photos.map((p) => p.sha256);
    // Assess
    assert.equal(new Set(calibration).size, calibration.length, 'a calibration photo listed twice');
    assert.equal(new Set(evaluation).size, evaluation.length, 'an evaluation photo listed twice');
    const shared = evaluation.filter((h) => calibration.includes(h));
    assert.deepEqual(shared, [], 'evaluation photos that are calibration photos');
    assert.ok(calibration.length >= 10 && evaluation.length >= 10, `${calibration.length} and ${evaluation.length} photos`);
    for (const h of [...calibration, ...evaluation]) assert.match(h, /^[0-9a-f]{64}$/);
  });

  it('every evaluation photo has its source in the record and its entry in models/evaluation-reference.json', () => {
    const record = readEvaluationRecord();
    const reference = readEvaluationReference();
    for (const p of record.photos) {
      assert.ok(record.sources[p.source], `${p.name}: no source ${p.source}`);
      assert.ok(reference[`${p.source}/${p.name}`], `${p.source}/${p.name}: no reference entry`);
    }
    assert.equal(Object.keys(reference).length, record.photos.length);
  });
});
