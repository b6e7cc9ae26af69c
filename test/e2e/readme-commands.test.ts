import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import sharp from 'sharp';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { isImageFileName } from '../../src/domain/imageFormats';
import { type DocCommand, docCommands, nextStep } from '../helpers/docCommands';
import { fixturePath, referenceDetections } from '../helpers/fixtures';
import {
  canListen,
  descendants,
  isAlive,
  type ListeningPort,
  listeningPorts,
  type ProcessInfo,
  processesWithEnv,
} from '../helpers/processTree';
import { describeExit, shellEnvironment, TypedCommand } from '../helpers/typedCommand';

/**
 * Every command the docs give for running the pipeline, run as a person types it: the line read
 * from README.md or a page it links to (so the test follows the docs, and fails when a command
 * written there stops working), through bash, stdin closed, in a process group of its own.
 *
 * - `npm run pipeline -- samples` runs to the end: exit 0, every sample tagged on disk.
 * - Each long-running one (`npm start`, `npm run dev`, `npm run deploy:local`) is awaited to its
 *   ready line, used as the docs say next to it (their `curl -X POST -F "image=@…"` upload, run
 *   with curl, its status followed to a tagged photo, the tagged image fetched), found still
 *   running, then stopped with SIGTERM or SIGINT to its process group, as a terminal's Ctrl-C does:
 *   it must exit 0, leave no process behind (every process below it when it was signalled, however
 *   deep or detached, and any process carrying this run's environment marker) and free every port
 *   it listened on.
 *
 * The commands use their default ports, as written: each run first checks they are free and says
 * which one is not. Each gets a private DATA_DIR (npm start, the pipeline) and DEV_DATA_DIR
 * (npm run dev), and the test checks that the repository's data/ and .cache/dev-data/ are as
 * they were. (The builds it runs write .build/, layers/ and .serverless/ as `npm run package`
 * does, and the logs in .cache/dev/ and .cache/deploy/.)
 *
 * Signals: npm start and npm run dev, cheap to start, are run twice, SIGTERM then SIGINT.
 * npm run deploy:local (a minute of deploying) once, with SIGTERM: it registers one handler for
 * SIGINT, SIGTERM and SIGHUP, and the way a signal reaches it through npm is the same as for the
 * other two, which the SIGINT runs prove.
 */

/** Set in each command's environment: a process that still carries it afterwards was left behind. */
const RUN_MARKER = 'README_COMMAND_RUN';
const CURL_UPLOAD = /^curl\b.*\s-F\s+["']?image=@/;
/** The photo the docs' upload sends, whatever they call it: a fixture with reference detections. */
const PHOTO_FIXTURE = 'dog.jpg';
/** What a person's own state is: the embedded default's folder, npm run dev's bucket. */
const DEVELOPER_STATE = ['data', path.join('.cache', 'dev-data')];
const LOOPBACK = '127.0.0.1';

interface LongRunning {
  /** The command as the docs write it (flags after it included). */
  command: RegExp;
  /** The line that says it is ready, and on which stream. */
  ready: { stream: 'stdout' | 'stderr'; line: RegExp; withinMs: number };
  /** Shell variables the ready line defines for the commands that follow it in the docs. */
  shellVariables?: (ready: RegExpExecArray) => Record<string, string>;
  /** Its default ports, on 127.0.0.1. */
  ports: number[];
  signals: NodeJS.Signals[];
}

const LONG_RUNNING: Record<string, LongRunning> = {
  'npm start': {
    command: /^npm start(?=\s|$)/,
    ready: { stream: 'stderr', line: /listening on (http:\/\/\S+)/, withinMs: 180_000 },
    ports: [3000],
    signals: ['SIGTERM', 'SIGINT'],
  },
  'npm run dev': {
    command: /^npm run (?:-s )?dev(?=\s|$)/,
    ready: { stream: 'stderr', line: /^\[dev\] ready in /, withinMs: 600_000 },
    ports: [3000, 3002, 9000, 9324],
    signals: ['SIGTERM', 'SIGINT'],
  },
  'npm run deploy:local': {
    // Not its --auth jwt / --auth api-key forms (docs/security.md): an upload needs a token or a key
    // the docs cannot write down. test/e2e/deployed-stack.test.ts deploys with each mode through
    // startDeployedStack (what deploy:local runs), and test/e2e/auth-cli.test.ts runs their flags.
    command: /^npm run (?:-s )?deploy:local(?=\s|$)(?!.*\s--auth\s+(?:jwt|api-key)\b)/,
    ready: { stream: 'stdout', line: /^API_URL=(\S+)$/, withinMs: 900_000 },
    shellVariables: (ready) => ({ API_URL: ready[1]! }),
    ports: [4566],
    signals: ['SIGTERM'],
  },
};

interface Status {
  state: string;
  error?: { stage: string; reason: string };
  detections: Array<{ label: string }>;
  images: Record<string, string | null>;
}

/** A listing of a folder (path, size, modification time), to show nothing in it changed. */
function folderState(dir: string): string[] {
  const abs = path.join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((rel) => {
      const st = statSync(path.join(abs, rel));
      return `${path.join(dir, rel)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
    });
}

function developerState(): string[] {
  return DEVELOPER_STATE.flatMap(folderState);
}

async function assertPortsFree(ports: readonly number[], command: string): Promise<void> {
  for (const port of ports) {
    assert.ok(
      await canListen(port, LOOPBACK),
      `\`${command}\` uses port ${port} (its default, as the docs run it), which something on this machine already listens on: stop it and run this test again`,
    );
  }
}

/** Resolves once `check` returns an empty list; rejects with what is left after `deadlineMs`. */
async function untilNone<T>(check: () => T[] | Promise<T[]>, deadlineMs: number, what: string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const left = await check();
    if (left.length === 0) return;
    if (Date.now() > deadline) assert.fail(`${what}:\n${left.map((x) => `  ${typeof x === 'string' ? x : JSON.stringify(x)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function killAll(processes: readonly ProcessInfo[]): void {
  for (const p of processes) {
    if (!isAlive(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** The URL a docs line's curl sends to, its shell variables expanded. */
function urlOf(curlLine: string, variables: Record<string, string>): string {
  const last = /(?:"([^"]*)"|'([^']*)'|(\S+))\s*$/.exec(curlLine)!;
  const raw = last[1] ?? last[2] ?? last[3]!;
  return raw.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (_, name: string) => variables[name] ?? '');
}

/** GET the status until the photo is tagged (or failed: the test fails with its reason). */
async function followToTagged(statusUrl: string, deadlineMs: number): Promise<Status> {
  const deadline = Date.now() + deadlineMs;
  let last = 'no answer yet';
  for (;;) {
    const res = await fetch(statusUrl, { signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status === 200) {
      const status = JSON.parse(body) as Status;
      if (status.state === 'done') return status;
      assert.notEqual(status.state, 'failed', `the photo failed: ${JSON.stringify(status.error)}`);
      last = `state ${status.state}`;
    } else last = `HTTP ${res.status} ${body.slice(0, 200)}`;
    if (Date.now() > deadline) assert.fail(`${statusUrl} did not say done within ${deadlineMs / 1000} s (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The docs' upload next to `command`, run with curl in a folder holding the photo it names; then the photo followed to tagged. */
async function uploadAsDocumented(t: TestContext, command: DocCommand, scratch: string, variables: Record<string, string>): Promise<void> {
  const upload = nextStep(command, CURL_UPLOAD);
  assert.ok(upload, `${command.where}: the docs show no \`curl -X POST -F "image=@…"\` upload next to \`${command.text}\``);
  const photo = /image=@(?:"([^"]+)"|([^"\s]+))/.exec(upload)!;
  const photoName = (photo[1] ?? photo[2]!).replace(/"$/, '');
  const curlDir = path.join(scratch, 'curl');
  copyFileSync(fixturePath(PHOTO_FIXTURE), path.join(curlDir, path.basename(photoName)));

  const curl = new TypedCommand(upload, { cwd: curlDir, env: shellEnvironment(variables) });
  const curlExit = await curl.exited(120_000);
  assert.deepEqual(curlExit, { code: 0, signal: null }, `\`${upload}\` ended with ${describeExit(curlExit)}:\n${curl.tail()}`);
  const answer = curl.lines('stdout').join('\n');
  let accepted: { image_id: string; status_url: string };
  try {
    accepted = JSON.parse(answer) as typeof accepted;
  } catch {
    assert.fail(`\`${upload}\` answered no JSON: ${answer.slice(0, 500)}`);
  }
  assert.match(accepted.image_id, /^[0-9a-f-]{36}$/, answer);
  t.diagnostic(`${upload} -> ${answer.slice(0, 200)}`);

  const base = urlOf(upload, variables).replace(/\/upload$/, '');
  const status = await followToTagged(`${base}${accepted.status_url}`, 300_000);
  const reference = referenceDetections()[PHOTO_FIXTURE]!;
  assert.deepEqual(
    [...new Set(status.detections.map((d) => d.label))].sort(),
    [...new Set(reference.detections.map((d) => d.label))].sort(),
    'the labels found are the reference ones',
  );
  assert.ok(status.images.tagged, `the status names the tagged image: ${JSON.stringify(status.images)}`);
  const tagged = await fetch(`${base}${status.images.tagged}`, { signal: AbortSignal.timeout(30_000) });
  assert.equal(tagged.status, 200, `GET ${status.images.tagged} (redirects followed): ${tagged.status}`);
  const meta = await sharp(Buffer.from(await tagged.arrayBuffer())).metadata();
  assert.deepEqual(
    [meta.format, meta.width, meta.height],
    ['jpeg', reference.width, reference.height],
    'the tagged image: a JPEG the size of the photo',
  );
}

async function runLongRunning(t: TestContext, spec: LongRunning, command: DocCommand, signal: NodeJS.Signals): Promise<void> {
  await assertPortsFree(spec.ports, command.text);
  const before = developerState();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'readme-commands-'));
  for (const dir of ['curl', 'data', 'dev-data']) mkdirSync(path.join(scratch, dir));
  const runId = randomUUID();
  const env = shellEnvironment({ DATA_DIR: path.join(scratch, 'data'), DEV_DATA_DIR: path.join(scratch, 'dev-data'), [RUN_MARKER]: runId });
  const started = Date.now();
  const cmd = new TypedCommand(command.text, { cwd: REPO_ROOT, env });
  let tree: ProcessInfo[] = [];
  try {
    const ready = await cmd.line(spec.ready.stream, spec.ready.line, spec.ready.withinMs);
    t.diagnostic(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s: ${ready.input}`);

    await uploadAsDocumented(t, command, scratch, spec.shellVariables?.(ready) ?? {});
    assert.ok(cmd.running, `\`${command.text}\` ended after it was used; its output:\n${cmd.tail()}`);

    tree = descendants(cmd.pid);
    const ports: ListeningPort[] = listeningPorts([cmd.pid, ...tree.map((p) => p.pid)]);
    for (const port of spec.ports) {
      assert.ok(
        ports.some((p) => p.port === port),
        `it listens on its default port ${port} (it listens on ${ports.map((p) => p.port).join(', ')})`,
      );
    }
    t.diagnostic(`${tree.length} processes below it, listening on ${ports.map((p) => `${p.host}:${p.port}`).join(' ')}`);

    const stopping = Date.now();
    cmd.signalGroup(signal);
    const exit = await cmd.exited(120_000);
    t.diagnostic(`${signal}: ${describeExit(exit)} after ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
    assert.deepEqual(
      exit,
      { code: 0, signal: null },
      `\`${command.text}\` on ${signal}: ${describeExit(exit)}; its output:\n${cmd.tail()}`,
    );

    // Its own children end as it does; a grandchild may take a moment more to see its pipes close.
    await untilNone(
      () => [...tree.filter(isAlive), ...processesWithEnv(RUN_MARKER, runId)].map((p) => `${p.pid} ${p.cmdline}`),
      10_000,
      `\`${command.text}\` left processes running after ${signal}`,
    );
    for (const { host, port } of ports) {
      assert.ok(await canListen(port, host), `port ${host}:${port}, which it listened on, is free again`);
    }
    assert.deepEqual(developerState(), before, "the repository's data/ and .cache/dev-data/ are untouched");
  } finally {
    cmd.kill();
    killAll([...tree, ...descendants(cmd.pid), ...processesWithEnv(RUN_MARKER, runId)]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe('the commands the docs give, run as a person types them', { timeout: 3_600_000 }, () => {
  const pipeline = docCommands(/^npm run (?:-s )?pipeline -- samples(?=\s|$)/);
  it('the docs give `npm run pipeline -- samples`', () =>
    assert.ok(pipeline.length > 0, 'no `npm run pipeline -- samples` in README.md or the pages it links to'));
  for (const command of pipeline) {
    it(`${command.text} (${command.where}): exit 0, every sample tagged on disk in DATA_DIR`, async (t) => {
      const before = developerState();
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'readme-commands-'));
      const runId = randomUUID();
      const cmd = new TypedCommand(command.text, { cwd: REPO_ROOT, env: shellEnvironment({ DATA_DIR: scratch, [RUN_MARKER]: runId }) });
      try {
        const exit = await cmd.exited(900_000);
        assert.deepEqual(exit, { code: 0, signal: null }, `${describeExit(exit)}; its output:\n${cmd.tail()}`);
        const samples = readdirSync(path.join(REPO_ROOT, 'samples')).filter(isImageFileName);
        assert.match(cmd.lines('stderr').join('\n'), new RegExp(`^${samples.length} done, 0 failed in `, 'm'));
        const tagged = cmd.lines('stdout').flatMap((line) => /^\s+tagged: (.+)$/.exec(line)?.[1] ?? []);
        assert.equal(tagged.length, samples.length, `one tagged output per sample; stdout:\n${cmd.lines('stdout').join('\n')}`);
        const sizes = async (files: string[]) =>
          (await Promise.all(files.map(async (f) => sharp(f).metadata()))).map((m) => `${m.format} ${m.width}x${m.height}`).sort();
        for (const file of tagged) assert.ok(file.startsWith(`${scratch}${path.sep}`), `${file} is in DATA_DIR (${scratch})`);
        assert.deepEqual(
          await sizes(tagged),
          (await sizes(samples.map((s) => path.join(REPO_ROOT, 'samples', s)))).map((s) => s.replace(/^\w+/, 'jpeg')),
          'each tagged output is a JPEG the size of its sample',
        );
        t.diagnostic(cmd.lines('stderr').at(-1) ?? '');
        await untilNone(() => processesWithEnv(RUN_MARKER, runId).map((p) => `${p.pid} ${p.cmdline}`), 10_000, 'processes left running');
        assert.deepEqual(developerState(), before, "the repository's data/ and .cache/dev-data/ are untouched");
      } finally {
        cmd.kill();
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  }

  for (const [name, spec] of Object.entries(LONG_RUNNING)) {
    const commands = docCommands(spec.command);
    it(`the docs give \`${name}\``, () => assert.ok(commands.length > 0, `no \`${name}\` in README.md or the pages it links to`));
    for (const command of commands) {
      for (const signal of spec.signals) {
        it(`${command.text} (${command.where}): ready, a photo uploaded as the docs say and tagged, still running; on ${signal} exit 0, no process left, ports free`, (t) =>
          runLongRunning(t, spec, command, signal));
      }
    }
  }
});
