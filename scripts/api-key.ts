/**
 * npm run api-key -- --owner alice [--file api-keys.json] [--note laptop]
 * A new API key for AUTH=api-key: printed once, on stdout (nothing else is), and only its SHA-256
 * is kept — added to the keys file (made with mode 600 if new), or, with --print, printed as the
 * entry to put in the SSM parameter or Secrets Manager secret on AWS (docs/security.md).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ApiKeyEntry, hashApiKey, newApiKey, parseApiKeys } from '../src/auth/apiKeys';
import { isOwner, OWNER_EXPECTED } from '../src/domain/owners';
import { parseCliArgs, usageError } from './cliArgs';

const USAGE = 'usage: npm run -s api-key -- --owner NAME [--file api-keys.json | --print] [--note TEXT]';

function main(): void {
  const { values } = parseCliArgs(USAGE, {
    options: { owner: { type: 'string' }, file: { type: 'string' }, note: { type: 'string' }, print: { type: 'boolean', default: false } },
  });
  const owner = values.owner;
  if (owner === undefined) usageError(USAGE, '--owner: expected the name of whoever the key is for');
  if (!isOwner(owner)) usageError(USAGE, `--owner: expected ${OWNER_EXPECTED}, got ${JSON.stringify(owner)}`);
  if (values.print && values.file !== undefined) usageError(USAGE, '--print and --file: one or the other');
  const key = newApiKey();
  const entry: ApiKeyEntry = {
    owner,
    sha256: hashApiKey(key),
    created: new Date().toISOString(),
    ...(values.note !== undefined ? { note: values.note.slice(0, 200) } : {}),
  };
  if (values.print) {
    process.stderr.write(`add this entry to the "keys" of the stored list (SSM parameter or secret):\n${JSON.stringify(entry)}\n`);
  } else {
    const file = path.resolve(values.file ?? 'api-keys.json');
    const keys = existsSync(file) ? parseApiKeys(readFileSync(file, 'utf8'), file) : [];
    // Written beside it, then renamed: a crash never leaves half a file.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ keys: [...keys, entry] }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, file);
    process.stderr.write(`the key's hash was added to ${file} (${keys.length + 1} keys); the key itself is not kept anywhere:\n`);
  }
  process.stdout.write(`${key}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`api-key failed: ${(error as Error).message}\n`);
  process.exit(1);
}
