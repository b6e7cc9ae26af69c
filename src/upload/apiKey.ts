import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config';
import { HttpError } from '../http/HttpError';

/** Where a write route finds the key it wants: the app's (read at init from API_KEY_PARAMETER), else API_KEY. */
export interface ApiKeyDeps {
  apiKey?: () => Promise<string | undefined>;
  config: Pick<Config, 'apiKey'>;
}

/** The 401 of a write route when a key is wanted and x-api-key is not it; undefined when allowed. */
export async function apiKeyRefusal(deps: ApiKeyDeps, got: string | undefined): Promise<HttpError | undefined> {
  return apiKeyProblem(deps.apiKey ? await deps.apiKey() : deps.config.apiKey, got);
}

/** The 401 of a write route (POST /upload, POST /uploads) when API_KEY is set and x-api-key is not it; undefined when allowed. */
export function apiKeyProblem(expected: string | undefined, got: string | undefined): HttpError | undefined {
  if (expected === undefined) return undefined;
  const a = Buffer.from(expected);
  const b = Buffer.from(got ?? '');
  if (got !== undefined && a.length === b.length && timingSafeEqual(a, b)) return undefined;
  return new HttpError(401, 'unauthorized', 'expected a valid API key in the x-api-key header');
}
