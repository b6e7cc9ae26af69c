/**
 * The real stack deployed onto an AWS emulator on this machine, as a library (`npm run deploy:local`
 * and test/e2e/deployed-stack.test.ts use it):
 *
 *   esbuild bundles + layers (scripts/package/build-functions.ts)
 *   -> MiniStack on 127.0.0.1 (scripts/deploy/ministack.ts)
 *   -> `serverless deploy --stage localstack`: the CloudFormation stack of serverless.yml — seven
 *      functions, four layers, the bucket (notifying ingest_queue), twelve queues with their redrive policies, the events rule, SQS event source
 *      mappings, IAM roles, the HTTP API — as on AWS, reached through AWS_ENDPOINT_URL
 *   -> waits until the HTTP API answers.
 *
 *   const stack = await startDeployedStack({ port: 0 });
 *   // curl -X POST -F "image=@photo.jpg" "${stack.apiUrl}/upload"; the gallery is "${stack.apiUrl}/"
 *   await stack.stop();
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ensureLayerModels } from '../../models/ensure-model';
import { QUEUES } from '../../src/domain/stages';
import { buildFunctions } from '../package/build-functions';
import { SLS_BIN } from '../package/serverlessCli';
import { REPO_ROOT } from '../repoRoot';
import { LocalServerError } from '../servers/errors';
import type { LocalServer } from '../servers/local-server';
import { MINISTACK_ACCOUNT, startMiniStack } from './ministack';

/** The stage serverless.yml gives an emulator on this machine (MiniStack here, or LocalStack). */
export const EMULATOR_STAGE = 'localstack';
/** serverless.yml's `localstack` params: the bucket, and the queue names without a prefix (the defaults). */
export const DEPLOYED_QUEUES = QUEUES;
export const DEPLOYED_BUCKET = 'images';

/**
 * Who may call the deployed API (serverless.yml's `auth` param; docs/security.md): none by default
 * (MiniStack listens on 127.0.0.1 only); jwt with an issuer the emulator and the functions can
 * reach (the HTTP API's JWT authorizer checks each token, then the function does); api-key with the
 * stored key list (`{"keys": [...]}`), put into the emulator's SSM as the SecureString parameter
 * the functions read at init.
 */
export type DeployedAuth =
  | { mode: 'none' }
  | { mode: 'jwt'; issuer: string; audience: string; clientId?: string; jwksUrl?: string }
  | { mode: 'api-key'; keys: string };

/** The `localstack` stage's SSM parameter of the API keys (serverless.yml: apiKeysParameter's default). */
export const DEPLOYED_API_KEYS_PARAMETER = '/image-pipeline/localstack/api-keys';

function authDeployArgs(auth: DeployedAuth | undefined): string[] {
  if (!auth || auth.mode === 'none') return [];
  if (auth.mode === 'api-key') return ['--param=auth=api-key'];
  return [
    '--param=auth=jwt',
    `--param=jwtIssuer=${auth.issuer}`,
    `--param=jwtAudience=${auth.audience}`,
    ...(auth.clientId !== undefined ? [`--param=jwtClientId=${auth.clientId}`] : []),
    ...(auth.jwksUrl !== undefined ? [`--param=jwtJwksUrl=${auth.jwksUrl}`] : []),
  ];
}

export interface DeployedStackOptions {
  /** MiniStack's port on 127.0.0.1. Default 4566 (LocalStack's); 0 = a free port (tests). */
  port?: number;
  /** Progress lines ("[deploy] …"); stderr by default. */
  progress?: (line: string) => void;
  /** Skip the esbuild/layer build (already in .build/ and layers/). */
  skipBuild?: boolean;
  /**
   * Tests only: lower the stage queues' VisibilityTimeout after the deploy (seconds), so that a
   * retried message comes back in seconds instead of the template's 3 to 6 minutes. The redrive
   * policies (maxReceiveCount 3 -> the DLQ) stay as deployed.
   */
  visibilityTimeoutSeconds?: number;
  /** Extra arguments for `serverless deploy` (e.g. `--param=…`). */
  deployArgs?: readonly string[];
  /** Who may call the API; AUTH=none when absent. */
  auth?: DeployedAuth;
}

export interface DeployedStack {
  /** Base URL of the HTTP API (MiniStack's path form): `${apiUrl}/upload`, `${apiUrl}/images`, the gallery at `${apiUrl}/`. */
  apiUrl: string;
  apiId: string;
  /** The emulator's endpoint, for AWS SDK clients (AWS_ENDPOINT_URL) and `npm run dlq`. */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  queues: typeof DEPLOYED_QUEUES;
  /** The environment that points this project's CLIs (dlq, pipeline) at the deployed stack. */
  cliEnv: Record<string, string>;
  /** Milliseconds per start step, and `total`. */
  timings: Record<string, number>;
  ministack: LocalServer;
  deployLogFile: string;
  /**
   * Tests only: lower these queues' VisibilityTimeout now (default every queue of the pipeline), so a
   * retried message comes back in seconds. Lowering it while photos flow lets a slow batch (a cold
   * start) be received twice, so a test lowers only the queue whose retries it exercises.
   */
  setVisibilityTimeout(seconds: number, queues?: readonly string[]): Promise<void>;
  /**
   * `serverless deploy` again (after changing a layer, say); resolves when the API answers. With
   * `auth`, deployed with that caller rule from now on (an api-key list is put into SSM first).
   */
  redeploy(args?: readonly string[], auth?: DeployedAuth): Promise<void>;
  stop(): Promise<void>;
}

/** The deploy's environment: the emulator's endpoint and account, nothing of a real AWS profile. */
function deployEnv(endpoint: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  return {
    ...env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: MINISTACK_ACCOUNT.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MINISTACK_ACCOUNT.secretAccessKey,
    AWS_REGION: MINISTACK_ACCOUNT.region,
    AWS_DEFAULT_REGION: MINISTACK_ACCOUNT.region,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

/** Runs `serverless deploy --stage localstack`; resolves with the HTTP API's id from its output. */
async function slsDeploy(endpoint: string, logFile: string, args: readonly string[]): Promise<string> {
  const out = createWriteStream(logFile, { flags: 'a' });
  const lines: string[] = [];
  const child = spawn(process.execPath, [SLS_BIN, 'deploy', '--stage', EMULATOR_STAGE, '--region', MINISTACK_ACCOUNT.region, ...args], {
    cwd: REPO_ROOT,
    env: deployEnv(endpoint),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      out.write(`${line}\n`);
      lines.push(line);
    });
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  await new Promise<void>((resolve) => out.end(resolve));
  const text = lines.join('\n');
  if (code !== 0) {
    throw new LocalServerError(
      `serverless deploy --stage ${EMULATOR_STAGE} failed (exit ${code}). Last lines (all in ${logFile}):\n${lines.slice(-25).join('\n')}`,
    );
  }
  // The framework prints the HTTP API's endpoints as AWS names them: https://<apiId>.execute-api.<region>…
  const apiId = /https:\/\/([a-z0-9]+)\.execute-api\./.exec(text)?.[1];
  if (!apiId)
    throw new LocalServerError(`serverless deploy printed no HTTP API endpoint; expected https://<apiId>.execute-api.… in ${logFile}`);
  return apiId;
}

/** Resolves once GET `${apiUrl}/` answers 200 with the gallery (the api function runs; the page needs no caller). */
async function waitForApi(apiUrl: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const res = await fetch(`${apiUrl}/`, { signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      if (res.status === 200 && body.startsWith('<!doctype html>')) return;
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline)
      throw new LocalServerError(`the deployed HTTP API at ${apiUrl} did not answer within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function setVisibilityTimeout(
  endpoint: string,
  seconds: number,
  names: readonly string[] = Object.values(DEPLOYED_QUEUES),
): Promise<void> {
  const client = new SQSClient({ endpoint, region: MINISTACK_ACCOUNT.region, credentials: MINISTACK_ACCOUNT });
  try {
    for (const name of names) {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
      await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: String(seconds) } }));
    }
  } finally {
    client.destroy();
  }
}

export async function startDeployedStack(options: DeployedStackOptions = {}): Promise<DeployedStack> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, what: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    progress(`[deploy] ${what}…`);
    const result = await fn();
    timings[name] = Date.now() - started;
    progress(`[deploy] ${what}: ${(timings[name] / 1000).toFixed(1)} s`);
    return result;
  };

  if (!options.skipBuild) {
    await step('build', 'building the model (once), the function bundles and the layers', async () => {
      await ensureLayerModels();
      await buildFunctions({ log: progress });
    });
  }
  const ministack = await step('ministack', 'starting MiniStack', () => startMiniStack({ port: options.port ?? 4566, log: progress }));
  try {
    const logDir = path.join(REPO_ROOT, '.cache', 'deploy');
    mkdirSync(logDir, { recursive: true });
    const deployLogFile = path.join(logDir, `sls-deploy-${ministack.port}.log`);
    const deploy = async (args: readonly string[]) => {
      const apiId = await slsDeploy(ministack.endpoint, deployLogFile, args);
      const apiUrl = `${ministack.endpoint}/_aws/execute-api/${apiId}/$default`;
      await waitForApi(apiUrl);
      return { apiId, apiUrl };
    };
    let auth = options.auth;
    const putApiKeys = async (keys: string) => {
      const ssm = new SSMClient({ endpoint: ministack.endpoint, region: MINISTACK_ACCOUNT.region, credentials: MINISTACK_ACCOUNT });
      try {
        await ssm.send(new PutParameterCommand({ Name: DEPLOYED_API_KEYS_PARAMETER, Type: 'SecureString', Value: keys, Overwrite: true }));
      } finally {
        ssm.destroy();
      }
    };
    if (auth?.mode === 'api-key') {
      const keys = auth.keys;
      await step('api-keys', `putting the API keys' hashes into SSM (${DEPLOYED_API_KEYS_PARAMETER})`, () => putApiKeys(keys));
    }
    const deployArgs = [...authDeployArgs(auth), ...(options.deployArgs ?? [])];
    const { apiId, apiUrl } = await step('deploy', `serverless deploy --stage ${EMULATOR_STAGE} onto ${ministack.endpoint}`, () =>
      deploy(deployArgs),
    );
    if (options.visibilityTimeoutSeconds !== undefined) await setVisibilityTimeout(ministack.endpoint, options.visibilityTimeoutSeconds);
    timings.total = Date.now() - t0;
    const credentials = { accessKeyId: MINISTACK_ACCOUNT.accessKeyId, secretAccessKey: MINISTACK_ACCOUNT.secretAccessKey };
    return {
      apiUrl,
      apiId,
      endpoint: ministack.endpoint,
      region: MINISTACK_ACCOUNT.region,
      credentials,
      bucket: DEPLOYED_BUCKET,
      queues: DEPLOYED_QUEUES,
      cliEnv: {
        STORE: 's3',
        QUEUE: 'sqs',
        BUCKET: DEPLOYED_BUCKET,
        S3_ENDPOINT: ministack.endpoint,
        SQS_ENDPOINT: ministack.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: MINISTACK_ACCOUNT.region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      timings,
      ministack,
      deployLogFile,
      setVisibilityTimeout: (seconds, queues) => setVisibilityTimeout(ministack.endpoint, seconds, queues),
      redeploy: async (args = [], newAuth) => {
        if (newAuth) {
          auth = newAuth;
          if (newAuth.mode === 'api-key') await putApiKeys(newAuth.keys);
        }
        await deploy([...authDeployArgs(auth), ...args]);
        if (options.visibilityTimeoutSeconds !== undefined)
          await setVisibilityTimeout(ministack.endpoint, options.visibilityTimeoutSeconds);
      },
      stop: () => ministack.stop(),
    };
  } catch (error) {
    await ministack.stop();
    throw error;
  }
}
