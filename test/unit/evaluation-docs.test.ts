import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readEvaluationRecord, readEvaluationReference, summarize } from '../../models/evaluation';
import { REPO_ROOT } from '../../scripts/repoRoot';

/** What models/README.md and docs/detector.md say about the evaluation set is what its files hold. */
describe('the evaluation set as the docs describe it', () => {
  const reference = readEvaluationReference();
  const { photos, objects, borderline } = summarize(reference);
  const modelsReadme = readFileSync(path.join(REPO_ROOT, 'models/README.md'), 'utf8');
  const detectorDoc = readFileSync(path.join(REPO_ROOT, 'docs/detector.md'), 'utf8');

  it('states the number of photos, reference objects and borderline ones', () => {
    assert.match(modelsReadme, new RegExp(`${photos} natural photos`));
    assert.match(modelsReadme, new RegExp(`${objects} objects the reference finds at >= 0.5, ${borderline.length} of them borderline`));
    assert.match(detectorDoc, new RegExp(`all ${photos} photos of the evaluation set`));
    assert.match(detectorDoc, new RegExp(`${objects} reference objects, ${borderline.length} of them borderline`));
  });

  it('lists each source with its package, version and the number of objects the reference finds in its photos', () => {
    const record = readEvaluationRecord();
    for (const [id, source] of Object.entries(record.sources)) {
      const count = Object.entries(reference)
        .filter(([photo]) => photo.startsWith(`${id}/`))
        .reduce((a, [, e]) => a + e.detections.length, 0);
      const name = source.registry === 'repository' ? "the repository's fixtures" : `\`${source.package}\` ${source.version}`;
      const row = modelsReadme.split('\n').find((l) => l.startsWith('|') && l.includes(name));
      assert.ok(row, `models/README.md: no row for ${name}`);
      assert.equal(row.split('|')[3]?.trim(), String(count), `${name}: ${row}`);
    }
  });
});
