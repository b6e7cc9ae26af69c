import { isIP } from 'node:net';
import type { AuthConfig } from '../config';
import { ConfigError } from '../errors';

/**
 * AUTH=none is for one person on their own machine: the embedded default and `npm run dev` serve
 * on 127.0.0.1. Anywhere else — another address, or a Lambda function behind API Gateway — it
 * would show every photo to anyone who reaches the server, so it is refused unless
 * AUTH_NONE_PUBLIC=true says the network is private (MiniStack, which listens on 127.0.0.1 only).
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}

/** Throws a ConfigError saying why and what to do when AUTH=none would be served beyond loopback. */
export function assertNoneModeIsPrivate(auth: AuthConfig, where: { host?: string }): void {
  if (auth.mode !== 'none' || auth.nonePublic) return;
  const exposedAt = where.host !== undefined && !isLoopback(where.host) ? where.host : auth.onLambda ? 'a Lambda function' : undefined;
  if (exposedAt === undefined) return;
  throw new ConfigError(
    `AUTH=none on ${exposedAt} would show every photo to anyone who can reach it; serve on 127.0.0.1, or set AUTH=api-key or AUTH=jwt (docs/security.md), or set AUTH_NONE_PUBLIC=true if only you can reach ${exposedAt}`,
  );
}
