import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { elasticMqLibDir, ensureInstalled } from './ensure-installed';
import { freePort, httpOk, LOOPBACK, LocalServer, type LocalServerInit, launch, makeRunDir } from './local-server';

export interface ElasticMqOptions {
  /** Port on 127.0.0.1; a free one by default. Queue URLs are http://127.0.0.1:<port>/<account>/<queue>. */
  port?: number;
  /** Region written into queue ARNs (RedrivePolicy deadLetterTargetArn). Default us-east-1. */
  region?: string;
  /** Default 60 s (a cold JVM start here takes 3 to 5 s). */
  readyTimeoutMs?: number;
  /** Where install progress goes; stderr by default. */
  log?: (line: string) => void;
}

/** ElasticMQ accepts any credentials; these are handed out so SDK clients have some to sign with. */
export class LocalSqsServer extends LocalServer {
  readonly accessKeyId = 'local';
  readonly secretAccessKey = 'local';
  readonly accountId = '000000000000';
  constructor(
    init: LocalServerInit,
    readonly region: string,
  ) {
    super(init);
  }
}

/** HOCON for one ElasticMQ node on loopback, with no queues: the code under test creates them. */
export function elasticMqConfig(port: number, region: string): string {
  return `# Written by scripts/servers/elasticmq.ts
include classpath("application.conf")

node-address {
  protocol = "http"
  host = "${LOOPBACK}"
  port = ${port}
  context-path = ""
}

rest-sqs {
  enabled = true
  bind-port = ${port}
  bind-hostname = "${LOOPBACK}"
  sqs-limits = strict
}

generate-node-address = false

queues {}

aws {
  region = "${region}"
  accountId = "000000000000"
}
`;
}

/**
 * Starts ElasticMQ (`java -cp .cache/elasticmq/lib/* org.elasticmq.server.Main`) on 127.0.0.1 and
 * resolves once a JSON-protocol ListQueues call answers 200. Messages live in memory: a restart
 * empties every queue. Fetches the jars first if they are missing.
 */
export async function startElasticMq(options: ElasticMqOptions = {}): Promise<LocalSqsServer> {
  await ensureInstalled('elasticmq', options.log);
  const port = options.port ?? (await freePort());
  const region = options.region ?? 'us-east-1';
  const runDir = await makeRunDir('elasticmq');
  const configFile = join(runDir, 'elasticmq.conf');
  await writeFile(configFile, elasticMqConfig(port, region));
  const endpoint = `http://${LOOPBACK}:${port}`;
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const server = new LocalSqsServer(
    {
      spec: {
        name: 'elasticmq',
        command: java,
        args: [
          `-Dconfig.file=${configFile}`,
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1', // faster start; plenty for tests
          '-Xmx512m',
          '-cp',
          join(elasticMqLibDir, '*'),
          'org.elasticmq.server.Main',
        ],
        probe: (signal) =>
          httpOk(endpoint, signal, {
            method: 'POST',
            headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
            body: '{}',
          }),
      },
      port,
      endpoint,
      dataDir: runDir,
      runDir,
      ownedPaths: [runDir],
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    },
    region,
  );
  return launch(server);
}
