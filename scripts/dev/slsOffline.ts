/**
 * `serverless offline` (osls + serverless-offline) as a LocalServer: its own process group, the
 * same stop and Ctrl-C handling as MinIO and ElasticMQ, ready once both of its ports answer. Its
 * output goes to `logFile` and, line by line, to `onLine` (the handlers' JSON logs are in it).
 */
import path from 'node:path';
import { SLS_BIN } from '../package/serverlessCli';
import { REPO_ROOT } from '../repoRoot';
import { acceptsConnections, LOOPBACK, LocalServer, launch } from '../servers/local-server';

export interface SlsOfflineOptions {
  stage: string;
  /** POST /upload and the read API. */
  httpPort: number;
  /** The Lambda invoke API (the SQS bridge calls it). */
  lambdaPort: number;
  /** Kept after stop (in .cache/dev). */
  logFile: string;
  env: Record<string, string>;
  onLine?: (line: string) => void;
}

export async function startSlsOffline(o: SlsOfflineOptions): Promise<LocalServer> {
  const logDir = path.dirname(o.logFile);
  const server = new LocalServer({
    spec: {
      name: 'serverless-offline',
      command: process.execPath,
      args: [
        SLS_BIN,
        'offline',
        'start',
        '--stage',
        o.stage,
        '--httpPort',
        String(o.httpPort),
        '--lambdaPort',
        String(o.lambdaPort),
        '--host',
        LOOPBACK,
      ],
      cwd: REPO_ROOT,
      env: o.env,
      probe: async (signal) => (await acceptsConnections(o.httpPort, signal)) && (await acceptsConnections(o.lambdaPort, signal)),
    },
    port: o.httpPort,
    otherPorts: [o.lambdaPort],
    endpoint: `http://${LOOPBACK}:${o.httpPort}`,
    dataDir: logDir,
    runDir: logDir,
    logFile: o.logFile,
    ...(o.onLine ? { onOutputLine: o.onLine } : {}),
    ownedPaths: [], // the log stays for reading after the stack is gone
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 5_000,
  });
  return launch(server);
}
