// Local S3 + SQS for development, in the foreground until Ctrl-C.
//
//   npm run servers:up                       MinIO on 127.0.0.1:9000, ElasticMQ on 127.0.0.1:9324
//   tsx scripts/servers/cli.ts up --console  also MinIO's web console on 127.0.0.1:9001
//   tsx scripts/servers/cli.ts up --versity  the Versity S3 gateway instead of MinIO (same port)
//   tsx scripts/servers/cli.ts up --fresh    a temp data dir instead of .cache/dev-data/<server>
//   tsx scripts/servers/cli.ts up --s3-port 9100 --sqs-port 9400
//
// Objects persist in .cache/dev-data/ between runs (unless --fresh); ElasticMQ keeps messages in
// memory, so queues start empty: the code creates them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCliArgs } from '../cliArgs';
import { REPO_ROOT } from '../repoRoot';
import { LocalServerError } from './errors';
import type { LocalServer } from './local-server';
import { type LocalS3Server, startElasticMq, startMinio, startVersity } from './local-servers';

const usage = `usage: tsx scripts/servers/cli.ts up [--s3-port 9000] [--sqs-port 9324] [--console [--console-port 9001]] [--versity] [--fresh]`;

function port(raw: string | undefined, fallback: number, flag: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new LocalServerError(`${flag}: expected a port from 1 to 65535, got ${JSON.stringify(raw)}`);
  }
  return n;
}

async function up(argv: string[]): Promise<void> {
  const { values } = parseCliArgs(
    usage,
    {
      options: {
        's3-port': { type: 'string' },
        'sqs-port': { type: 'string' },
        console: { type: 'boolean', default: false },
        'console-port': { type: 'string' },
        versity: { type: 'boolean', default: false },
        fresh: { type: 'boolean', default: false },
      },
    },
    argv,
  );
  const s3Port = port(values['s3-port'], 9000, '--s3-port');
  const sqsPort = port(values['sqs-port'], 9324, '--sqs-port');
  const consolePort = values.console ? port(values['console-port'], 9001, '--console-port') : undefined;
  const s3Name = values.versity ? 'versitygw' : 'minio';
  let dataDir: string | undefined;
  if (!values.fresh) {
    dataDir = join(REPO_ROOT, '.cache', 'dev-data', s3Name);
    await mkdir(dataDir, { recursive: true });
  }

  const running: LocalServer[] = [];
  let stopping: Promise<never> | undefined;
  // Idempotent: a second Ctrl-C (or a signal relayed twice by npm/tsx) waits for the first stop.
  const stopAll = (code: number): Promise<never> => {
    stopping ??= (async () => {
      process.stderr.write('\nstopping…\n');
      await Promise.all(running.map((server) => server.stop()));
      process.exit(code);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const started = Date.now();
    const [s3, sqs] = await Promise.all([
      (values.versity ? startVersity({ port: s3Port, dataDir }) : startMinio({ port: s3Port, dataDir, consolePort })).then(
        (server: LocalS3Server) => {
          running.push(server);
          return server;
        },
      ),
      startElasticMq({ port: sqsPort }).then((server) => {
        running.push(server);
        return server;
      }),
    ]);
    const lines = [
      `${s3Name.padEnd(10)} ${s3.endpoint}  (ready in ${s3.readyMs} ms; data ${s3.dataDir}; log ${s3.logFile})`,
      ...(consolePort !== undefined ? [`console    http://127.0.0.1:${consolePort}  (log in with the credentials below)`] : []),
      `elasticmq  ${sqs.endpoint}  (ready in ${sqs.readyMs} ms; queues in memory; log ${sqs.logFile})`,
      '',
      'For the pipeline (export these):',
      `  STORE=s3 QUEUE=sqs S3_ENDPOINT=${s3.endpoint} SQS_ENDPOINT=${sqs.endpoint} S3_FORCE_PATH_STYLE=true`,
      `  AWS_REGION=${s3.region} AWS_ACCESS_KEY_ID=${s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${s3.secretAccessKey}`,
      '',
      `all up in ${Date.now() - started} ms; Ctrl-C stops both`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll(1);
  }

  // Stay in the foreground; if a server dies, say so and stop the other.
  const watch = setInterval(() => {
    const dead = running.find((server) => !server.running);
    if (dead && !stopping) {
      process.stderr.write(`${dead.name} exited unexpectedly; last lines of its log:\n${dead.logTail()}\n`);
      void stopAll(1);
    }
  }, 1_000);
  watch.unref();
  setInterval(() => {}, 1 << 30); // keep the event loop alive until a signal
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'up') return up(rest);
  process.stderr.write(`${usage}\n`);
  process.exit(command === undefined || command === '--help' || command === '-h' ? 0 : 2);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
