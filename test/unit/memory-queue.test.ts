import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
import { REPO_ROOT } from '../helpers/fixtures';
import { queueContract } from '../helpers/queueContract';

let counter = 0;
queueContract('MemoryQueue', async () => {
  const queue = new MemoryQueue({ maxReceiveCount: 3, visibilityTimeoutSeconds: 0.2 });
  return {
    queue,
    deadLetters: queue,
    newQueue: async () => {
      counter += 1;
      return `q${counter}`;
    },
    maxReceiveCount: 3,
    visibilitySeconds: 0.2,
    cleanup: () => queue.close(),
  };
});

// The same contract with persistence on: the journal must not change any behaviour.
queueContract('MemoryQueue with a journal', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'memq-contract-'));
  const queue = new MemoryQueue({ maxReceiveCount: 3, visibilityTimeoutSeconds: 0.2, dir });
  return {
    queue,
    deadLetters: queue,
    newQueue: async () => {
      counter += 1;
      return `q${counter}`;
    },
    maxReceiveCount: 3,
    visibilitySeconds: 0.2,
    cleanup: async () => {
      await queue.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('MemoryQueue', () => {
  it('uses the default visibility timeout from its options', async () => {
    const queue = new MemoryQueue({ visibilityTimeoutSeconds: 0.2 });
    await queue.send('q', 'x');
    assert.equal((await queue.receive('q')).length, 1);
    assert.equal((await queue.receive('q')).length, 0);
    await sleep(250);
    assert.equal((await queue.receive('q'))[0]?.receiveCount, 2);
    await queue.close();
  });

  it('reports visible, in-flight and dead counts per queue', async () => {
    const queue = new MemoryQueue({ maxReceiveCount: 1, visibilityTimeoutSeconds: 0.2 });
    await queue.send('resize_queue', 'a');
    await queue.send('resize_queue', 'b');
    await queue.send('resize_queue', 'c');
    await queue.deadLetter('tag_queue', 'd', 'bad');
    await queue.receive('resize_queue', { maxMessages: 1, visibilityTimeoutSeconds: 30 });
    assert.deepEqual(queue.stats(), {
      resize_queue: { visible: 2, inFlight: 1, dead: 0 },
      tag_queue: { visible: 0, inFlight: 0, dead: 1 },
    });
    await queue.close();
  });

  it('resolves a waiting receive with no messages on close, and refuses calls afterwards', async () => {
    const queue = new MemoryQueue();
    const started = Date.now();
    const waiting = queue.receive('q', { waitTimeSeconds: 20 });
    await sleep(50);
    await queue.close();
    assert.deepEqual(await waiting, []);
    assert.ok(Date.now() - started < 1000);
    await assert.rejects(queue.send('q', 'x'), { name: 'PipelineError', message: 'MemoryQueue is closed' });
  });

  it('waits without spinning: the event loop is idle during a long poll', async () => {
    const queue = new MemoryQueue();
    const before = performance.eventLoopUtilization();
    await queue.receive('q', { waitTimeSeconds: 0.5 });
    const used = performance.eventLoopUtilization(before);
    assert.ok(used.utilization < 0.2, `event loop ${(used.utilization * 100).toFixed(0)} % busy`);
    await queue.close();
  });

  it('wakes a long poll when an in-flight message becomes visible again', async () => {
    const queue = new MemoryQueue({ visibilityTimeoutSeconds: 0.3 });
    await queue.send('q', 'x');
    await queue.receive('q');
    const started = Date.now();
    const [m] = await queue.receive('q', { waitTimeSeconds: 5 });
    const took = Date.now() - started;
    assert.equal(m?.receiveCount, 2);
    assert.ok(took >= 250 && took < 600, `took ${took} ms`);
    await queue.close();
  });

  it('delivers to several waiting consumers, each message once', async () => {
    const queue = new MemoryQueue();
    const waiting = [1, 2, 3].map(() => queue.receive('q', { waitTimeSeconds: 2 }));
    await sleep(20);
    await queue.send('q', 'a');
    await queue.send('q', 'b');
    const got = (await Promise.all(waiting))
      .flat()
      .map((m) => m.body)
      .sort();
    assert.deepEqual(got, ['a', 'b']);
    await queue.close();
  });

  it('dead-letters on the next delivery, so the last receive still gets a chance to delete', async () => {
    const queue = new MemoryQueue({ maxReceiveCount: 2, visibilityTimeoutSeconds: 0.1 });
    await queue.send('q', 'x');
    await queue.receive('q');
    await sleep(150);
    const [last] = await queue.receive('q');
    assert.equal(last?.receiveCount, 2);
    await sleep(150); // visible again, but not delivered yet: still on the queue
    assert.deepEqual(queue.stats().q, { visible: 1, inFlight: 0, dead: 0 });
    await queue.delete('q', last!.receiptHandle); // SQS deletes with the latest handle even after the timeout
    assert.deepEqual(await queue.receive('q'), []);
    assert.deepEqual(await queue.listDeadLetters('q'), []);
    await queue.close();
  });

  it('refuses bad arguments with messages that say what was expected', async () => {
    const queue = new MemoryQueue();
    await assert.rejects(queue.send('bad name', 'x'), {
      name: 'InvalidInputError',
      message: 'queue name: expected 1 to 80 of A-Z a-z 0-9 _ -, got "bad name"',
    });
    await assert.rejects(queue.receive('q', { maxMessages: 11 }), {
      message: 'maxMessages: expected a whole number from 1 to 10, got 11',
    });
    await assert.rejects(queue.receive('q', { waitTimeSeconds: 21 }), {
      message: 'waitTimeSeconds: expected a number of seconds from 0 to 20, got 21',
    });
    await assert.rejects(queue.receive('q', { visibilityTimeoutSeconds: -1 }), {
      message: 'visibilityTimeoutSeconds: expected a number of seconds from 0 to 43200, got -1',
    });
    await assert.rejects(queue.delete('q', 'nonsense'), {
      name: 'InvalidInputError',
      message: 'receipt handle: expected one returned by receive, got "nonsense"',
    });
    assert.throws(() => new MemoryQueue({ maxReceiveCount: 0 }), {
      message: 'maxReceiveCount: expected a positive whole number, got 0',
    });
    await queue.close();
  });
});

describe('MemoryQueue persistence', () => {
  const moduleUrl = new URL('../../src/ports/MemoryQueue.ts', import.meta.url).href;

  /** Runs `script` in a child process with `queue` open on `dir`; the child is killed with SIGKILL when it prints "ready". */
  async function crashAfter(dir: string, script: string): Promise<void> {
    const code = `
      import { MemoryQueue } from ${JSON.stringify(moduleUrl)};
      const queue = new MemoryQueue({ dir: ${JSON.stringify(dir)}, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
      ${script}
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (exitCode, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited ${exitCode}: ${stderr}`));
      });
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
  }

  it('delivers after a crash what was accepted before it, with receive counts and dead letters', async () => {
    // Prepare: a process accepts messages, takes one in flight, deletes one, dead-letters one, and is killed.
    const dir = await mkdtemp(path.join(tmpdir(), 'memq-crash-'));
    await crashAfter(
      dir,
      `
      for (const b of ['a', 'b', 'c', 'd']) await queue.send('resize_queue', b);
      const [first] = await queue.receive('resize_queue');        // 'a' in flight when the crash comes
      const [second] = await queue.receive('resize_queue');
      await queue.delete('resize_queue', second.receiptHandle);   // 'b' done
      await queue.deadLetter('tag_queue', '{"x":1}', 'bad input');
      `,
    );
    // Act: a new process (here: a new instance) opens the same folder.
    const queue = new MemoryQueue({ dir, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
    const got = await queue.receive('resize_queue', { maxMessages: 10 });
    // Assess
    assert.deepEqual(
      got.map((m) => [m.body, m.receiveCount]),
      [
        ['a', 2],
        ['c', 1],
        ['d', 1],
      ],
    );
    assert.deepEqual(
      (await queue.listDeadLetters('tag_queue')).map((d) => [d.body, d.reason]),
      [['{"x":1}', 'bad input']],
    );
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('compacts the journal on start and survives a torn last line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'memq-compact-'));
    const first = new MemoryQueue({ dir });
    for (let i = 0; i < 20; i += 1) await first.send('q', `m${i}`);
    const got = await first.receive('q', { maxMessages: 10 });
    for (const m of got) await first.delete('q', m.receiptHandle);
    await first.close();
    const journal = path.join(dir, 'q.jsonl');
    assert.equal((await readFile(journal, 'utf8')).trim().split('\n').length, 20 + 10 + 10);
    await writeFile(journal, `${await readFile(journal, 'utf8')}{"op":"send","id":"torn`, { flag: 'w' });

    const second = new MemoryQueue({ dir });
    const lines = (await readFile(journal, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 10);
    assert.deepEqual(
      (await second.receive('q', { maxMessages: 10 })).map((m) => m.body),
      ['m10', 'm11', 'm12', 'm13', 'm14', 'm15', 'm16', 'm17', 'm18', 'm19'],
    );
    await second.close();
    assert.deepEqual(await readdir(dir), ['q.jsonl']); // no lock, no temporary file left
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second live instance on the same folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'memq-lock-'));
    const first = new MemoryQueue({ dir });
    assert.throws(() => new MemoryQueue({ dir }), {
      name: 'PipelineError',
      message: `queue journal folder ${dir} is in use by process ${process.pid} (this one): expected one MemoryQueue per folder`,
    });
    await first.close();
    const again = new MemoryQueue({ dir }); // free once closed
    await again.close();
    await rm(dir, { recursive: true, force: true });
  });
});
