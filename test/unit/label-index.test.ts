import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeApi } from '../../src/api/routeApi';
import { decodeCursor, encodeCursor } from '../../src/api/searchImages';
import { newImageId } from '../../src/domain/imageId';
import { COCO_LABEL_NAMES, imageIdOfIndexKey, invertId, labelIndexKey, labelOfSegment, labelPrefix } from '../../src/domain/labelKeys';
import type { Detection } from '../../src/domain/messages';
import { LOCAL_OWNER, ownerLabelKey, ownerLabelPrefix } from '../../src/domain/owners';
import { countLabels } from '../../src/labels/countLabels';
import { findByLabels } from '../../src/labels/findByLabels';
import { writeLabelIndex } from '../../src/labels/writeLabelIndex';
import { isSafeKey } from '../../src/ports/safeKey';
import { apiRequest, type TestApp, testApp } from '../helpers/factories';
import { holdRecord, recordPhoto } from '../helpers/photoRecords';

const box = { x: 1, y: 1, width: 2, height: 2 };
const found = (...labels: string[]): Detection[] => labels.map((label) => ({ label, score: 0.9, box }));

/** Whose photos these are: AUTH=none's one person, the caller of routeApi below. */
const OWNER = LOCAL_OWNER;

/** A photo of `owner` as the pipeline leaves it: its record, a done detect record with its detections, filed in their index. */
async function taggedFor(app: TestApp, owner: string, at: number, ...labels: string[]): Promise<string> {
  const id = newImageId(at);
  const photo = { imageId: id, owner };
  const t = new Date(at).toISOString();
  await recordPhoto(
    app.store,
    photo,
    { state: 'done', started_at: t, finished_at: t },
    { stage: 'detect', state: 'done', started_at: t, detections: found(...labels) },
  );
  await writeLabelIndex(app.store, photo, found(...labels));
  return id;
}
const tagged = (app: TestApp, at: number, ...labels: string[]) => taggedFor(app, OWNER, at, ...labels);

async function get(app: TestApp, path: string, query: Record<string, string> = {}) {
  const res = await routeApi(apiRequest({ method: 'GET', path, query, requestId: 'r1' }), app);
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

describe('label index keys', () => {
  it('encodes every COCO name as one safe segment, one to one, and nothing else', () => {
    assert.equal(COCO_LABEL_NAMES.length, 80);
    const segments = COCO_LABEL_NAMES.map((l) => labelPrefix(l));
    assert.equal(new Set(segments).size, 80);
    assert.ok(segments.every((p) => isSafeKey(p.slice(0, -1))));
    assert.equal(labelPrefix('traffic light'), 'labels/traffic_light/');
    assert.equal(labelOfSegment('teddy_bear'), 'teddy bear');
    assert.equal(labelOfSegment('..'), undefined);
    assert.throws(() => labelPrefix('../x'), { message: 'not a COCO label: "../x"' });
    assert.throws(() => labelPrefix('Dog'), { message: 'not a COCO label: "Dog"' });
  });

  it('files newer photos first: inverted ids sort the other way, and invert back', () => {
    const older = newImageId(1_700_000_000_000);
    const newer = newImageId(1_700_000_000_001);
    const [a, b] = [labelIndexKey('dog', older), labelIndexKey('dog', newer)];
    assert.ok(b < a, 'the newer photo sorts first');
    assert.equal(invertId(invertId(older)), older);
    assert.equal(imageIdOfIndexKey('labels/dog/', a), older);
    assert.equal(imageIdOfIndexKey('labels/dog/', `labels/dog/${older}`), undefined, 'an uninverted id is not an entry');
  });
});

describe('writeLabelIndex', () => {
  it("writes one empty entry per distinct label in the owner's index; twice is the same as once", async () => {
    const app = testApp();
    const id = newImageId();
    const photo = { imageId: id, owner: 'alice' };
    assert.deepEqual((await writeLabelIndex(app.store, photo, found('horse', 'horse', 'cow'))).labels, ['horse', 'cow']);
    await writeLabelIndex(app.store, photo, found('horse', 'horse', 'cow'));
    assert.equal(ownerLabelPrefix('alice', 'traffic light'), 'owners/mfwgsy3f/labels/traffic_light/');
    assert.deepEqual(await app.store.list('owners/'), [ownerLabelKey('alice', 'cow', id), ownerLabelKey('alice', 'horse', id)]);
    assert.equal((await app.store.get(ownerLabelKey('alice', 'cow', id))).body.length, 0);
    // A photo stored before owners (a message of version 1) goes on filing in the index of its time.
    await writeLabelIndex(app.store, { imageId: id }, found('cow'));
    assert.deepEqual(await app.store.list('labels/'), [labelIndexKey('cow', id)]);
    await app.close();
  });

  it('refuses a label that is not a COCO name before writing anything', async () => {
    const app = testApp();
    await assert.rejects(writeLabelIndex(app.store, { imageId: newImageId(), owner: 'alice' }, found('dog', '../../etc/passwd')), {
      name: 'UnknownLabelError',
      message: 'expected detections labelled with COCO names (such as "dog" or "traffic light"), got "../../etc/passwd"',
    });
    assert.deepEqual(await app.store.list(''), []);
    await app.close();
  });
});

describe('findByLabels', () => {
  it('pages one label newest first, each photo once, with limit 1 or 2', async () => {
    const app = testApp();
    const t = Date.now();
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push(await tagged(app, t + i, 'dog', i % 2 ? 'cat' : 'person'));
    const newestFirst = [...ids].reverse();
    for (const limit of [1, 2, 5, 6]) {
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const page = await findByLabels(app.store, OWNER, ['dog'], { limit, ...(after ? { after } : {}) });
        assert.ok(page.ids.length <= limit);
        seen.push(...page.ids);
        after = page.after;
        if (!after) break;
      }
      assert.deepEqual(seen, newestFirst, `limit ${limit}`);
      assert.equal(after, undefined, `limit ${limit}: no cursor after the last page`);
    }
    await app.close();
  });

  it('answers AND across labels, across rounds of small pages, and stops at the round budget with a cursor', async () => {
    const app = testApp();
    const t = Date.now();
    const both: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const labels = i % 3 === 0 ? ['dog', 'person'] : i % 3 === 1 ? ['dog'] : ['person'];
      const id = await tagged(app, t + i, ...labels);
      if (labels.length === 2) both.unshift(id);
    }
    // Whole answer with big pages; then the same with pages of 2 keys per label per round.
    assert.deepEqual((await findByLabels(app.store, OWNER, ['dog', 'person'], { limit: 10 })).ids, both);
    assert.deepEqual((await findByLabels(app.store, OWNER, ['person', 'dog'], { limit: 10, scanPage: 2 })).ids, both);
    // A budget of one round of 2: a short page and a cursor; following the cursors finds them all.
    const seen: string[] = [];
    let after: string | undefined;
    let requests = 0;
    do {
      const page = await findByLabels(app.store, OWNER, ['dog', 'person'], {
        limit: 10,
        scanPage: 2,
        maxRounds: 1,
        ...(after ? { after } : {}),
      });
      seen.push(...page.ids);
      after = page.after;
      requests += 1;
    } while (after && requests < 50);
    assert.deepEqual(seen, both);
    assert.ok(requests > 1, 'the budget split the walk');
    assert.deepEqual((await findByLabels(app.store, OWNER, ['dog', 'cat'], { limit: 10 })).ids, []);
    await app.close();
  });
});

describe('countLabels', () => {
  it('counts each label found, most first, capped', async () => {
    const app = testApp();
    const t = Date.now();
    await tagged(app, t, 'horse', 'horse', 'cow');
    await tagged(app, t + 1, 'horse');
    await tagged(app, t + 2, 'traffic light');
    // Another owner's photos are in their index, not this one's.
    await taggedFor(app, 'alice', t + 3, 'horse', 'dog');
    assert.deepEqual(await countLabels(app.store, OWNER), [
      { label: 'horse', count: 2 },
      { label: 'cow', count: 1 },
      { label: 'traffic light', count: 1 },
    ]);
    assert.deepEqual(
      (await countLabels(app.store, OWNER, 1)).find((c) => c.label === 'horse'),
      { label: 'horse', count: 1, capped: true },
    );
    await app.close();
  });
});

describe('GET /images?label= and GET /labels', () => {
  it("lists exactly the caller's photos with every label, pages with opaque cursors, and refuses bad labels and cursors", async () => {
    // Prepare
    const app = testApp();
    const t = Date.now();
    // Someone else's horses: never in this caller's answers or counts.
    await taggedFor(app, 'alice', t - 1, 'horse', 'person');
    const horse1 = await tagged(app, t, 'horse', 'cow');
    await tagged(app, t + 1, 'dog');
    const horse2 = await tagged(app, t + 2, 'horse', 'person');
    // A photo filed under "horse" once, whose detections changed since (processed again): not a match.
    const stale = await tagged(app, t + 3, 'horse');
    await holdRecord(
      app.store,
      { imageId: stale, owner: OWNER },
      {
        stage: 'detect',
        state: 'done',
        started_at: new Date().toISOString(),
        detections: found('cat'),
      },
    );
    // Act + Assess
    const all = await get(app, '/images', { label: 'horse' });
    assert.equal(all.status, 200);
    assert.deepEqual(
      (all.body.images as Array<{ image_id: string }>).map((i) => i.image_id),
      [horse2, horse1],
    );
    assert.deepEqual([all.body.labels, all.body.next_cursor], [['horse'], null]);
    const and = await get(app, '/images', { label: 'horse,person' });
    assert.deepEqual(
      (and.body.images as Array<{ image_id: string }>).map((i) => i.image_id),
      [horse2],
    );
    // limit 1: one photo a page, cursors to the end, each photo once.
    const walked: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 10; n += 1) {
      const page = await get(app, '/images', { label: 'horse', limit: '1', ...(cursor ? { cursor } : {}) });
      walked.push(...(page.body.images as Array<{ image_id: string }>).map((i) => i.image_id));
      cursor = page.body.next_cursor as string | null;
      if (!cursor) break;
    }
    assert.deepEqual(walked, [horse2, horse1]);
    assert.equal(decodeCursor(encodeCursor(horse1)), horse1);

    const refused = async (query: Record<string, string>, code: string, message: string) => {
      const res = await get(app, '/images', query);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.deepEqual(res.body, { error: { code, message }, request_id: 'r1' });
    };
    const expectLabel = (got: string) =>
      `expected each label to be a COCO name such as "dog", "person" or "traffic light" (GET /labels lists those found so far), got ${got}`;
    await refused({ label: 'unicorn' }, 'invalid_label', expectLabel('"unicorn"'));
    await refused({ label: '../../etc/passwd' }, 'invalid_label', expectLabel('"../../etc/passwd"'));
    await refused({ label: 'dog,labels/cat/x' }, 'invalid_label', expectLabel('"labels/cat/x"'));
    await refused({ label: '' }, 'invalid_label', expectLabel('""'));
    await refused({ label: 'Dog\u0000' }, 'invalid_label', expectLabel('"Dog\\u0000"'));
    await refused({ label: 'dog,cat,cow,horse,sheep,bird' }, 'invalid_label', 'expected at most 5 labels, got 6');
    await refused(
      { label: 'dog', cursor: 'not-a-cursor' },
      'invalid_cursor',
      'expected cursor to be the next_cursor of an earlier answer, got "not-a-cursor"',
    );
    await refused(
      { label: 'dog', cursor: encodeCursor('../x') },
      'invalid_cursor',
      `expected cursor to be the next_cursor of an earlier answer, got ${JSON.stringify(encodeCursor('../x'))}`,
    );
    await refused({ label: 'dog', limit: '0' }, 'invalid_limit', 'expected limit to be a whole number from 1 to 100, got "0"');

    const labels = await get(app, '/labels');
    assert.equal(labels.status, 200);
    assert.deepEqual(labels.body, {
      labels: [
        { label: 'horse', count: 3 },
        { label: 'cow', count: 1 },
        { label: 'dog', count: 1 },
        { label: 'person', count: 1 },
      ],
      cap: 999,
    });
    await app.close();
  });
});
