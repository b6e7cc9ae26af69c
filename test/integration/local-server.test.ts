// LocalServer, the one manager of long-running children (MinIO, Versity, ElasticMQ, serverless
// offline): its output relayed line by line, and nothing left behind when the program that started
// it gets Ctrl-C or SIGTERM, whether or not that program handles the signal itself.
// Run: node --import tsx --test test/integration/local-server.test.ts
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../scripts/repoRoot';

const CHILD = path.join(REPO_ROOT, 'test/helpers/localServerChild.ts');

interface Started {
  program: ChildProcess;
  lines: string[];
  /** The toy server's pid, its temp folder and log file, as the program reported them. */
  info: { pid: number; runDir: string; logFile: string };
  /** Closes when the toy server's process is gone (it holds a connection to the test). */
  toyGone: Promise<void>;
  printed(line: string): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A TCP server the toy connects to; resolves with the first connection. */
async function watcher(): Promise<{ server: Server; port: number; connection: Promise<Socket> }> {
  let accept!: (socket: Socket) => void;
  const connection = new Promise<Socket>((resolve) => {
    accept = resolve;
  });
  const server = createServer((socket) => accept(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, connection };
}

async function startProgram(mode: 'unhandled' | 'handled' | 'held'): Promise<Started & { close(): void }> {
  const watch = await watcher();
  const program = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, String(watch.port)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  program.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    program.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  createInterface({ input: program.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.filter((x) => x.test(line))) w.resolve(line);
  });
  /** The first line (already printed or to come) that passes `test`; rejects if the program exits first. */
  const lineWhere = (test: (line: string) => boolean, what: string) =>
    Promise.race([
      new Promise<string>((resolve) => {
        const seen = lines.find(test);
        if (seen !== undefined) resolve(seen);
        else waiters.push({ test, resolve });
      }),
      exit.then(({ code, signal }) => {
        throw new Error(`program exited (${signal ?? code}) before printing ${what}; stderr: ${stderr}`);
      }),
    ]);
  const printed = async (line: string) => {
    await lineWhere((l) => l === line, JSON.stringify(line));
  };
  const infoLine = await lineWhere((l) => l.startsWith('{'), 'its JSON line');
  const socket = await watch.connection;
  const toyGone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.resume();
  return {
    program,
    lines,
    info: JSON.parse(infoLine) as Started['info'],
    toyGone,
    printed,
    exit,
    close: () => {
      program.kill('SIGKILL');
      watch.server.close();
    },
  };
}

/** Waits for a folder to go: removal after a signal is done by a detached `rm` a second later (see killNow). */
async function removed(dir: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (existsSync(dir)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

describe('LocalServer', { timeout: 120_000 }, () => {
  it("relays the child's stdout and stderr line by line and keeps them in its log file", async (t) => {
    const started = await startProgram('handled');
    t.after(() => started.close());
    await started.printed('[toy] toy listening');
    await started.printed('[toy] toy says this on stderr');
    const log = readFileSync(started.info.logFile, 'utf8').split('\n');
    assert.ok(log.includes('toy listening') && log.includes('toy says this on stderr'), `log file: ${log.join(' | ')}`);
    started.program.kill('SIGTERM');
    assert.deepEqual(await started.exit, { code: 0, signal: null });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to a program without a handler: the child's group is killed, its folder removed, and the signal still ends the program`, async (t) => {
      const started = await startProgram('unhandled');
      t.after(() => started.close());
      assert.ok(existsSync(started.info.runDir));
      started.program.kill(signal);
      assert.deepEqual(await started.exit, { code: null, signal });
      await started.toyGone; // the connection closes when the toy's process is gone
      assert.ok(await removed(started.info.runDir, 15_000), `${started.info.runDir} left behind`);
    });
  }

  it("SIGINT to a program with its own handler (as npm run dev has): the program's stop() ends the child and removes its folder", async (t) => {
    const started = await startProgram('handled');
    t.after(() => started.close());
    started.program.kill('SIGINT');
    assert.deepEqual(await started.exit, { code: 0, signal: null });
    await started.toyGone;
    // stop() removes the folder before it resolves, so it is gone by the time the program exits.
    assert.equal(existsSync(started.info.runDir), false, `${started.info.runDir} left behind`);
  });

  it("keepAlive() alone keeps a program running while its server runs (the child is unref'd), and says how the server ended", async (t) => {
    const started = await startProgram('held');
    t.after(() => started.close());
    // Without the hold the program would have ended right after its JSON line, killing the toy
    // (its exit hook): then neither this line nor exit code 3 could come.
    process.kill(started.info.pid, 'SIGKILL');
    await started.printed('ended signal SIGKILL');
    assert.deepEqual(await started.exit, { code: 3, signal: null });
  });
});
