import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureModel } from '../../models/ensure-model';
import { SAMPLE_UPLOAD_ID, seed } from '../../scripts/dev/sample-events';
import { buildFunctions } from '../../scripts/package/build-functions';
import { SLS_BIN } from '../../scripts/package/serverlessCli';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { uploadKey } from '../../src/domain/keys';
import { LOCAL_OWNER, photoRecordKey } from '../../src/domain/owners';
import { galleryPage } from '../../src/web/galleryPage';

/**
 * `sls invoke local --stage local -f <fn> -p events/<fn>.json` for every function, with no server:
 * STORE=fs QUEUE=memory under a temp DATA_DIR, seeded with the sample image's copies.
 */
const run = promisify(execFile);

describe('sls invoke local with the sample events (no server)', { timeout: 180_000 }, () => {
  let dataDir: string;

  before(async () => {
    await ensureModel();
    await buildFunctions({ layers: false, log: () => undefined });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'invoke-local-'));
    const saved = { ...process.env };
    Object.assign(process.env, { STORE: 'fs', QUEUE: 'memory', DATA_DIR: dataDir });
    try {
      await seed();
    } finally {
      for (const k of ['STORE', 'QUEUE', 'DATA_DIR'])
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
    }
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  async function invoke(fn: string, event = `events/${fn}.json`): Promise<unknown> {
    const { stdout } = await run(
      process.execPath,
      [
        SLS_BIN,
        'invoke',
        'local',
        '--stage',
        'local',
        '-f',
        fn,
        '-p',
        event,
        '-e',
        'STORE=fs',
        '-e',
        'QUEUE=memory',
        '-e',
        `DATA_DIR=${dataDir}`,
        '-e',
        'LOG_LEVEL=warn',
      ],
      {
        cwd: REPO_ROOT,
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ACCESS_KEY_ID: 'dummy', AWS_SECRET_ACCESS_KEY: 'dummy' },
      },
    );
    // The handler's result is the last JSON document sls prints (after any log lines).
    const start = stdout.lastIndexOf('\n{\n') >= 0 ? stdout.lastIndexOf('\n{\n') + 1 : stdout.indexOf('{');
    return JSON.parse(stdout.slice(start));
  }

  it('upload answers 202 with an image id', async () => {
    const out = (await invoke('upload')) as { statusCode: number; body: string };
    assert.equal(out.statusCode, 202, out.body);
    assert.match((JSON.parse(out.body) as { image_id: string }).image_id, /^[0-9a-f-]{36}$/);
  });

  for (const fn of ['resize', 'grayscale', 'detect', 'tag']) {
    it(`${fn} handles its SQS event with no batch item failure`, async () => {
      assert.deepEqual(await invoke(fn), { batchItemFailures: [] });
    });
  }

  it('ingest takes the bucket notification of an upload: copied to original/, recorded, sent to resize', async () => {
    assert.deepEqual(await invoke('ingest'), { batchItemFailures: [] });
    // The record is the owner's index entry: local's (the sample upload's key names it).
    const record = JSON.parse(
      readFileSync(path.join(dataDir, 'images', ...photoRecordKey(LOCAL_OWNER, SAMPLE_UPLOAD_ID).split('/')), 'utf8'),
    ) as {
      state: string;
      output_key: string;
    };
    assert.deepEqual([record.state, record.output_key], ['done', `original/${SAMPLE_UPLOAD_ID}.jpg`]);
    assert.ok(existsSync(path.join(dataDir, 'images', 'original', `${SAMPLE_UPLOAD_ID}.jpg`)));
    assert.equal(existsSync(path.join(dataDir, 'images', ...uploadKey(SAMPLE_UPLOAD_ID, 'jpg', LOCAL_OWNER).split('/'))), false);
  });

  it('api serves the gallery page as the source does: the bundle inlined the same HTML, CSS and compiled script', async () => {
    // Prepare: the sample GET turned into GET /.
    const sample = JSON.parse(readFileSync(path.join(REPO_ROOT, 'events/api.json'), 'utf8'));
    const event = path.join(dataDir, 'gallery-event.json');
    writeFileSync(
      event,
      JSON.stringify({
        ...sample,
        routeKey: 'GET /',
        rawPath: '/',
        pathParameters: {},
        requestContext: { ...sample.requestContext, routeKey: 'GET /', http: { ...sample.requestContext.http, path: '/' } },
      }),
    );
    // Act
    const out = (await invoke('api', event)) as { statusCode: number; headers: Record<string, string>; body: string };
    // Assess
    assert.equal(out.statusCode, 200, out.body);
    assert.equal(out.headers['content-security-policy'], galleryPage.contentSecurityPolicy);
    assert.equal(out.body, galleryPage.html);
  });

  it('api reports the sample image', async () => {
    const out = (await invoke('api')) as { statusCode: number; body: string };
    assert.equal(out.statusCode, 200, out.body);
    assert.equal((JSON.parse(out.body) as { image_id: string }).image_id, '01900000-0000-7000-8000-000000000001');
  });
});
