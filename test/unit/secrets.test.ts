import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { hashApiKey, newApiKey } from '../../src/auth/apiKeys';
import { loadConfig } from '../../src/config';
import { ConfigError, TransientError } from '../../src/errors';
import { AwsSecretSource, prefetchSecret, type SecretSource } from '../../src/ports/secrets';
import { httpApiEvent, lambdaContext, lambdaFunctions, testApp } from '../helpers/factories';
import { readFixture } from '../helpers/fixtures';

/**
 * Secrets on AWS are read at init from SSM Parameter Store or Secrets Manager (the environment
 * holds where, never what: src/ports/secrets.ts); off AWS they come from the environment.
 */

/** A secret source that counts its reads and answers from a table. */
function fakeSource(values: Record<string, string | Error>): SecretSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(reference: string) {
      reads.push(reference);
      const v = values[reference];
      if (v instanceof Error) throw v;
      if (v === undefined) throw new ConfigError(`reading the SSM parameter ${reference} failed: ParameterNotFound`);
      return v;
    },
  };
}

/** A real SDK client whose calls are answered by `answer` (no request is made), recording each command's name and input. */
function stubClient<T extends SSMClient | SecretsManagerClient>(
  client: T,
  answer: (name: string, input: Record<string, unknown>) => unknown,
): T & { calls: Array<[string, unknown]> } {
  const calls: Array<[string, unknown]> = [];
  Object.assign(client, {
    calls,
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push([command.constructor.name, command.input]);
      const out = answer(command.constructor.name, command.input);
      if (out instanceof Error) throw out;
      return out;
    },
  });
  return client as T & { calls: Array<[string, unknown]> };
}

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('secret settings', () => {
  it('a secret is its value or where to read it, never both', () => {
    assert.deepEqual(loadConfig({ AUTH: 'api-key', API_KEYS_PARAMETER: '/image-pipeline/prod/api-keys' }).auth.apiKeys, {
      kind: 'parameter',
      reference: '/image-pipeline/prod/api-keys',
    });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:image-pipeline/webhook-AbCdEf';
    const config = loadConfig({ EVENTS: 'webhook', WEBHOOK_URL: 'https://example.com/hook', WEBHOOK_SECRET_PARAMETER: arn });
    assert.equal(config.events.webhookSecretParameter, arn);
    assert.equal(config.events.webhookSecret, undefined);
    assert.throws(() => loadConfig({ AUTH: 'api-key', API_KEYS_FILE: 'k.json', API_KEYS_PARAMETER: '/a/b' }), {
      name: 'ConfigError',
      message: 'API_KEYS_PARAMETER: expected either API_KEYS_FILE or API_KEYS_PARAMETER, got both; set one',
    });
    assert.throws(() => loadConfig({ AUTH: 'api-key', API_KEYS_PARAMETER: 'the keys themselves' }), {
      message:
        'API_KEYS_PARAMETER: expected an SSM parameter name such as /image-pipeline/prod/secret, or an SSM parameter or Secrets Manager secret ARN, got "the keys themselves"',
    });
    // One key for everyone names no owner: the single-key settings say what replaced them.
    for (const variable of ['API_KEY', 'API_KEY_PARAMETER']) {
      assert.throws(() => loadConfig({ [variable]: '/image-pipeline/prod/api-key' }), {
        name: 'ConfigError',
        message: new RegExp(`^${variable}: no longer read .*AUTH=api-key and API_KEYS_FILE, or API_KEYS_PARAMETER on AWS`),
      });
    }
  });
});

describe('prefetchSecret', () => {
  it('starts reading at once (at init), reads once, and hands the value to every caller', async () => {
    const source = fakeSource({ '/p/key': 'k-123' });
    const get = prefetchSecret({ variable: 'WEBHOOK_SECRET_PARAMETER', reference: '/p/key' }, () => source);
    assert.deepEqual(source.reads, ['/p/key'], 'read before anyone asked');
    assert.deepEqual(await Promise.all([get(), get(), get()]), ['k-123', 'k-123', 'k-123']);
    assert.deepEqual(source.reads, ['/p/key']);
  });

  it('a configured value is used as it is; no secret configured is undefined; nothing is read', async () => {
    const source = fakeSource({});
    assert.equal(await prefetchSecret({ variable: 'X_PARAMETER', value: 'v' }, () => source)(), 'v');
    assert.equal(await prefetchSecret({ variable: 'X_PARAMETER' }, () => source)(), undefined);
    assert.deepEqual(source.reads, []);
  });

  it('a failed read names the variable, is not cached (the next call reads again), and is no unhandled rejection', async () => {
    const values: Record<string, string | Error> = {
      '/p/key': new TransientError('reading the SSM parameter /p/key failed: ThrottlingException'),
    };
    const source = fakeSource(values);
    const get = prefetchSecret({ variable: 'WEBHOOK_SECRET_PARAMETER', reference: '/p/key' }, () => source);
    await assert.rejects(get(), {
      name: 'TransientError',
      message: 'WEBHOOK_SECRET_PARAMETER: reading the SSM parameter /p/key failed: ThrottlingException',
    });
    values['/p/key'] = 'k-123';
    assert.equal(await get(), 'k-123');
    assert.equal(source.reads.length, 2);
  });

  it('checks what it read (a webhook key too short to sign with), without showing it', async () => {
    const source = fakeSource({ '/p/hook': 'short' });
    const { assertWebhookSecret } = await import('../../src/config');
    const get = prefetchSecret(
      { variable: 'WEBHOOK_SECRET_PARAMETER', reference: '/p/hook' },
      () => source,
      (s) => assertWebhookSecret(s, 'the secret'),
    );
    await assert.rejects(get(), {
      name: 'ConfigError',
      message: 'WEBHOOK_SECRET_PARAMETER: the secret: expected at least 16 characters to sign webhook deliveries with, got 5',
    });
  });
});

describe('AwsSecretSource (Powertools Parameters over the SDK)', () => {
  it('reads an SSM parameter decrypted (a SecureString), and a Secrets Manager secret by its ARN', async () => {
    const ssm = stubClient(new SSMClient({ region: 'us-east-1' }), (name, input) =>
      name === 'GetParameterCommand' ? { Parameter: { Value: `ssm:${String(input.Name)}` } } : undefined,
    );
    const secretsManager = stubClient(new SecretsManagerClient({ region: 'us-east-1' }), (_name, input) => ({
      SecretString: `sm:${String(input.SecretId)}`,
    }));
    const source = new AwsSecretSource({ region: 'us-east-1', ssm, secretsManager });
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf';
    assert.equal(await source.read('/image-pipeline/prod/api-key'), 'ssm:/image-pipeline/prod/api-key');
    assert.equal(await source.read(arn), `sm:${arn}`);
    assert.deepEqual(ssm.calls, [['GetParameterCommand', { Name: '/image-pipeline/prod/api-key', WithDecryption: true }]]);
    assert.equal(secretsManager.calls[0]?.[0], 'GetSecretValueCommand');
  });

  it('a missing parameter or a denied read is a fault of the deployment (ConfigError); throttling a fault of the moment', async () => {
    const cases: Array<[Error, string, string]> = [
      [sdkError('ParameterNotFound', 400), 'ConfigError', 'reading the SSM parameter /p failed: ParameterNotFound'],
      [sdkError('AccessDeniedException', 400), 'ConfigError', 'reading the SSM parameter /p failed: AccessDeniedException'],
      [sdkError('ThrottlingException', 400), 'TransientError', 'reading the SSM parameter /p failed: ThrottlingException'],
    ];
    for (const [error, name, message] of cases) {
      const source = new AwsSecretSource({ region: 'us-east-1', ssm: stubClient(new SSMClient({ region: 'us-east-1' }), () => error) });
      await assert.rejects(source.read('/p'), { name, message });
    }
  });
});

describe("the API keys' hashes read at init from their parameter", () => {
  it("POST /upload wants a key the parameter lists: 401 without it, 202 with it, the photo its owner's; read once, before the first request", async () => {
    const key = newApiKey();
    const stored = JSON.stringify({ keys: [{ owner: 'alice', sha256: hashApiKey(key) }] });
    const source = fakeSource({ '/image-pipeline/test/api-keys': stored });
    const app = testApp({ env: { AUTH: 'api-key', API_KEYS_PARAMETER: '/image-pipeline/test/api-keys' }, secrets: source });
    assert.deepEqual(source.reads, ['/image-pipeline/test/api-keys'], 'read at init');
    const fn = lambdaFunctions(app);
    const post = (headers: Record<string, string>) =>
      fn.upload(httpApiEvent({ body: readFixture('dog.jpg'), headers: { 'content-type': 'image/jpeg', ...headers } }), lambdaContext());
    assert.equal((await post({})).statusCode, 401);
    assert.equal((await post({ 'x-api-key': 'wrong' })).statusCode, 401);
    assert.equal((await post({ 'x-api-key': key })).statusCode, 202);
    assert.equal(source.reads.length, 1);
  });

  it('a parameter that cannot be read answers 503 and names API_KEYS_PARAMETER; the next request reads again', async () => {
    const values: Record<string, string | Error> = {
      '/p/keys': new TransientError('reading the SSM parameter /p/keys failed: ThrottlingException'),
    };
    const source = fakeSource(values);
    const app = testApp({ env: { AUTH: 'api-key', API_KEYS_PARAMETER: '/p/keys' }, secrets: source });
    await assert.rejects(app.auth.ready(), {
      name: 'TransientError',
      message: 'API_KEYS_PARAMETER: reading the SSM parameter /p/keys failed: ThrottlingException',
    });
    const key = newApiKey();
    const fn = lambdaFunctions(app);
    const post = () =>
      fn.upload(
        httpApiEvent({ body: readFixture('dog.jpg'), headers: { 'content-type': 'image/jpeg', 'x-api-key': key } }),
        lambdaContext(),
      );
    assert.equal((await post()).statusCode, 503);
    values['/p/keys'] = JSON.stringify({ keys: [{ owner: 'alice', sha256: hashApiKey(key) }] });
    assert.equal((await post()).statusCode, 202);
  });
});
