// The real stack deployed onto MiniStack on this machine, until Ctrl-C or SIGTERM (`npm run deploy:local`):
//
//   MiniStack (pinned, hash-checked, installed once into .cache/ministack/venv) on 127.0.0.1:4566
//   -> `serverless deploy --stage localstack` -> one line on stdout when the HTTP API answers:
//        API_URL=http://127.0.0.1:4566/_aws/execute-api/<apiId>/$default
//   Then: curl -X POST -F "image=@photo.jpg" "$API_URL/upload"; the gallery is "$API_URL/".
//
//   npm run deploy:local -- [--port 4566]      (0 = a free port)
//
// Who may call it (docs/security.md, "Sign-in and owners"); AUTH=none by default, MiniStack being
// on 127.0.0.1 only:
//   npm run deploy:local -- --auth jwt --jwt-issuer URL --jwt-audience AUD [--jwt-client-id ID]
//   npm run deploy:local -- --auth api-key --api-keys-file api-keys.json   (npm run api-key makes it)
//
// Progress and hints go to stderr, so `API_URL=…` is the only line on stdout. Ctrl-C or SIGTERM
// stops MiniStack and every function worker it started.
import { readFileSync } from 'node:fs';
import { parseApiKeys } from '../src/auth/apiKeys';
import { parseCliArgs, usageError } from './cliArgs';
import { type DeployedAuth, type DeployedStack, startDeployedStack } from './deploy/deployedStack';

const USAGE =
  'usage: npm run deploy:local -- [--port 4566] [--auth none | --auth jwt --jwt-issuer URL --jwt-audience AUD [--jwt-client-id ID] | --auth api-key --api-keys-file FILE]';

/** The --auth flags as the stack's auth, checked before minutes of building. */
function authFrom(values: Record<string, string | undefined>): DeployedAuth {
  const mode = values.auth ?? 'none';
  if (mode === 'none') return { mode };
  if (mode === 'jwt') {
    const issuer = values['jwt-issuer'];
    const audience = values['jwt-audience'];
    if (issuer === undefined || audience === undefined) usageError(USAGE, '--auth jwt: expected --jwt-issuer and --jwt-audience');
    return { mode, issuer, audience, ...(values['jwt-client-id'] !== undefined ? { clientId: values['jwt-client-id'] } : {}) };
  }
  if (mode === 'api-key') {
    const file = values['api-keys-file'];
    if (file === undefined) usageError(USAGE, '--auth api-key: expected --api-keys-file (npm run api-key -- --owner NAME makes one)');
    const keys = readFileSync(file, 'utf8');
    parseApiKeys(keys, file);
    return { mode, keys };
  }
  return usageError(USAGE, `--auth: expected none, jwt or api-key, got ${JSON.stringify(mode)}`);
}

function port(raw: string | undefined): number {
  if (raw === undefined) return 4566;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`--port: expected a port from 0 to 65535, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: {
      port: { type: 'string' },
      auth: { type: 'string' },
      'jwt-issuer': { type: 'string' },
      'jwt-audience': { type: 'string' },
      'jwt-client-id': { type: 'string' },
      'api-keys-file': { type: 'string' },
    },
  });
  const auth = authFrom(values);
  let stack: DeployedStack | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\n[deploy] stopping MiniStack…\n');
    await stack?.stop();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  stack = await startDeployedStack({ port: port(values.port), auth });
  if (stopping) return;
  const env = Object.entries(stack.cliEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stderr.write(
    [
      '',
      `[deploy] deployed in ${((stack.timings.deploy ?? 0) / 1000).toFixed(1)} s (ready in ${((stack.timings.total ?? 0) / 1000).toFixed(1)} s)`,
      `  auth      ${auth.mode}${auth.mode === 'jwt' ? ` (issuer ${auth.issuer}): add -H "Authorization: Bearer <token>"` : auth.mode === 'api-key' ? ': add -H "x-api-key: <key>"' : ' (MiniStack is on 127.0.0.1 only)'}`,
      `  upload    curl -X POST -F "image=@photo.jpg" "${stack.apiUrl}/upload"`,
      `  gallery   ${stack.apiUrl}/`,
      `  status    ${stack.apiUrl}/images  ${stack.apiUrl}/images/<id>`,
      `  load      npm run load -- --n 100 --target '${stack.apiUrl}'`,
      `  dlq       ${env} npm run dlq -- list`,
      `  logs      ${stack.ministack.logFile} (MiniStack and the functions), ${stack.deployLogFile} (the deploy)`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  process.stdout.write(`API_URL=${stack.apiUrl}\n`);
  // The stack lives in MiniStack, whose process the library unrefs (a test that forgets to stop it
  // must still end): without this hold, nothing else is left for Node to wait on, and the command
  // would end, taking MiniStack with it, right after printing API_URL. It stays up until a signal
  // above stops it; if MiniStack ends on its own, the stack is gone, and so is this command, with 1.
  const ended = await stack.ministack.keepAlive();
  if (stopping) return;
  process.stderr.write(
    `[deploy] MiniStack ended on its own (${ended}); last lines of ${stack.ministack.logFile}:\n${stack.ministack.logTail()}\n`,
  );
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`[deploy] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
