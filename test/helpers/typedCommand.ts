/**
 * A command line run as a person runs it in a terminal: through bash, stdin closed, in a process
 * group of its own whose leader is the command itself, its output read line by line.
 *
 * An interactive shell puts each job in its own process group and a terminal's Ctrl-C signals that
 * whole group. `bash -c` runs a single simple command by exec'ing it, so the group leader here is
 * the command (`npm`), as in a terminal; `sh -c` on Debian (dash) would stay in between as a parent
 * that the signal kills, and report that instead of the command's own exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type Stream = 'stdout' | 'stderr';

/** The environment of a person's shell: this one less what `npm test` added (npm's variables, node_modules/.bin on PATH). */
export function shellEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('npm_')) env[name] = value;
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => !dir.endsWith('node_modules/.bin') && !dir.includes('/node-gyp-bin'))
    .join(':');
  return { ...env, ...extra };
}

export class TypedCommand {
  readonly text: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #lines: Array<{ stream: Stream; line: string }> = [];
  readonly #waiters = new Set<(stream: Stream, line: string) => void>();
  readonly #exit: Promise<CommandExit>;

  constructor(text: string, options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.text = text;
    this.#child = spawn('/bin/bash', ['-c', text], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a process group of its own, as a terminal job
    });
    if (this.#child.pid === undefined) throw new Error(`could not start ${text}`);
    this.pid = this.#child.pid;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: this.#child[stream]! }).on('line', (line) => {
        this.#lines.push({ stream, line });
        for (const waiter of this.#waiters) waiter(stream, line);
      });
    }
    // 'close': the process has exited and both pipes are drained, so every line has been seen.
    this.#exit = new Promise((resolve) => this.#child.once('close', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The lines printed so far on `stream`. */
  lines(stream: Stream): string[] {
    return this.#lines.filter((l) => l.stream === stream).map((l) => l.line);
  }

  /** The last lines of its output, both streams, for a failure's message. */
  tail(count = 40): string {
    return this.#lines
      .slice(-count)
      .map((l) => `  [${l.stream}] ${l.line}`)
      .join('\n');
  }

  /**
   * Resolves with the first line on `stream` that matches `pattern` (one printed already, or the
   * next). Rejects if the command ends first, or after `deadlineMs` (a failure, never a pause).
   */
  line(stream: Stream, pattern: RegExp, deadlineMs: number): Promise<RegExpExecArray> {
    const seen = this.lines(stream).find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(pattern.exec(seen)!);
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
      };
      const waiter = (s: Stream, line: string) => {
        const match = s === stream ? pattern.exec(line) : null;
        if (match) {
          done();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `\`${this.text}\` printed no line matching ${pattern} on ${stream} within ${deadlineMs / 1000} s; its output:\n${this.tail()}`,
          ),
        );
      }, deadlineMs);
      this.#waiters.add(waiter);
      void this.#exit.then((exit) => {
        if (!this.#waiters.has(waiter)) return;
        done();
        reject(
          new Error(
            `\`${this.text}\` ended (${describeExit(exit)}) before printing a line matching ${pattern}; its output:\n${this.tail()}`,
          ),
        );
      });
    });
  }

  /** Sends `signal` to the command's whole process group, as a terminal does on Ctrl-C. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.pid, signal);
  }

  /** Resolves once the command has ended; rejects after `deadlineMs`. */
  exited(deadlineMs: number): Promise<CommandExit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`\`${this.text}\` had not ended after ${deadlineMs / 1000} s; its output:\n${this.tail()}`)),
        deadlineMs,
      );
    });
    return Promise.race([this.#exit, deadline]).finally(() => clearTimeout(timer));
  }

  /** Last resort after a failed test: SIGKILL whatever of the group is left. */
  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function describeExit(exit: CommandExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
