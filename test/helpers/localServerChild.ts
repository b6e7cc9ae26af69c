/**
 * A program that runs a long-lived child under LocalServer, for the cleanup tests:
 * `node --import tsx localServerChild.ts <unhandled|handled|held> <watchPort>`.
 *
 * The child (a tiny HTTP server, not one of our servers) connects to 127.0.0.1:<watchPort> and
 * holds the connection, so the test sees it die as that connection closing. Once it is ready this
 * program prints one JSON line `{ pid, runDir, logFile }`, then waits for a signal:
 * - `unhandled`: no handler of its own, as a test runner or a plain script: LocalServer's exit hook
 *   must kill the child, remove its folder and let the signal end the program;
 * - `handled`: its own SIGINT/SIGTERM handler stops the server and exits 0, as `npm run dev` does;
 * - `held`: nothing but `keepAlive()` keeps it running, as `npm run deploy:local`; once the server
 *   has ended it prints `ended <how>` and exits 3.
 */
import { freePort, LocalServer, launch, makeRunDir } from '../../scripts/servers/local-server';

const [mode, watchPort] = process.argv.slice(2);
if ((mode !== 'unhandled' && mode !== 'handled' && mode !== 'held') || !watchPort)
  throw new Error('usage: localServerChild.ts <unhandled|handled|held> <watchPort>');

const port = await freePort();
const runDir = await makeRunDir('toy');
const code = `
  require('node:net').connect(${Number(watchPort)}, '127.0.0.1');
  require('node:http').createServer((req, res) => res.end('ok')).listen(${port}, '127.0.0.1', () => console.log('toy listening'));
  console.error('toy says this on stderr');
`;
const server = await launch(
  new LocalServer({
    spec: {
      name: 'toy',
      command: process.execPath,
      args: ['-e', code],
      probe: async (signal) => (await fetch(`http://127.0.0.1:${port}/`, { signal })).ok,
    },
    port,
    endpoint: `http://127.0.0.1:${port}`,
    dataDir: runDir,
    runDir,
    ownedPaths: [runDir],
    readyTimeoutMs: 30_000,
    onOutputLine: (line) => process.stdout.write(`[toy] ${line}\n`),
  }),
);
if (mode === 'handled') {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void server.stop().then(() => process.exit(0)));
  }
}
process.stdout.write(`${JSON.stringify({ pid: server.pid, runDir, logFile: server.logFile })}\n`);
if (mode === 'held') {
  process.stdout.write(`ended ${await server.keepAlive()}\n`);
  process.exit(3);
}
setInterval(() => undefined, 60_000);
