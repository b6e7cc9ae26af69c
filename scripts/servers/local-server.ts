import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerStartError } from './errors';

/** Every server binds to loopback only. */
export const LOOPBACK = '127.0.0.1';

/** Answers true once the server serves requests; may throw or return false while it is starting. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<boolean>;

export interface ProcessSpec {
  /** Short name for messages and log files: 'minio', 'versitygw', 'elasticmq', 'serverless-offline'. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Start from `env` alone instead of this process's environment plus `env`: for a server that hands
   * its own environment on to code it runs (MiniStack passes it to every Lambda function).
   */
  isolatedEnv?: boolean;
  cwd?: string;
  probe: ReadinessProbe;
}

export interface StopOptions {
  /** Keep the data directory (and the run directory) so that `start()` finds the same data. */
  keepData?: boolean;
  /** SIGTERM (default) lets the server shut down cleanly; SIGKILL simulates a crash. */
  signal?: NodeJS.Signals;
  /** How long to wait after `signal` before SIGKILL. Default: the server's stopTimeoutMs (10 s). */
  timeoutMs?: number;
}

export interface LocalServerInit {
  spec: ProcessSpec;
  port: number;
  /** Further ports the process listens on: each must be free before it starts. */
  otherPorts?: readonly number[];
  endpoint: string;
  /** Where the server keeps its data (for ElasticMQ, which keeps messages in memory, the run dir). */
  dataDir: string;
  /** Temp folder for config and logs; it also holds dataDir unless the caller chose one. */
  runDir: string;
  /** Folders removed by `stop()` unless `keepData`. */
  ownedPaths: readonly string[];
  readyTimeoutMs: number;
  /** The output's file; `<runDir>/<name>.log` by default. Emptied by the first start, appended to by restarts. */
  logFile?: string;
  /**
   * Each line the process prints (stdout and stderr), as it comes, besides the log file. Without it
   * the process writes to the file itself, which outlives this Node process; with it Node relays.
   */
  onOutputLine?: (line: string) => void;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
}

const live = new Set<LocalServer>();
let exitHookInstalled = false;

/**
 * Children run in their own process groups (so stop() can signal a whole group), which also means a
 * Ctrl-C in the terminal does not reach them. So when this Node process exits, or gets SIGINT,
 * SIGTERM or SIGHUP that nothing else in it handles, kill them, remove their temp folders, and (for a
 * signal) re-raise it so the process still ends the default way. A program with its own handler
 * (scripts/servers/cli.ts) stops its servers itself.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of live) server.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return; // the program handles it and stops its servers
      // Clean up before removing this listener: the test runner relays the same signal, and a
      // second one arriving after the removal ends the process at once.
      for (const server of live) server.killNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * A server running as a child process in its own process group, with its output in
 * `<runDir>/<name>.log`. `stop()` then `start()` brings it back on the same port and data dir.
 * The one manager of long-running children here: the S3/SQS servers and serverless offline
 * (scripts/dev/slsOffline.ts) alike.
 */
export class LocalServer {
  readonly name: string;
  readonly host = LOOPBACK;
  readonly port: number;
  readonly endpoint: string;
  readonly dataDir: string;
  readonly runDir: string;
  readonly logFile: string;
  /** Milliseconds from spawn to the first successful readiness probe, for the last start. */
  readyMs = 0;

  readonly #spec: ProcessSpec;
  readonly #ownedPaths: readonly string[];
  readonly #otherPorts: readonly number[];
  readonly #readyTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #onOutputLine: ((line: string) => void) | undefined;
  #child: ChildProcess | undefined;
  /** Resolves with how the last start's process ended (`code 0`, `signal SIGKILL`). */
  #exited: Promise<string> = Promise.resolve('not started');
  #removed = false;
  #started = false;

  constructor(init: LocalServerInit) {
    this.#spec = init.spec;
    this.name = init.spec.name;
    this.port = init.port;
    this.endpoint = init.endpoint;
    this.dataDir = init.dataDir;
    this.runDir = init.runDir;
    this.logFile = init.logFile ?? join(init.runDir, `${init.spec.name}.log`);
    this.#ownedPaths = init.ownedPaths;
    this.#otherPorts = init.otherPorts ?? [];
    this.#readyTimeoutMs = init.readyTimeoutMs;
    this.#stopTimeoutMs = init.stopTimeoutMs ?? 10_000;
    this.#onOutputLine = init.onOutputLine;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Spawns the server and resolves once its readiness probe succeeds. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.#removed) {
      throw new ServerStartError(`${this.name} on port ${this.port} was stopped and its data removed; start a new one`);
    }
    for (const port of [this.port, ...this.#otherPorts]) await assertPortFree(port, this.name);
    const started = Date.now();
    const out = openSync(this.logFile, this.#started ? 'a' : 'w');
    this.#started = true;
    const relay = this.#onOutputLine;
    let child: ChildProcess;
    try {
      child = spawn(this.#spec.command, [...this.#spec.args], {
        cwd: this.#spec.cwd ?? this.runDir,
        env: this.#spec.isolatedEnv ? { ...this.#spec.env } : { ...process.env, ...this.#spec.env },
        stdio: ['ignore', relay ? 'pipe' : out, relay ? 'pipe' : out],
        detached: true, // own process group: stop() signals the whole group
      });
    } catch (error) {
      closeSync(out);
      throw error;
    }
    if (relay) relayLines(child, out, relay);
    else closeSync(out);
    child.unref(); // a server someone forgot to stop must not keep Node alive; the exit hook kills it
    this.#child = child;
    let spawnFailure: Error | undefined;
    this.#exited = new Promise<string>((resolveExit) => {
      child.once('exit', () => {
        live.delete(this);
        resolveExit(describeExit(child));
      });
      child.once('error', (error) => {
        spawnFailure = error;
        live.delete(this);
        resolveExit(`could not be spawned: ${error.message}`);
      });
    });
    live.add(this);
    installExitHook();

    const deadline = started + this.#readyTimeoutMs;
    let lastProblem = 'no answer yet';
    for (;;) {
      await sleep(0); // let a spawn 'error' event arrive
      if (spawnFailure) {
        throw new ServerStartError(`Could not start ${this.name}: ${spawnFailure.message}`, { cause: spawnFailure });
      }
      if (!this.running) {
        throw new ServerStartError(
          `${this.name} exited with ${describeExit(child)} before it was ready on ${this.endpoint}.\n` +
            `Last lines of ${this.logFile}:\n${tail(this.logFile)}`,
        );
      }
      try {
        if (await this.#spec.probe(AbortSignal.timeout(2_000))) break;
        lastProblem = 'probe answered not ready';
      } catch (error) {
        lastProblem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (Date.now() > deadline) {
        await this.stop({ keepData: true, signal: 'SIGKILL' });
        throw new ServerStartError(
          `${this.name} was not ready on ${this.endpoint} within ${this.#readyTimeoutMs} ms (last probe: ${lastProblem}).\n` +
            `Last lines of ${this.logFile}:\n${tail(this.logFile)}`,
        );
      }
      await sleep(100);
    }
    this.readyMs = Date.now() - started;
  }

  /** Stops the server and its process group; removes its temp folders unless `keepData`. */
  async stop(options: StopOptions = {}): Promise<void> {
    const { keepData = false, signal = 'SIGTERM', timeoutMs = this.#stopTimeoutMs } = options;
    const child = this.#child;
    if (child && this.running) {
      child.ref(); // keep Node alive until the exit is seen
      signalGroup(child, signal);
      const timer = new AbortController(); // cancelled at once so no pending timer holds the event loop
      const timedOut = await Promise.race([
        this.#exited.then(() => false),
        sleep(timeoutMs, true, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      if (timedOut) {
        signalGroup(child, 'SIGKILL');
        await this.#exited;
      }
    }
    this.#child = undefined;
    if (!keepData && !this.#removed) {
      this.#removed = true;
      await Promise.all(this.#ownedPaths.map((path) => rm(path, { recursive: true, force: true })));
    }
  }

  /**
   * Keeps this Node process alive while the server runs, and resolves once it has ended, however
   * (stopped, crashed, killed), with how (`code 0`, `signal SIGKILL`). For a program whose whole job
   * is to run the server (`npm run deploy:local`): `start()` unrefs the child so that a server
   * someone forgot to stop never holds a test open, which alone would let such a program end, and
   * take the server with it, as soon as it has printed that it is ready.
   */
  keepAlive(): Promise<string> {
    this.#child?.ref();
    return this.#exited;
  }

  /** Stops (keeping data) and starts again on the same port and data dir. */
  async restart(): Promise<void> {
    await this.stop({ keepData: true });
    await this.start();
  }

  /** The last lines of the server's log (before `stop()` removes it). */
  logTail(lines = 30): string {
    return tail(this.logFile, lines);
  }

  /** Last resort when the Node process ends: SIGKILL the group, remove the temp folders. */
  killNow(): void {
    if (this.#child && this.running) signalGroup(this.#child, 'SIGKILL');
    live.delete(this);
    if (this.#ownedPaths.length === 0) return;
    // A detached `rm` outlives this process: on a Ctrl-C the test runner may kill us a moment after
    // this handler starts, and the second's pause lets the SIGKILLed server finish dying first.
    try {
      spawn('sh', ['-c', 'sleep 1; exec rm -rf -- "$@"', 'sh', ...this.#ownedPaths], {
        detached: true,
        stdio: 'ignore',
      }).unref();
    } catch {
      // best effort: the OS cleans its temp dir eventually
    }
  }
}

/** Starts a fresh server; if it cannot start, removes its temp folders before rethrowing. */
export async function launch<T extends LocalServer>(server: T): Promise<T> {
  try {
    await server.start();
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Copies the child's output, line by line, to the log file (synchronously, so a failed start's
 * message can quote the last lines) and to `relay`; closes the file when both pipes have closed.
 * The pipes are unref'd like the child: they must not keep Node alive either.
 */
function relayLines(child: ChildProcess, fd: number, relay: (line: string) => void): void {
  let open = 2;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    (stream as Socket).unref();
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      writeSync(fd, `${line}\n`);
      relay(line);
    });
    lines.once('close', () => {
      open -= 1;
      if (open === 0) closeSync(fd);
    });
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone
  }
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A port that was free on loopback a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Fails fast (instead of probing someone else's server) when the port is taken. */
export async function assertPortFree(port: number, name: string): Promise<void> {
  await new Promise<void>((resolveFree, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new ServerStartError(
          error.code === 'EADDRINUSE'
            ? `Cannot start ${name}: port ${port} on ${LOOPBACK} is already in use (another server still running?)`
            : `Cannot start ${name}: port ${port} on ${LOOPBACK} cannot be bound (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    server.listen(port, LOOPBACK, () => server.close(() => resolveFree()));
  });
}

/** True when something accepts TCP connections on `port` on loopback (a readiness probe for servers without HTTP health). */
export function acceptsConnections(port: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: LOOPBACK, port, ...(signal ? { signal } : {}) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A fresh temp folder for one server's config, log and (by default) data. */
export async function makeRunDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `local-${name}-`));
}

/** GET or POST `url`; true when the status is 2xx. */
export async function httpOk(url: string, signal: AbortSignal, init: RequestInit = {}): Promise<boolean> {
  const response = await fetch(url, { ...init, signal });
  await response.arrayBuffer(); // drain so the socket is released
  return response.ok;
}
