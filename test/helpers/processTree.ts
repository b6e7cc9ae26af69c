/**
 * What a command left running, read from Linux's /proc: the processes below a pid (by parent, so
 * children in process groups or sessions of their own count too, as MiniStack, MinIO, ElasticMQ and
 * serverless offline are), the TCP ports they listen on, and the processes whose environment
 * carries a marker (which outlive their parent too, reparented to init).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ProcessInfo {
  pid: number;
  /** Clock ticks after boot when it started: with the pid, names one process even if the pid is reused. */
  startTime: string;
  cmdline: string;
}

export interface ListeningPort {
  host: string;
  port: number;
}

interface Stat {
  state: string;
  ppid: number;
  startTime: string;
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return undefined; // gone meanwhile
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 160);
  } catch {
    return '';
  }
}

/** Every living process below `root` (not root itself). */
export function descendants(root: number): ProcessInfo[] {
  const children = new Map<number, number[]>();
  const stats = new Map<number, Stat>();
  for (const pid of pids()) {
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z') continue;
    stats.set(pid, stat);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const found: ProcessInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push({ pid: child, startTime: stats.get(child)!.startTime, cmdline: cmdline(child) });
      queue.push(child);
    }
  }
  return found;
}

/** True while the very process (same pid, same start) runs; a zombie has finished. */
export function isAlive(p: ProcessInfo): boolean {
  const stat = readStat(p.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === p.startTime;
}

/** Living processes whose environment holds `NAME=value` (needs permission to read their environ: same user or root). */
export function processesWithEnv(name: string, value: string): ProcessInfo[] {
  const needle = `${name}=${value}\0`;
  const found: ProcessInfo[] = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!`\0${environ}`.includes(`\0${needle}`)) continue;
    const stat = readStat(pid);
    if (stat && stat.state !== 'Z') found.push({ pid, startTime: stat.startTime, cmdline: cmdline(pid) });
  }
  return found;
}

/** /proc/net/tcp's address: a 32-bit little-endian hex word for IPv4, four of them for IPv6. */
function hostOf(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  if (hex.length === 8)
    return words[0]!
      .match(/../g)!
      .map((b) => Number.parseInt(b, 16))
      .join('.');
  const groups = words.flatMap((w) => [w.slice(0, 4), w.slice(4)]).map((g) => Number.parseInt(g, 16).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** The TCP ports the processes listen on (their sockets in LISTEN state), each once. */
export function listeningPorts(pidList: readonly number[]): ListeningPort[] {
  const inodes = new Set<string>();
  for (const pid of pidList) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
  }
  const found = new Map<string, ListeningPort>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue; // 0A: LISTEN
      const [address, port] = cols[1]!.split(':') as [string, string];
      const entry = { host: hostOf(address), port: Number.parseInt(port, 16) };
      found.set(`${entry.host} ${entry.port}`, entry);
    }
  }
  return [...found.values()];
}

/** Resolves true when `port` can be listened on at `host` now (nothing else listens there). */
export function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
