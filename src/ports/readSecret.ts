import { readFile } from 'node:fs/promises';
import type { ApiKeysSource } from '../config';
import { ConfigError, TransientError } from '../errors';
import { namedSecretError, type SecretSource } from './secrets';

/**
 * The API keys' stored form (the hashes, each naming its owner), read once by the authenticator at
 * init: a file off AWS (API_KEYS_FILE), or on AWS an SSM SecureString parameter or a Secrets Manager
 * secret (API_KEYS_PARAMETER) read through `secrets` (src/ports/secrets.ts, Powertools Parameters:
 * the same reader as every other secret of the app).
 *
 * A file or secret that is not there, is empty or may not be read is a ConfigError that names the
 * variable that pointed at it; a network fault is a TransientError (the next request tries again).
 */
export async function readApiKeys(source: ApiKeysSource, secrets: () => SecretSource): Promise<string> {
  if (source.kind === 'parameter') {
    try {
      return await secrets().read(source.reference);
    } catch (error) {
      throw namedSecretError('API_KEYS_PARAMETER', error);
    }
  }
  const where = `API_KEYS_FILE: the file ${source.path}`;
  let text: string;
  try {
    text = await readFile(source.path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'ENOENT') throw new ConfigError(`${where} does not exist`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new ConfigError(`${where} may not be read (${code})`, { cause: error });
    throw new TransientError(`${where} could not be read: ${(error as Error).message}`, { cause: error });
  }
  if (text.trim() === '') throw new ConfigError(`${where} is empty`);
  return text;
}
