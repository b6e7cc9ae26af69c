import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, InvalidInputError } from '../errors';
import type { PostGrant, PresignedPost, PresignPostOptions } from './ObjectStore';
import { assertPresignPostOptions, assertSafeKey } from './safeKey';

/**
 * The folder store's signatures, S3's two kinds: presigned GET URLs (`GET /bucket/<key>?X-Expires=
 * …&X-Signature=…`, for one object, for a while: the image URLs the API hands out once it has
 * checked whose photo it is) and the POST policy, what S3 does for an HTML-form upload, for the
 * embedded server's own `POST /bucket` (src/runtime/bucketPost.ts). The form carries the policy (base64 JSON, the
 * same shape as S3's: expiration, the key, the content type, the size range) and an HMAC-SHA256
 * of it keyed with a secret that never leaves the machine (32 random bytes in a file under
 * DATA_DIR, made on first use, mode 0600). `check` refuses as S3 does: 403 for a bad signature, an
 * expired policy or a field the policy does not allow; the server refuses the size itself (400
 * EntityTooLarge / EntityTooSmall) as the bytes stream in. Unlike S3, a form is single-use here:
 * `claim` marks it used (an exclusive create, so of concurrent posts of one form exactly one gets
 * it) and a second post is refused with 403 — nothing is ever written twice under one key.
 */
export const FOLDER_POST_PATH = '/bucket';

/** The form field of the file, as S3 names it; it must come after every other field. */
export const POST_FILE_FIELD = 'file';

/** A refused form, with the S3 error code and HTTP status the embedded server answers with. */
export class PostPolicyError extends InvalidInputError {
  constructor(
    readonly status: 400 | 403 | 412,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PostPolicyError';
  }
}

/** A form whose policy checked out: its grant, and which form it is (for `claim`). */
export interface CheckedForm extends Omit<PostGrant, 'release'> {
  /** The form's signature (hex). */
  form: string;
  /** When the form expires (ms since the epoch): its claim is kept until then. */
  expiresAt: number;
}

/** Undoes a claim: the form may be posted again (the post it was claimed for stored nothing). */
export type ReleaseClaim = () => Promise<void>;

interface PolicyDocument {
  expiration: string;
  conditions: [{ key: string }, { 'Content-Type': string }, ['content-length-range', number, number]];
}

/** Fields any form carries besides the ones its policy names (S3 also skips `x-ignore-*`). */
const UNCONDITIONED = new Set(['policy', 'x-signature']);

export class FolderPostPolicy {
  private secret: Promise<Buffer> | undefined;
  /** The folder of used forms' marks (`<expiry ms>-<signature>`), beside the key file. */
  readonly usedFormsDir: string;
  private lastSweep = 0;

  /** `secretFile`: where the signing key is kept (FsObjectStore: `<root>/.post-policy.key`). */
  constructor(readonly secretFile: string) {
    this.usedFormsDir = path.join(path.dirname(secretFile), '.post-forms-used');
  }

  async sign(key: string, options: PresignPostOptions, now = Date.now()): Promise<PresignedPost> {
    assertSafeKey(key);
    assertPresignPostOptions(options);
    const expiration = new Date(now + options.expiresInSeconds * 1000).toISOString();
    const document: PolicyDocument = {
      expiration,
      conditions: [{ key }, { 'Content-Type': options.contentType }, ['content-length-range', options.size, options.size]],
    };
    const policy = Buffer.from(JSON.stringify(document), 'utf8').toString('base64');
    return {
      url: FOLDER_POST_PATH,
      method: 'POST',
      fields: { key, 'Content-Type': options.contentType, policy, 'x-signature': await this.mac(policy) },
      expires_at: expiration,
    };
  }

  /**
   * The grant of a form whose fields (every field before the file; names in any case, as S3
   * takes them) carry a valid, unexpired policy that allows each of them. Throws PostPolicyError.
   */
  async check(formFields: Record<string, string>, now = Date.now()): Promise<CheckedForm> {
    const fields = new Map(Object.entries(formFields).map(([name, value]) => [name.toLowerCase(), value]));
    const policy = fields.get('policy');
    const signature = fields.get('x-signature');
    if (policy === undefined || signature === undefined) {
      throw new PostPolicyError(
        403,
        'AccessDenied',
        `expected the fields "policy" and "x-signature" of a form made by POST /uploads, got ${policy === undefined ? 'no policy' : 'no signature'}`,
      );
    }
    await this.checkSignature(policy, signature);
    const document = parsePolicy(policy);
    if (!(Date.parse(document.expiration) > now)) {
      throw new PostPolicyError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    }
    const [{ key }, { 'Content-Type': contentType }, [, minBytes, maxBytes]] = document.conditions;
    for (const [name, expected] of [
      ['key', key],
      ['Content-Type', contentType],
    ] as const) {
      if (fields.get(name.toLowerCase()) !== expected) {
        throw new PostPolicyError(
          403,
          'AccessDenied',
          `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", ${JSON.stringify(expected)}]`,
        );
      }
    }
    const extra = [...fields.keys()].filter(
      (name) => !UNCONDITIONED.has(name) && name !== 'key' && name !== 'content-type' && !name.startsWith('x-ignore-'),
    );
    if (extra.length > 0) {
      throw new PostPolicyError(403, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
    }
    return { key, contentType, minBytes, maxBytes, form: signature.toLowerCase(), expiresAt: Date.parse(document.expiration) };
  }

  /**
   * Marks the form of `grant` used, or refuses it (403) when it was: the mark is an exclusive
   * create, so of concurrent posts of one form exactly one gets it. Returns how to undo it, for a
   * post that ends up storing nothing. Marks of expired forms are swept, at most once a minute.
   */
  async claim(grant: CheckedForm, now = Date.now()): Promise<ReleaseClaim> {
    await mkdir(this.usedFormsDir, { recursive: true, mode: 0o700 });
    if (now - this.lastSweep > 60_000) {
      this.lastSweep = now;
      await this.sweepUsed(now);
    }
    const mark = path.join(this.usedFormsDir, `${grant.expiresAt}-${grant.form}`);
    try {
      await (await open(mark, 'wx', 0o600)).close();
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      throw new PostPolicyError(
        403,
        'AccessDenied',
        'Invalid according to Policy: this form was used already (a form stores one object, once); ask POST /uploads for another',
      );
    }
    return () => unlink(mark).catch(() => undefined);
  }

  /** Removes the marks of forms that have expired (an expired form is refused anyway). */
  private async sweepUsed(now: number): Promise<void> {
    const names = await readdir(this.usedFormsDir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((name) => Number(name.split('-')[0]) < now)
        .map((name) => unlink(path.join(this.usedFormsDir, name)).catch(() => undefined)),
    );
  }

  /**
   * A URL path for GET of one object until `expiresInSeconds` from now: the key, the expiry (Unix
   * seconds) and an HMAC of both, so neither can be changed. The embedded server checks it
   * (checkGet) and serves the object to whoever has the URL until then, as S3 does its own.
   */
  async signGet(key: string, expiresInSeconds: number, now = Date.now()): Promise<string> {
    assertSafeKey(key);
    const expires = Math.floor(now / 1000) + Math.max(1, Math.floor(expiresInSeconds));
    const query = new URLSearchParams({ 'X-Expires': String(expires), 'X-Signature': await this.mac(`GET\n${key}\n${expires}`) });
    return `${FOLDER_POST_PATH}/${key.split('/').map(encodeURIComponent).join('/')}?${query}`;
  }

  /** Throws PostPolicyError (403) unless `query` signs `key` and has not expired. */
  async checkGet(key: string, query: URLSearchParams, now = Date.now()): Promise<void> {
    const expires = query.get('X-Expires') ?? '';
    const signature = query.get('X-Signature') ?? '';
    if (!/^\d{1,12}$/.test(expires) || signature === '') {
      throw new PostPolicyError(403, 'AccessDenied', 'expected a URL the API handed out (X-Expires and X-Signature)');
    }
    await this.checkSignature(`GET\n${key}\n${expires}`, signature);
    if (Number(expires) * 1000 <= now) throw new PostPolicyError(403, 'AccessDenied', 'Request has expired');
  }

  /** Compares in constant time, so a caller cannot find a valid signature byte by byte. */
  private async checkSignature(signed: string, signature: string): Promise<void> {
    const want = Buffer.from(await this.mac(signed), 'utf8');
    const got = Buffer.from(signature, 'utf8');
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      throw new PostPolicyError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
  }

  private async mac(policy: string): Promise<string> {
    this.secret ??= loadOrCreateSecret(this.secretFile);
    return createHmac('sha256', await this.secret)
      .update(policy, 'utf8')
      .digest('hex');
  }
}

function parsePolicy(policy: string): PolicyDocument {
  // Signed by us, so well-formed unless the secret leaked; checked all the same.
  try {
    const doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as PolicyDocument;
    const [k, t, r] = doc.conditions;
    if (typeof doc.expiration === 'string' && typeof k.key === 'string' && typeof t['Content-Type'] === 'string' && r.length === 3) {
      return doc;
    }
  } catch {
    // fall through
  }
  throw new PostPolicyError(400, 'InvalidPolicyDocument', 'Invalid Policy: the policy is not one this store signs.');
}

const SECRET_PATTERN = /^[0-9a-f]{64}$/;

async function loadOrCreateSecret(file: string): Promise<Buffer> {
  await mkdir(path.dirname(file), { recursive: true });
  const fresh = randomBytes(32).toString('hex');
  // Written whole to a temporary file, then linked into place (atomic, fails if the key exists):
  // two processes racing on a first start both end up with the winner's key, never half of one.
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${fresh}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, file);
    return Buffer.from(fresh, 'hex');
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') {
      throw new ConfigError(`the POST policy key ${file} could not be created: ${(error as Error).message}`, { cause: error });
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const text = (await readFile(file, 'utf8')).trim();
  if (!SECRET_PATTERN.test(text)) {
    throw new ConfigError(
      `the POST policy key ${file}: expected 64 hex digits, got ${text.length} characters; delete the file to make a new key`,
    );
  }
  return Buffer.from(text, 'hex');
}
