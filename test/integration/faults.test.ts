import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { startElasticMq, startMinio } from '../../scripts/servers/local-servers';
import { type App, createApp } from '../../src/app/createApp';
import { type Config, loadConfig } from '../../src/config';
import { imageKey, STAGE_FOLDERS } from '../../src/domain/keys';
import { LOCAL_OWNER, ownerLabelPrefix, photoRecordKey } from '../../src/domain/owners';
import { TransientError } from '../../src/errors';
import type { LogSink } from '../../src/logger/createLogger';
import { FsObjectStore } from '../../src/ports/FsObjectStore';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import { provisionBucket } from '../../src/ports/provisionBucket';
import { provisionQueues } from '../../src/ports/provisionQueues';
import { S3ObjectStore } from '../../src/ports/S3ObjectStore';
import { SqsQueue } from '../../src/ports/SqsQueue';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import type { DetectFn } from '../../src/stages/Stage';
import { readStageStatuses } from '../../src/status/photoStatus';
import { acceptUpload } from '../../src/upload/acceptUpload';
import { fixtureNames, fixturePath, readFixture } from '../helpers/fixtures';
import { overridingStore } from '../helpers/overridingStore';
import { waitForImage } from '../helpers/waitForImage';

/**
 * Nothing is lost when things go wrong: the store goes away mid-run, messages arrive twice, the
 * process is killed mid-batch, a message fails every time. Each test ends by counting keys.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);
const stubDetect: DetectFn = async () => [{ label: 'dog', score: 0.9, box: { x: 1, y: 1, width: 10, height: 10 } }];

function logSink(lines: string[], onLine: (line: string) => void = () => undefined): LogSink {
  return (line) => {
    lines.push(line);
    onLine(line);
  };
}

/** A promise with its resolve function outside. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Polls until the image is tagged, riding out a store that is down (its reads throw meanwhile). */
async function waitTagged(store: ObjectStore, imageId: string, timeoutMs: number): Promise<'done' | 'failed' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const outcome = await waitForImage(store, imageId, { timeoutMs: Math.max(0, deadline - Date.now()), pollMs: 200 });
      return outcome.status;
    } catch {
      await sleep(300); // store unreachable: try again
    }
  }
  return 'timeout';
}

async function idsUnder(store: ObjectStore, folder: string): Promise<string[]> {
  return (await store.list(`${folder}/`)).map((k) => k.slice(folder.length + 1).replace(/\.[a-z]+$/, ''));
}

describe('faults', () => {
  let modelPath: string;
  before(async () => {
    modelPath = await ensureModel();
  });

  it('S3 (MinIO) stops mid-run and comes back on the same data: every accepted upload ends tagged; no secret in the logs', async (t) => {
    const minio = await startMinio();
    t.after(() => minio.stop());
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = minio.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = minio.secretAccessKey;
    t.after(() => {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-s3-fault-'));
    const config = loadConfig({
      DATA_DIR: dir,
      STORE: 's3',
      QUEUE: 'memory',
      BUCKET: 'images',
      S3_ENDPOINT: minio.endpoint,
      AWS_REGION: minio.region,
      MODEL_PATH: modelPath,
      MAX_RECEIVE_COUNT: '20',
      // Longer than a batch takes on a loaded 2-core machine (a 1 s timeout let slow batches be
      // redelivered while still running, until they ran out of receives), short enough that the
      // messages that failed during the outage come back soon after it.
      VISIBILITY_TIMEOUT_SECONDS: '6',
    });
    await provisionBucket(
      new S3ObjectStore({
        bucket: 'images',
        region: minio.region,
        endpoint: minio.endpoint,
        forcePathStyle: true,
        credentials: minio,
      }),
    );
    // The outage must come while work is left, on a machine of any speed: the detector lets five
    // photos through and holds the rest until MinIO is down, so exactly five puts of tagged/ happen first.
    const HELD_AFTER = 5;
    const release = deferred();
    const fiveTagged = deferred();
    const retriedDuringOutage = deferred();
    let outage = false;
    const lines: string[] = [];
    const real = createApp({
      config,
      logSink: logSink(lines, (line) => {
        if (outage && line.includes('"stage failed; will be retried"')) retriedDuringOutage.resolve();
      }),
    });
    let detections = 0;
    let taggedPuts = 0;
    const app: App = {
      ...real,
      detect: async (bytes) => {
        detections += 1;
        if (detections > HELD_AFTER) await release.promise;
        return real.detect(bytes);
      },
      store: overridingStore(real.store, {
        put: async (key, body, options) => {
          await real.store.put(key, body, options);
          if (key.startsWith('tagged/') && ++taggedPuts === HELD_AFTER) fiveTagged.resolve();
        },
      }),
    };
    const pipeline = await startEmbedded(app, { port: 0 });
    t.after(() => pipeline.stop());

    const names = fixtureNames();
    const upload = async (i: number) => {
      const name = names[i % names.length]!;
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(readFixture(name))], { type: 'image/jpeg' }), name);
      const res = await fetch(`${pipeline.url}/upload`, { method: 'POST', body: form });
      return { status: res.status, body: (await res.json()) as { image_id?: string; error?: { code: string; message: string } } };
    };
    // 40 uploads first.
    const accepted: string[] = [];
    for (let batch = 0; batch < 40; batch += 10) {
      for (const r of await Promise.all(Array.from({ length: 10 }, (_, i) => upload(batch + i)))) {
        assert.equal(r.status, 202, JSON.stringify(r.body));
        accepted.push(r.body.image_id!);
      }
    }
    // Let processing get under way, then pull the store out from under it.
    const store = pipeline.app.store;
    await fiveTagged.promise;
    const taggedAtStop = (await store.list('tagged/')).length;
    outage = true;
    await minio.stop({ keepData: true, signal: 'SIGKILL' });
    // While it is down, uploads are refused with 503 and nothing is accepted.
    const refusedUploads: number[] = [];
    for (let i = 40; i < 50; i++) {
      const r = await upload(i);
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.deepEqual(r.body.error, { code: 'unavailable', message: 'the upload could not be stored; nothing was accepted, try again' });
      refusedUploads.push(i);
    }
    // Let the held photos go on into the outage, and bring the store back once a stage has failed
    // for it and been told to retry.
    release.resolve();
    await retriedDuringOutage.promise;
    await minio.start();
    // The refused uploads are retried now that the store is back.
    for (const i of refusedUploads) {
      const r = await upload(i);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      accepted.push(r.body.image_id!);
    }
    assert.equal(accepted.length, 50);
    for (const id of accepted) {
      const outcome = await waitTagged(store, id, 120_000);
      // On failure, say where the image stopped: its stage records and its log lines.
      if (outcome !== 'done') {
        const trail = lines
          .filter((l) => l.includes(id))
          .slice(-15)
          .join('\n');
        const problems = lines
          .filter((l) => /"level":"(WARN|ERROR)"/.test(l) && !l.includes('stale'))
          .slice(-25)
          .join('\n');
        const stats = JSON.stringify((pipeline.app.queue as unknown as { stats(): unknown }).stats());
        assert.fail(
          `${id}: ${outcome}\nstages: ${JSON.stringify(await readStageStatuses(store, { imageId: id, owner: LOCAL_OWNER }))}\nlogs:\n${trail}\nqueues: ${stats}\nwarnings:\n${problems}`,
        );
      }
    }

    // Assess: every accepted upload is tagged, once, and nothing is in a dead-letter queue.
    assert.deepEqual((await idsUnder(store, 'tagged')).sort(), [...accepted].sort());
    assert.deepEqual((await idsUnder(store, 'original')).sort(), [...accepted].sort());
    for (const q of Object.values(config.queues)) assert.deepEqual(await pipeline.app.deadLetters.listDeadLetters(q), [], q);
    // The outage was seen and ridden out (retries logged), the secret and presigned URLs never logged.
    const all = lines.join('\n');
    assert.match(all, /upload failed/);
    const retried = lines.filter((l) => l.includes('"stage failed; will be retried"')).length;
    assert.ok(retried > 0, 'no stage attempt failed during the outage');
    // The hold worked: no more than the five let through were tagged before the outage.
    assert.ok(taggedAtStop >= 1 && taggedAtStop <= HELD_AFTER, `${taggedAtStop} tagged when MinIO was stopped`);
    t.diagnostic(
      `MinIO killed with ${taggedAtStop} of 40 tagged; ${retried} stage attempts failed and were retried; ${lines.filter((l) => l.includes('"upload failed"')).length} uploads refused with 503`,
    );
    assert.ok(!all.includes(minio.secretAccessKey), 'secret key in logs');
    assert.ok(!/X-Amz-Signature|X-Amz-Credential/i.test(all), 'presigned URL in logs');
    // A presigned redirect from the status API is not logged either.
    const res = await fetch(`${pipeline.url}/images/${accepted[0]}/tagged`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location') ?? '', /X-Amz-Signature=/);
    assert.ok(!lines.join('\n').includes('X-Amz-Signature'), 'presigned URL in logs');
  });

  it('duplicate delivery: the same message twice gives the same keys and the same bytes, nothing missing, nothing extra', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-dup-'));
    const config = loadConfig({ DATA_DIR: dir, VISIBILITY_TIMEOUT_SECONDS: '2', LOG_LEVEL: 'error' });
    const queue = new MemoryQueue({ maxReceiveCount: 3, visibilityTimeoutSeconds: 2 });
    const store = new FsObjectStore({ root: path.join(dir, 'images') });
    const deps = createApp({ config, ports: { store, queue, deadLetters: queue, close: () => queue.close() }, detector: stubDetect });
    const pipeline = await startEmbedded(deps);
    t.after(() => pipeline.stop());
    const ids: string[] = [];
    for (const name of ['dog.jpg', 'horses.jpg']) ids.push((await acceptUpload(readFixture(name), deps, { owner: LOCAL_OWNER })).image_id);
    for (const id of ids) assert.equal((await waitForImage(deps.store, id)).status, 'done');
    const snapshot = async () => {
      const keys = (await deps.store.list('')).filter((k) => !k.startsWith('status/'));
      return new Map(await Promise.all(keys.map(async (k) => [k, (await deps.store.get(k)).body.toString('base64')] as const)));
    };
    const first = await snapshot();
    // original, resized, grayscale, tagged, the owner's record and their label index's entry under dog (the stub finds a dog), for each
    assert.equal(first.size, 12);
    assert.equal([...first.keys()].filter((k) => k.startsWith(ownerLabelPrefix(LOCAL_OWNER, 'dog'))).length, 2);

    // Act: every stage's input for the first image delivered twice more, in the same batch.
    const id = ids[0]!;
    const resizeMsg = JSON.stringify({ v: 2, owner: LOCAL_OWNER, image_id: id, original_path: imageKey('original', id) });
    const tagDone = (await readStageStatuses(deps.store, { imageId: id, owner: LOCAL_OWNER })).tag!.finished_at!;
    await queue.send(config.queues.resize, resizeMsg);
    await queue.send(config.queues.resize, resizeMsg);
    // Wait until both copies have gone all the way through (four tag runs would be two more "done"s).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = queue.stats();
      const busy = Object.values(stats).some((s) => s.visible + s.inFlight > 0);
      const tag = (await readStageStatuses(deps.store, { imageId: id, owner: LOCAL_OWNER })).tag;
      if (!busy && tag?.state === 'done' && tag.finished_at! > tagDone) break;
      assert.ok(Date.now() < deadline, 'duplicates not processed in time');
      await sleep(100);
    }
    // Assess
    const second = await snapshot();
    assert.deepEqual([...second.keys()].sort(), [...first.keys()].sort());
    // The images and index entries keep their bytes; the photo's record holds the stages' records
    // (detect's, with its times), which each run rewrites: its detections stay the same.
    const record = photoRecordKey(LOCAL_OWNER, id);
    for (const [k, v] of first) if (k !== record) assert.equal(second.get(k), v, `${k} changed bytes`);
    const detectionsIn = (body: string | undefined) => JSON.parse(Buffer.from(body!, 'base64').toString()).stages.detect.detections;
    assert.deepEqual(detectionsIn(second.get(record)), detectionsIn(first.get(record)));
    for (const q of Object.values(config.queues)) assert.deepEqual(await queue.listDeadLetters(q), [], q);
  });

  it('killed mid-batch (SIGKILL): a new process on the same DATA_DIR finishes the work; every image tagged, once, none missing', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-kill-'));
    const env = {
      ...process.env,
      DATA_DIR: dir,
      MODEL_PATH: modelPath,
      LOG_LEVEL: 'error',
      VISIBILITY_TIMEOUT_SECONDS: '2',
      DETECT_THREADS: '1',
    };
    const files = Array.from({ length: 14 }, (_, i) => fixturePath(fixtureNames()[i % fixtureNames().length]!));
    const childScript = path.join(REPO_ROOT, 'test/helpers/embeddedChild.ts');
    const startChild = (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: string[] = [];
      let stderr = '';
      const waiters: Array<{ line: string; resolve: () => void }> = [];
      createInterface({ input: child.stdout! }).on('line', (line) => {
        out.push(line);
        for (const w of waiters.filter((x) => x.line === line)) w.resolve();
      });
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      /** Resolves when the child prints `line`; rejects if it exits first. */
      const printed = (line: string) =>
        new Promise<void>((resolve, reject) => {
          if (out.includes(line)) return resolve();
          waiters.push({ line, resolve });
          child.once('exit', (code, signal) =>
            reject(new Error(`child exited (${signal ?? code}) before printing "${line}"; stderr: ${stderr.slice(-2000)}`)),
          );
        });
      return { child, out, printed, stderr: () => stderr };
    };
    const exited = (c: ChildProcess) =>
      new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
    const store = new FsObjectStore({ root: path.join(dir, 'images') });

    // The first process tags three photos and hangs on the fourth write, with the rest in flight.
    const HELD_AFTER = 3;
    const first = startChild(['--hold-tagged-after', String(HELD_AFTER), ...files]);
    t.after(() => first.child.kill('SIGKILL'));
    await first.printed('uploaded');
    const accepted = first.out.filter((l) => l.startsWith('accepted ')).map((l) => l.slice(9));
    assert.equal(accepted.length, files.length);
    // Kill it in the middle: three tagged, not all.
    await first.printed('holding');
    first.child.kill('SIGKILL');
    await exited(first.child);
    const taggedAtKill = (await store.list('tagged/')).length;
    assert.equal(taggedAtKill, HELD_AFTER, `${taggedAtKill} of ${files.length} tagged when killed`);

    const second = startChild([]);
    t.after(async () => {
      second.child.kill('SIGTERM');
      await exited(second.child);
    });
    for (const id of accepted) assert.equal(await waitTagged(store, id, 120_000), 'done', `${id}: ${second.stderr().slice(-2000)}`);
    for (const folder of STAGE_FOLDERS) {
      const ids = await idsUnder(store, folder);
      assert.deepEqual([...ids].sort(), [...accepted].sort(), `${folder}: one key per image`);
    }
    for (const id of accepted) {
      const meta = await sharp((await store.get(imageKey('tagged', id))).body).metadata();
      assert.equal(meta.format, 'jpeg', `${id} tagged is a whole JPEG`);
    }
    // Nothing dead-lettered: read the journal after the second process has stopped.
    second.child.kill('SIGTERM');
    await exited(second.child);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'list', '--json'], { cwd: REPO_ROOT, env });
    assert.equal(stdout, '');
    t.diagnostic(`killed with ${taggedAtKill} of ${files.length} tagged`);
  });

  it('a poison message (a transient error every time) ends in its DLQ after MAX_RECEIVE_COUNT receives, reason logged; `npm run dlq` lists and redrives it', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-poison-'));
    const config: Config = loadConfig({ DATA_DIR: dir, MAX_RECEIVE_COUNT: '3', VISIBILITY_TIMEOUT_SECONDS: '1' });
    const fsStore = new FsObjectStore({ root: path.join(dir, 'images') });
    const poisonBytes = readFixture('dog.jpg');
    let poisonKey = '';
    let poisonReads = 0;
    // A store that fails every read of one object, as a flaky dependency would.
    const store = overridingStore(fsStore, {
      get: async (key) => {
        const object = await fsStore.get(key);
        // Known by its bytes, so the fault is in place before the upload's message can be received.
        if (key.startsWith('original/') && object.body.equals(poisonBytes)) {
          poisonKey = key;
          poisonReads += 1;
          throw new TransientError(`GetObject ${key} failed: injected fault`);
        }
        return object;
      },
    });
    const lines: string[] = [];
    const queue = new MemoryQueue({ maxReceiveCount: 3, visibilityTimeoutSeconds: 1, dir: path.join(dir, 'queues') });
    const deps = createApp({
      config,
      ports: { store, queue, deadLetters: queue, close: () => queue.close() },
      detector: stubDetect,
      logSink: logSink(lines),
    });
    const pipeline: EmbeddedPipeline = await startEmbedded(deps);
    let stopped = false;
    t.after(async () => {
      if (!stopped) await pipeline.stop();
    });
    const poison = await acceptUpload(poisonBytes, deps, { owner: LOCAL_OWNER });
    const good = await acceptUpload(readFixture('horses.jpg'), deps, { owner: LOCAL_OWNER });

    const deadline = Date.now() + 30_000;
    while ((await queue.listDeadLetters(config.queues.resize)).length === 0) {
      assert.ok(Date.now() < deadline, 'poison message never dead-lettered');
      await sleep(100);
    }
    // Assess: three receives, then the dead-letter queue with the queue's reason; the log has why.
    assert.equal(poisonReads, 3);
    const dead = await queue.listDeadLetters(config.queues.resize);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.reason, 'maxReceiveCount exceeded');
    assert.equal(JSON.parse(dead[0]!.body).image_id, poison.image_id);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.image_id === poison.image_id);
    const reason = `TransientError: GetObject ${poisonKey} failed: injected fault`;
    assert.deepEqual(
      logged.filter((l) => l.level !== 'INFO' && l.level !== 'DEBUG').map((l) => [l.message, l.reason, l.attempt]),
      [
        ['stage failed; will be retried', reason, 1],
        ['stage failed; will be retried', reason, 2],
        ['stage failed on its last receive; the queue dead-letters it', reason, 3],
      ],
    );
    const status = await readStageStatuses(fsStore, { imageId: poison.image_id, owner: LOCAL_OWNER });
    assert.equal(status.resize?.state, 'failed');
    assert.equal(status.resize?.error, reason);
    assert.equal((await waitForImage(fsStore, good.image_id)).status, 'done', 'the neighbour is not held up');

    // The dlq command, on the journal of the stopped pipeline.
    await pipeline.stop();
    stopped = true;
    const env = { ...process.env, DATA_DIR: dir, QUEUE: 'memory' };
    const dlq = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', ...args], { cwd: REPO_ROOT, env });
    const listed = await dlq('list', '--queue', 'resize_queue');
    assert.match(listed.stdout, /^resize_queue: 1 dead letter\n/);
    assert.match(listed.stdout, /reason: maxReceiveCount exceeded\n/);
    assert.ok(listed.stdout.includes(poison.image_id));
    const json = (await dlq('list', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { queue: string; reason: string; body: string });
    assert.deepEqual(
      json.map((l) => [l.queue, l.reason, JSON.parse(l.body).image_id]),
      [['resize_queue', 'maxReceiveCount exceeded', poison.image_id]],
    );
    await assert.rejects(
      dlq('redrive'),
      (e: { code: number; stderr: string }) => e.code === 2 && e.stderr.includes('redrive needs --queue NAME or --all'),
    );
    await assert.rejects(
      dlq('list', '--queue', 'nope'),
      (e: { code: number; stderr: string }) => e.code === 2 && e.stderr.includes('unknown queue "nope"'),
    );
    assert.equal((await dlq('redrive', '--queue', 'resize')).stdout, 'resize_queue: redrove 1 message\n');
    assert.equal((await dlq('list', '--queue', 'resize_queue')).stdout, 'resize_queue: 0 dead letters\n');

    // With the fault gone, the redriven message goes all the way through.
    const healthyQueue = new MemoryQueue({ maxReceiveCount: 3, visibilityTimeoutSeconds: 1, dir: path.join(dir, 'queues') });
    const healthy = createApp({
      config,
      ports: { store: fsStore, queue: healthyQueue, deadLetters: healthyQueue, close: () => healthyQueue.close() },
      detector: stubDetect,
      logSink: logSink(lines),
    });
    const again = await startEmbedded(healthy);
    t.after(() => again.stop());
    // (Its old "failed" resize record stands until the redriven message is picked up: wait for tag.)
    const until = Date.now() + 30_000;
    while ((await readStageStatuses(fsStore, { imageId: poison.image_id, owner: LOCAL_OWNER })).tag?.state !== 'done') {
      assert.ok(Date.now() < until, 'redriven message not processed');
      await sleep(100);
    }
    assert.equal((await readStageStatuses(fsStore, { imageId: poison.image_id, owner: LOCAL_OWNER })).resize?.state, 'done');
  });

  it('`npm run dlq` lists and redrives dead letters on SQS (ElasticMQ)', async (t) => {
    const server = await startElasticMq();
    t.after(() => server.stop());
    const sqs = new SqsQueue({
      region: server.region,
      endpoint: server.endpoint,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    t.after(() => sqs.client.destroy());
    await provisionQueues(sqs, ['resize_queue', 'grayscale_queue', 'objectdetect_queue', 'tag_queue', 'ingest_queue'], {
      maxReceiveCount: 3,
      visibilityTimeoutSeconds: 5,
    });
    await sqs.deadLetter('resize_queue', '{"v":99}', 'InvalidMessageError: resize message: unknown message version 99, expected 1');
    const env = {
      ...process.env,
      QUEUE: 'sqs',
      SQS_ENDPOINT: server.endpoint,
      AWS_REGION: server.region,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'pipeline-dlq-sqs-')),
    };
    const dlq = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', ...args], { cwd: REPO_ROOT, env });
    const listed = await dlq('list');
    assert.match(listed.stdout, /^resize_queue: 1 dead letter\n/);
    assert.match(
      listed.stdout,
      /reason: InvalidMessageError: resize message: unknown message version 99, expected 1\n {4}body: {3}\{"v":99\}\n/,
    );
    assert.match(listed.stdout, /tag_queue: 0 dead letters\n/);
    assert.match(listed.stderr, new RegExp(`1 dead letter\\(s\\) in SQS at ${server.endpoint}`));
    assert.equal(
      (await dlq('redrive', '--all')).stdout,
      'resize_queue: redrove 1 message\ngrayscale_queue: redrove 0 messages\nobjectdetect_queue: redrove 0 messages\ntag_queue: redrove 0 messages\ningest_queue: redrove 0 messages\n',
    );
    assert.equal((await dlq('list', '--queue', 'resize_queue')).stdout, 'resize_queue: 0 dead letters\n');
    const back = await sqs.receive('resize_queue', { maxMessages: 10, waitTimeSeconds: 2 });
    assert.deepEqual(
      back.map((m) => m.body),
      ['{"v":99}'],
    );
  });
});
