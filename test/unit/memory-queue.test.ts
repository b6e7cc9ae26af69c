import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { MemoryQueue } from '../../src/ports/MemoryQueue';
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

/** Lets every promise callback that is ready run (a real setImmediate comes after all of them). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Where a promise stands, without waiting for it. */
function watch<T>(promise: Promise<T>): { readonly done: boolean; readonly value: T | undefined } {
  const state = { done: false, value: undefined as T | undefined };
  promise.then((value) => {
    state.done = true;
    state.value = value;
  });
  return state;
}

// The tests below that depend on time run on node:test's fake clock (setTimeout and Date move only
// on tick), so each says exactly when something happens instead of sleeping through a window.
describe('MemoryQueue', () => {
  it('uses the default visibility timeout from its options', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const queue = new MemoryQueue({ visibilityTimeoutSeconds: 0.2 });
    await queue.send('q', 'x');
    assert.equal((await queue.receive('q')).length, 1);
    t.mock.timers.tick(199);
    assert.deepEqual(await queue.receive('q'), [], 'still in flight 1 ms before the timeout');
    t.mock.timers.tick(1);
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

  it('resolves a waiting receive with no messages on close, and refuses calls afterwards', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] }); // the 20 s deadline can never come
    const queue = new MemoryQueue();
    const waiting = watch(queue.receive('q', { waitTimeSeconds: 20 }));
    await settle();
    assert.equal(waiting.done, false);
    await queue.close();
    await settle();
    assert.equal(waiting.done, true, 'close did not end the waiting receive');
    assert.deepEqual(waiting.value, []);
    await assert.rejects(queue.send('q', 'x'), { name: 'PipelineError', message: 'MemoryQueue is closed' });
  });

  it('waits without spinning: a long poll arms one timer, for its deadline, and runs nothing else until then', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    // Count what is scheduled from here on; a polling wait would arm timers (or immediates) again and
    // again, and a microtask spin would keep `settle` (a real setImmediate) from ever running.
    const scheduled: string[] = [];
    const originals = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval, setImmediate: globalThis.setImmediate };
    for (const name of ['setTimeout', 'setInterval', 'setImmediate'] as const) {
      const original = originals[name] as (...args: unknown[]) => unknown;
      (globalThis as Record<string, unknown>)[name] = (...args: unknown[]) => {
        scheduled.push(`${name} ${String(args[1] ?? '')}`);
        return original(...args);
      };
    }
    const flush = () => new Promise<void>((resolve) => originals.setImmediate(resolve));
    try {
      const queue = new MemoryQueue();
      const waiting = watch(queue.receive('q', { waitTimeSeconds: 20 }));
      await flush();
      assert.deepEqual(scheduled, ['setTimeout 20000']);
      t.mock.timers.tick(19_999);
      await flush();
      assert.equal(waiting.done, false);
      assert.deepEqual(scheduled, ['setTimeout 20000'], 'the wait armed more than its deadline');
      t.mock.timers.tick(1);
      await flush();
      assert.equal(waiting.done, true);
      assert.deepEqual(waiting.value, []);
      await queue.close();
    } finally {
      Object.assign(globalThis, originals);
    }
  });

  it('wakes a long poll the moment an in-flight message becomes visible again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const queue = new MemoryQueue({ visibilityTimeoutSeconds: 0.3 });
    await queue.send('q', 'x');
    await queue.receive('q');
    const waiting = watch(queue.receive('q', { waitTimeSeconds: 5 }));
    await settle();
    t.mock.timers.tick(299);
    await settle();
    assert.equal(waiting.done, false, 'delivered before its visibility timeout ended');
    t.mock.timers.tick(1);
    await settle();
    assert.equal(waiting.done, true, 'not woken when the message became visible (only the 5 s deadline would)');
    assert.equal(waiting.value?.[0]?.receiveCount, 2);
    await queue.close();
  });

  it('delivers to several waiting consumers, each message once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const queue = new MemoryQueue();
    const waiting = [1, 2, 3].map(() => watch(queue.receive('q', { waitTimeSeconds: 2 })));
    await settle();
    await queue.send('q', 'a');
    await queue.send('q', 'b');
    await settle();
    // Two got a message at once; the third waits out its 2 s.
    assert.deepEqual(
      waiting.map((w) => w.done),
      [true, true, false],
    );
    t.mock.timers.tick(2000);
    await settle();
    const got = waiting
      .flatMap((w) => w.value ?? [])
      .map((m) => m.body)
      .sort();
    assert.deepEqual(got, ['a', 'b']);
    assert.deepEqual(waiting[2]?.value, []);
    await queue.close();
  });

  it('dead-letters on the next delivery, so the last receive still gets a chance to delete', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const queue = new MemoryQueue({ maxReceiveCount: 2, visibilityTimeoutSeconds: 0.1 });
    await queue.send('q', 'x');
    await queue.receive('q');
    t.mock.timers.tick(100);
    const [last] = await queue.receive('q');
    assert.equal(last?.receiveCount, 2);
    t.mock.timers.tick(100); // visible again, but not delivered yet: still on the queue
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
