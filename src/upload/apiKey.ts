import { timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/HttpError';

/** The 401 of a write route (POST /upload, POST /uploads) when API_KEY is set and x-api-key is not it; undefined when allowed. */
export function apiKeyProblem(expected: string | undefined, got: string | undefined): HttpError | undefined {
  if (expected === undefined) return undefined;
  const a = Buffer.from(expected);
  const b = Buffer.from(got ?? '');
  if (got !== undefined && a.length === b.length && timingSafeEqual(a, b)) return undefined;
  return new HttpError(401, 'unauthorized', 'expected a valid API key in the x-api-key header');
}
