import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError, TransientError } from '../errors';
import { awsErrorName, isTransientAwsError } from './awsErrors';

/**
 * Secrets (the webhook's signing key, the API key) are never in the template or in clear in a
 * function's environment on AWS: the environment names where the secret is — an SSM Parameter
 * Store parameter (a SecureString, decrypted on read) or a Secrets Manager secret (by its ARN) —
 * and the function reads it once, at init (`prefetchSecret`), with Powertools Parameters. Off AWS
 * (embedded, `npm run dev`) the value comes from the environment, as before. One reusable piece:
 * any secret the app needs is a value or a reference in config.ts, and a `prefetchSecret` here.
 */
export interface SecretSource {
  /** The secret's value. `reference`: an SSM parameter name or ARN, or a Secrets Manager secret ARN. */
  read(reference: string): Promise<string>;
}

/** True for `arn:<partition>:secretsmanager:…`; anything else is an SSM parameter (name or ARN). */
export function isSecretsManagerReference(reference: string): boolean {
  return /^arn:[^:]+:secretsmanager:/.test(reference);
}

export interface AwsSecretSourceOptions {
  region: string;
  /** Ready clients (tests, an emulator's endpoint); the SDK's defaults otherwise (AWS_ENDPOINT_URL honoured). */
  ssm?: SSMClient;
  secretsManager?: SecretsManagerClient;
}

/** SSM (WithDecryption) and Secrets Manager through Powertools Parameters; SDK errors made the pipeline's. */
export class AwsSecretSource implements SecretSource {
  private readonly ssm: SSMProvider;
  private readonly secrets: SecretsProvider;

  constructor(options: AwsSecretSourceOptions) {
    this.ssm = new SSMProvider(options.ssm ? { awsSdkV3Client: options.ssm } : { clientConfig: { region: options.region } });
    this.secrets = new SecretsProvider(
      options.secretsManager ? { awsSdkV3Client: options.secretsManager } : { clientConfig: { region: options.region } },
    );
  }

  async read(reference: string): Promise<string> {
    const where = isSecretsManagerReference(reference) ? 'Secrets Manager secret' : 'SSM parameter';
    let value: unknown;
    try {
      // maxAge 0: read now; the caller keeps the value for the life of the container.
      value = isSecretsManagerReference(reference)
        ? await this.secrets.get(reference, { maxAge: 0 })
        : await this.ssm.get(reference, { decrypt: true, maxAge: 0 });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      const name = awsErrorName(cause) ?? 'Error';
      if (isTransientAwsError(cause)) throw new TransientError(`reading the ${where} ${reference} failed: ${name}`, { cause: error });
      throw new ConfigError(`reading the ${where} ${reference} failed: ${name}`, { cause: error });
    }
    if (typeof value !== 'string' || value === '') throw new ConfigError(`the ${where} ${reference} holds no text`);
    return value;
  }
}

/** A secret's read error, named by the variable that pointed at it (a fault stays a fault, a setting a setting). */
export function namedSecretError(variable: string, error: unknown): unknown {
  if (!(error instanceof ConfigError || error instanceof TransientError)) return error;
  const Class = error instanceof TransientError ? TransientError : ConfigError;
  return new Class(`${variable}: ${error.message}`, { cause: error.cause ?? error });
}

/**
 * A secret read once and kept: its configured value, or its reference read now (at init: the read
 * starts here, before any request) through `source`. The returned function answers with the value
 * (undefined when the secret is not configured), after `check`. A read that fails is tried again by
 * the next call (a transient fault then does not stay for the life of the container); its error
 * names the variable that holds the reference.
 */
export function prefetchSecret(
  setting: { variable: string; value?: string | undefined; reference?: string | undefined },
  source: () => SecretSource,
  check: (value: string) => void = () => undefined,
): () => Promise<string | undefined> {
  const { variable, value, reference } = setting;
  if (value !== undefined || reference === undefined) return async () => value;
  const read = (): Promise<string> =>
    source()
      .read(reference)
      .then((secret) => {
        check(secret);
        return secret;
      })
      .catch((error: unknown) => {
        pending = undefined;
        throw namedSecretError(variable, error);
      });
  let pending: Promise<string> | undefined = read();
  // Nobody may be waiting yet: a failure is reported to the first caller, not as an unhandled rejection.
  pending.catch(() => undefined);
  return () => {
    pending ??= read();
    return pending;
  };
}
