import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { LocalIssuer } from '../../scripts/auth/localIssuer';

/**
 * The callers every route that needs one refuses with 401 (AUTH=jwt): no token, an expired one, one
 * for another audience, one signed with a key that is not the issuer's. Each with the headers it sends.
 */
export async function refusedCallers(issuer: LocalIssuer): Promise<Array<[what: string, headers: Record<string, string>]>> {
  const now = Math.floor(Date.now() / 1000);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return [
    ['no token', {}],
    ['an expired token', bearer(await issuer.forge({ iat: now - 7200, exp: now - 3600 }))],
    ['a token for another audience', bearer(await issuer.forge({ aud: 'another-api' }))],
    ['a token signed with another key', bearer(await issuer.forge({}, { key: 'other' }))],
  ];
}

/**
 * The label index's inverted id, worked out here on its own rather than with the code under test
 * (src/domain/labelKeys.ts), so that a key the code names wrongly is still found.
 */
export function invertedId(id: string): string {
  return id.replace(/[0-9a-f]/g, (d) => (15 - Number.parseInt(d, 16)).toString(16));
}

/** Every key of the bucket that names the photo: by its id, or as an index entry (its inverted id). */
export async function keysNamingPhoto(s3: S3Client, bucket: string, id: string): Promise<string[]> {
  const inverted = invertedId(id);
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    found.push(...(page.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(id) || k.endsWith(inverted)));
    token = page.NextContinuationToken;
  } while (token);
  return found;
}
