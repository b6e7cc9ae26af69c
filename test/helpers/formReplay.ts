import type { PresignedPost } from '../../src/ports/ObjectStore';
import { type PostAnswer, postForm } from './postPolicyContract';

/**
 * The replay of an upload form, as a hostile client does it: one form posted several times at
 * once, half the time with the photo it was made for and half the time with bytes of the same size
 * (the form binds the size) that are no photo: random data with HTML in it. On S3 every post is
 * stored, and whichever ingest reads first decides the photo's fate; either way `original/` must
 * hold the photo or nothing.
 */
export function junkOfSize(size: number, seed: number): Buffer {
  const junk = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    junk[i] = x >>> 24;
  }
  Buffer.from(`<html><script>alert(${seed})</script></html>`).copy(junk, 0);
  return junk;
}

export interface ReplayOutcome {
  /** What each post sent (the photo at even indices) and what it got. */
  posts: Array<{ body: Buffer; answer: PostAnswer }>;
}

/** Posts `form` `times` times at once: the photo at even places in the list, junk of its size at odd ones. */
export async function replayForm(
  form: PresignedPost,
  photo: Buffer,
  times: number,
  options: { origin?: string } = {},
): Promise<ReplayOutcome> {
  const bodies = Array.from({ length: times }, (_, i) => (i % 2 === 0 ? photo : junkOfSize(photo.length, i)));
  const answers = await Promise.all(bodies.map((body) => postForm(form, body, options)));
  return { posts: bodies.map((body, i) => ({ body, answer: answers[i]! })) };
}
