/**
 * HTTP memory benchmark: how much the embedded server's resident memory grows under load, with its
 * baseline measured in the same run (bench/http-server.ts: the HTTP API alone, in a fresh process).
 *
 *   npx tsx bench/http.bench.ts [--http-sections downloads,uploads] [--downloads 10] [--original-mb 45]
 *                               [--clients 50] [--body-mb 10] [--rate-kbps 100]
 *
 * downloads  `--downloads` clients GET the same `--original-mb` MB original at once
 *            (GET /images/{id}/original), each reading as fast as it can. Target: the peak grows by
 *            at most 100 MB (the image is streamed from its file, never read whole).
 * uploads    `--clients` clients each POST /upload a `--body-mb` MB photo (the seed's multipart
 *            form) at `--rate-kbps` KB/s, all at once: at 100 KB/s a 10 MB body takes 100 s. Target:
 *            the peak grows by at most 100 MB (each body is read once, spooled to disk as it
 *            arrives, and read back one per core for its check and store).
 * Each photo is real JPEG (deterministic noise, which does not compress: 3 bytes a pixel at q100),
 * made at bench time. Figures are the server's VmRSS after a garbage collection (baseline) and its
 * VmHWM since then (peak), in MB.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createApp } from '../src/app/createApp';
import { loadConfig } from '../src/config';
import { LOCAL_OWNER } from '../src/domain/owners';
import { acceptUpload } from '../src/upload/acceptUpload';

const { values } = parseArgs({
  strict: false,
  options: {
    'http-sections': { type: 'string', default: 'downloads,uploads' },
    downloads: { type: 'string', default: '10' },
    'original-mb': { type: 'string', default: '45' },
    clients: { type: 'string', default: '50' },
    'body-mb': { type: 'string', default: '10' },
    'rate-kbps': { type: 'string', default: '100' },
  },
});
const SECTIONS = String(values['http-sections']).split(',');
const TARGET_MB = 100;
const number = (name: string) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got ${String(values[name])}`);
  return n;
};

/** A real JPEG of about `mb` MB: deterministic noise at q100, 4:4:4, about 2.9 bytes a pixel. */
async function noiseJpeg(mb: number, seed: number): Promise<Buffer> {
  const pixels = (mb * 1e6) / 2.92;
  const width = Math.round(Math.sqrt((pixels * 4) / 3));
  const height = Math.round(pixels / width);
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
  ask<T>(message: string, key: string): Promise<T>;
}

async function startServer(dataDir: string): Promise<Server> {
  const child = fork(path.join(import.meta.dirname, 'http-server.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    // As `npm start` runs the server: two malloc arenas unless set otherwise (docs/configuration.md).
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', DATA_DIR: dataDir, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off('message', onMessage);
          resolve((key === 'url' ? m.url : m) as T);
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before answering ${key}`)));
    });
  const url = await next<string>('url');
  return {
    child,
    url,
    port: Number(new URL(url).port),
    ask: (message, key) => {
      const answer = next<never>(key);
      child.send(message);
      return answer;
    },
  };
}

/** Runs `load` between a baseline and a peak reading of the server, and prints them. */
async function measure(server: Server, what: string, load: () => Promise<string>): Promise<void> {
  await server.ask('mark', 'marked');
  const t0 = performance.now();
  const detail = await load();
  const seconds = (performance.now() - t0) / 1000;
  const { baselineMb, peakMb } = await server.ask<{ baselineMb: number; peakMb: number }>('report', 'peakMb');
  const grew = peakMb - baselineMb;
  console.log(
    `${what}: ${detail} in ${seconds.toFixed(1)} s; server RSS ${baselineMb.toFixed(1)} MB before, peak ${peakMb.toFixed(1)} MB: ` +
      `+${grew.toFixed(1)} MB (target: at most +${TARGET_MB} MB) ${grew <= TARGET_MB ? 'ok' : 'OVER'}`,
  );
}

/**
 * A photo uploaded as POST /upload leaves it (acceptUpload: its original and its upload record, the
 * AUTH=none caller's), written before the server starts; its resize message goes nowhere.
 */
async function uploadedPhoto(dataDir: string): Promise<{ id: string; size: number }> {
  const original = await noiseJpeg(number('original-mb'), 45);
  const app = createApp({ config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'error' }), detector: async () => [], persistQueues: false });
  try {
    const accepted = await acceptUpload(original, app, { owner: LOCAL_OWNER });
    return { id: accepted.image_id, size: original.length };
  } finally {
    await app.close();
  }
}

async function downloads(server: Server, photo: { id: string; size: number }): Promise<void> {
  const count = number('downloads');
  const { id, size: bytes } = photo;
  await measure(server, `downloads (${count} at once of a ${(bytes / 1e6).toFixed(1)} MB original)`, async () => {
    const sizes = await Promise.all(
      Array.from({ length: count }, async () => {
        // The API's 302 to the folder store's presigned URL, followed: the image streams from its file.
        const res = await fetch(`${server.url}/images/${id}/original`);
        if (res.status !== 200) throw new Error(`GET /images/${id}/original: ${res.status}`);
        let size = 0;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) size += chunk.length;
        return size;
      }),
    );
    if (sizes.some((s) => s !== bytes)) throw new Error(`downloads: expected ${bytes} bytes each, got ${sizes.join(', ')}`);
    return `${count} × ${bytes} bytes read`;
  });
}

/** One client: the request head, then the body in slices at `rateKbps`; resolves with the status line. */
function slowUpload(port: number, head: Buffer, body: Buffer, rateKbps: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const slice = Math.max(1, Math.round((rateKbps * 1000) / 10)); // ten slices a second
    let sent = 0;
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status && answer.includes('\r\n\r\n')) {
        clearInterval(timer);
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
    socket.once('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= body.length) return clearInterval(timer);
        socket.write(body.subarray(sent, sent + slice));
        sent += slice;
      }, 100);
    });
  });
}

async function uploads(server: Server): Promise<void> {
  const clients = number('clients');
  const rate = number('rate-kbps');
  const boundary = 'bench-boundary';
  const photo = await noiseJpeg(number('body-mb') - 0.001, 10);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    photo,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const head = Buffer.from(
    `POST /upload HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${body.length}\r\n\r\n`,
  );
  await measure(
    server,
    `uploads (${clients} clients at once, each a ${(body.length / 1e6).toFixed(1)} MB form at ${rate} KB/s)`,
    async () => {
      const statuses = await Promise.all(Array.from({ length: clients }, () => slowUpload(server.port, head, body, rate)));
      const counts = new Map<number, number>();
      for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
      return `answers ${[...counts].map(([s, n]) => `${n} × ${s}`).join(', ')}`;
    },
  );
}

// The server takes the default limits (MAX_UPLOAD_BYTES 10 MiB), as `npm start` does.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-http-'));
const photo = SECTIONS.includes('downloads') ? await uploadedPhoto(dataDir) : undefined;
const server = await startServer(dataDir);
try {
  console.log(`embedded HTTP API on ${server.url} (its own process, queue consumers off)`);
  if (photo) await downloads(server, photo);
  if (SECTIONS.includes('uploads')) await uploads(server);
} finally {
  server.child.send('stop');
  await new Promise((resolve) => server.child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
