import net from 'node:net';

/**
 * HTTP/1.1 over a plain socket, for requests no HTTP client will send (a control byte in a part
 * header, a body cut short, headers that never end) and for answers that must come before the
 * request is whole. Every wait has a deadline, which is a failure: it rejects with what was awaited.
 */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Rejects with `what` when `promise` has not settled within `ms`: a hang is a failure, never a wait. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A request's head: the request line, then each header, then the blank line. */
export function head(requestLine: string, headers: Record<string, string | number>): Buffer {
  return Buffer.from(
    `${requestLine}\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
    'latin1',
  );
}

export interface RawConnection {
  socket: net.Socket;
  /** The first answer on this connection (resolves once it is whole, or the connection closed after its head). */
  answer: Promise<RawAnswer>;
  /** Resolves when the server closes the connection (or it breaks). */
  closed: Promise<void>;
  /** Everything received so far. */
  received(): Buffer;
}

/** Connects and writes `parts` in order (the socket stays open: `socket.end()` to finish). */
export function connect(port: number, parts: Buffer[] = [], host = '127.0.0.1'): RawConnection {
  const socket = net.connect(port, host);
  const chunks: Buffer[] = [];
  let resolveAnswer: (a: RawAnswer) => void;
  let rejectAnswer: (e: Error) => void;
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  // A connection closed with no answer rejects `answer`: a failure for whoever awaits it, and
  // nothing for a test that only awaits `closed`.
  answer.catch(() => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const tryParse = (final: boolean) => {
    const all = Buffer.concat(chunks);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (final)
        rejectAnswer(new Error(`the connection closed without an answer (got ${JSON.stringify(all.toString('latin1').slice(0, 200))})`));
      return;
    }
    const [statusLine = '', ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    const rest = all.subarray(end + 4);
    const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) resolveAnswer({ status, headers, body: '' });
    else if (length !== undefined && rest.length >= length)
      resolveAnswer({ status, headers, body: rest.subarray(0, length).toString('utf8') });
    else if (headers['transfer-encoding'] === 'chunked' && rest.includes('\r\n0\r\n\r\n'))
      resolveAnswer({ status, headers, body: dechunk(rest) });
    else if (final) resolveAnswer({ status, headers, body: rest.toString('utf8') });
  };
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    tryParse(false);
  });
  // A reset after the answer arrived is fine; the answer is what counts.
  socket.on('error', () => undefined);
  socket.once('close', () => tryParse(true));
  socket.once('connect', () => {
    for (const p of parts) socket.write(p);
  });
  return { socket, answer, closed, received: () => Buffer.concat(chunks) };
}

function dechunk(body: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    const size = Number.parseInt(body.subarray(i, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out).toString('utf8');
}

/** Sends a whole request and waits for its answer, within `ms`. */
export function request(port: number, parts: Buffer[], ms: number, what: string): Promise<RawAnswer> {
  const c = connect(port, parts);
  return withDeadline(c.answer, ms, what).finally(() => c.socket.destroy());
}

/** A multipart body with one part whose header block is given raw (`partHead`, without the blank line). */
export function oddMultipart(
  partHead: Buffer | string,
  data: Buffer | string = 'abc',
  boundary = 'b0undary',
): { body: Buffer; contentType: string } {
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\n`),
    Buffer.isBuffer(partHead) ? partHead : Buffer.from(partHead, 'latin1'),
    Buffer.from('\r\n\r\n'),
    Buffer.isBuffer(data) ? data : Buffer.from(data),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** `POST path` with this body, as bytes. */
export function post(path: string, body: Buffer, contentType: string, extra: Record<string, string | number> = {}): Buffer[] {
  return [head(`POST ${path} HTTP/1.1`, { host: 'localhost', 'content-type': contentType, 'content-length': body.length, ...extra }), body];
}
