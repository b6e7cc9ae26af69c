import type { IncomingMessage } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { ClientGoneError, isClientGone } from './clientGone';
import { abortError } from './deadline';

export interface BodyLimits {
  /** The most bytes read; past them the stream fails with `tooLarge()` at once (nothing past them is buffered). */
  maxBytes: number;
  tooLarge: () => Error;
  /** The request's deadline and its client's presence: the stream fails with its reason when it aborts. */
  signal: AbortSignal;
  /** Looks at each chunk as it passes; an error it returns fails the stream at once (what a body must not be). */
  inspect?: (chunk: Buffer) => Error | undefined;
}

/**
 * A request body with its limits: the same bytes (no copy), failing instead of hanging — past
 * `maxBytes`, when the signal aborts, when the body errors or closes before its end (the client
 * left: a ClientGoneError). On failure the body is unpiped and left paused; the caller's adapter
 * decides what to do with the connection.
 */
export function boundedBody(body: Readable, limits: BodyLimits): Readable {
  const { maxBytes, tooLarge, signal, inspect } = limits;
  let size = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      // What the bytes are first: a body refused for its shape says so, whatever its size.
      const refused = inspect?.(chunk);
      if (refused) return done(refused);
      size += chunk.length;
      if (size > maxBytes) return done(tooLarge());
      done(null, chunk);
    },
  });
  // A route that never reads the body (a GET, an early refusal) must not crash on its failure:
  // readers see the error through their own listeners.
  out.on('error', () => undefined);
  const fail = (error: Error) => {
    if (out.destroyed) return;
    body.unpipe(out);
    body.pause();
    out.destroy(error);
  };
  const onAbort = () => fail(abortError(signal));
  const onError = (error: Error) => fail(isClientGone(error) ? new ClientGoneError(undefined, { cause: error }) : error);
  const onClose = () => {
    if (!body.readableEnded) fail(new ClientGoneError('the request ended before its body did'));
  };
  out.once('close', () => {
    signal.removeEventListener('abort', onAbort);
    // The error listener stays: a request destroyed later still emits its error, which must not crash.
    body.off('close', onClose);
    if (!out.readableEnded) {
      body.unpipe(out);
      body.pause();
    }
  });
  if (signal.aborted) {
    queueMicrotask(onAbort);
    return out;
  }
  if (body.destroyed || body.readableEnded) {
    queueMicrotask(() => fail(new ClientGoneError('the request body was gone before it was read')));
    return out;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  body.on('error', onError).on('close', onClose);
  body.pipe(out);
  return out;
}

/** A small body, whole (POST /uploads' JSON), read within its limits (boundedBody). */
export async function readBody(body: Readable, limits: BodyLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of boundedBody(body, limits) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks, size);
}

/** The declared content-length, when it is one (Node's parser has refused malformed ones already). */
export function declaredLength(req: Pick<IncomingMessage, 'headers'>): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}
