// The real stack deployed onto MiniStack on this machine, until Ctrl-C or SIGTERM (`npm run deploy:local`):
//
//   MiniStack (pinned, hash-checked, installed once into .cache/ministack/venv) on 127.0.0.1:4566
//   -> `serverless deploy --stage localstack` -> one line on stdout when the HTTP API answers:
//        API_URL=http://127.0.0.1:4566/_aws/execute-api/<apiId>/$default
//   Then: curl -X POST -F "image=@photo.jpg" "$API_URL/upload"; the gallery is "$API_URL/".
//
//   npm run deploy:local -- [--port 4566]      (0 = a free port)
//
// Progress and hints go to stderr, so `API_URL=…` is the only line on stdout. Ctrl-C or SIGTERM
// stops MiniStack and every function worker it started.
import { parseArgs } from 'node:util';
import { type DeployedStack, startDeployedStack } from './deploy/deployedStack';

function port(raw: string | undefined): number {
  if (raw === undefined) return 4566;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`--port: expected a port from 0 to 65535, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
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

  stack = await startDeployedStack({ port: port(values.port) });
  if (stopping) return;
  const env = Object.entries(stack.cliEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stderr.write(
    [
      '',
      `[deploy] deployed in ${((stack.timings.deploy ?? 0) / 1000).toFixed(1)} s (ready in ${((stack.timings.total ?? 0) / 1000).toFixed(1)} s)`,
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
