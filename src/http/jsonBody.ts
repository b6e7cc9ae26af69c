import type { Readable } from 'node:stream';
import { HttpError } from './HttpError';
import { readBody } from './readBody';

/**
 * JSON from a client, refused while it streams in once it is too large (413) or nests deeper than
 * any request of ours does (400, after the first few dozen bytes, the rest never read), so that
 * every later step — validation, the "got …" of an error message, the logs — can walk it without
 * overflowing the stack: a body nested 200,000 deep parses, but stringifying it for an error
 * message threw, and the client got a 503.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Counts how deep JSON text nests as its bytes arrive (brackets outside strings), without parsing;
 * it stops looking once past `limit`.
 * Byte-wise is exact for UTF-8: `"`, `\`, `[`, `{`, `]`, `}` never occur inside a multi-byte character.
 */
export function jsonDepthGauge(limit = MAX_JSON_DEPTH): { feed(chunk: Uint8Array): number } {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let escaped = false;
  return {
    feed(chunk) {
      for (const c of chunk) {
        if (deepest > limit) break;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
        else if (c === 0x5d || c === 0x7d) depth--;
      }
      return deepest;
    },
  };
}

/** The body as JSON (its deadline is the request's signal), or a 400 `invalid_json` / 413 `too_large` that says what was expected. */
export async function readJsonBody(body: Readable, options: { maxBytes: number; signal: AbortSignal; example: string }): Promise<unknown> {
  const { maxBytes, signal, example } = options;
  const gauge = jsonDepthGauge();
  const bytes = await readBody(body, {
    maxBytes,
    signal,
    tooLarge: () => new HttpError(413, 'too_large', `expected a JSON body of at most ${maxBytes} bytes such as ${example}, got more`),
    inspect: (chunk) =>
      gauge.feed(chunk) > MAX_JSON_DEPTH
        ? new HttpError(
            400,
            'invalid_json',
            `expected a JSON body such as ${example}, got JSON nested more than ${MAX_JSON_DEPTH} levels deep`,
          )
        : undefined,
  });
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', `expected a JSON body such as ${example}, got an empty body`);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new HttpError(400, 'invalid_json', `expected a JSON body such as ${example}, got ${(cause as Error).message}`, { cause });
  }
}
