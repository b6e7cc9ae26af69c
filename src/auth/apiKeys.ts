import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { isOwner, OWNER_EXPECTED } from '../domain/owners';
import { ConfigError } from '../errors';

/**
 * API keys (AUTH=api-key): random keys handed to people once, stored only as their SHA-256, each
 * naming its owner. A plain SHA-256 (no salt, no slow hash) is right for keys of 256 random bits:
 * nothing can be guessed from the hash, and a request costs one hash. The stored form, a file off
 * AWS or the value of an SSM SecureString parameter or Secrets Manager secret on AWS:
 *
 *   {"keys": [{"owner": "alice", "sha256": "<64 hex digits>", "note": "laptop"}]}
 *
 * `npm run api-key -- --owner alice` makes a key, prints it once and adds its hash to the file.
 */
export const API_KEY_PREFIX = 'ipk_';
/** A longer header value is no key of ours (and is not hashed). */
const MAX_KEY_LENGTH = 256;

export const ApiKeyEntrySchema = z.strictObject({
  owner: z.string().refine(isOwner, `expected an owner of ${OWNER_EXPECTED}`),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected the key's SHA-256 as 64 lower-case hex digits"),
  note: z.string().max(200).optional(),
  created: z.string().max(64).optional(),
});
export const ApiKeysFileSchema = z.strictObject({ keys: z.array(ApiKeyEntrySchema) });
export type ApiKeyEntry = z.infer<typeof ApiKeyEntrySchema>;

/** A new key: the prefix (so a leaked key is recognisable) and 32 random bytes, base64url. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The entries of a stored key list; `where` names it in the ConfigError of one that is malformed. */
export function parseApiKeys(text: string, where: string): ApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${where}: expected JSON such as {"keys": [{"owner": "alice", "sha256": "…"}]}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const parsed = ApiKeysFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${where}: ${issues}`, { cause: parsed.error });
  }
  const seen = new Set<string>();
  for (const entry of parsed.data.keys) {
    if (seen.has(entry.sha256)) throw new ConfigError(`${where}: a key's hash is listed twice (owner ${JSON.stringify(entry.owner)})`);
    seen.add(entry.sha256);
  }
  return parsed.data.keys;
}

/**
 * The owner of `presented`, or undefined. Every stored hash is compared, in constant time, and the
 * loop never stops early: how long it takes says nothing of which hash, or how much of one, matched.
 */
export function ownerOfApiKey(entries: readonly ApiKeyEntry[], presented: string | undefined): string | undefined {
  if (presented === undefined || presented.length === 0 || presented.length > MAX_KEY_LENGTH) return undefined;
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let owner: string | undefined;
  for (const entry of entries) {
    const same = timingSafeEqual(digest, Buffer.from(entry.sha256, 'hex'));
    if (same && owner === undefined) owner = entry.owner;
  }
  return owner;
}
