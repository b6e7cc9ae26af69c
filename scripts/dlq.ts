/**
 * npm run dlq -- list [--queue NAME] [--json]
 * npm run dlq -- redrive (--queue NAME | --all)
 *
 * Lists the dead letters of the pipeline's queues (with why each was dead-lettered) or moves them
 * back onto their queue to be processed again. Works on whichever queue the config names:
 * - embedded (QUEUE=memory, the default): the journal under DATA_DIR/queues (stop `npm start`
 *   first: one process per journal folder);
 * - SQS (QUEUE=sqs): AWS, or ElasticMQ with SQS_ENDPOINT=http://127.0.0.1:9324.
 * NAME is a queue name (resize_queue, grayscale_queue, objectdetect_queue, tag_queue, ingest_queue:
 * src/domain/stages.ts) or the function that consumes it (resize, grayscale, detect, tag, ingest);
 * with EVENTS=webhook also events_queue (`events`).
 */
import { createApp } from '../src/app/createApp';
import { type Config, configFromEnvironment } from '../src/config';
import { parseCliArgs, usageError } from './cliArgs';

const USAGE = 'usage: npm run dlq -- list [--queue NAME] [--json]\n       npm run dlq -- redrive (--queue NAME | --all)';

function usage(message?: string): never {
  return usageError(USAGE, message);
}

function queueNames(config: Config, wanted: string | undefined): string[] {
  // With EVENTS=webhook also the webhook's events queue ("events"): deliveries that failed every try.
  const all = [...Object.entries(config.queues), ...(config.events.target === 'webhook' ? [['events', config.events.queue] as const] : [])];
  if (wanted === undefined) return all.map(([, name]) => name);
  // Named, it is known without the webhook's settings too (`npm run dev`'s events queue on ElasticMQ).
  const hit = [...all, ['events', config.events.queue] as const].find(([stage, name]) => name === wanted || stage === wanted);
  if (!hit) usage(`unknown queue ${JSON.stringify(wanted)}: expected one of ${all.map(([, n]) => n).join(', ')}`);
  return [hit[1]];
}

async function main(): Promise<void> {
  const { values, positionals } = parseCliArgs(USAGE, {
    options: { queue: { type: 'string' }, all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const [command, ...extra] = positionals;
  if (command !== 'list' && command !== 'redrive')
    usage(command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command)}`);
  if (extra.length) usage(`unknown argument(s): ${extra.join(' ')}`);
  const { queue: wanted, all, json } = values;
  if (wanted === '') usage('--queue needs a queue name');
  if (command === 'redrive' && wanted === undefined && !all) usage('redrive needs --queue NAME or --all');

  // The report goes to stdout: the adapters' info lines stay out of it unless LOG_LEVEL asks.
  const config = configFromEnvironment({ defaults: { LOG_LEVEL: 'warn' } });
  const app = createApp({ config });
  try {
    const names = queueNames(config, wanted);
    const where =
      config.queue === 'memory'
        ? `embedded queue journal ${config.dataDir}/queues`
        : `SQS${config.aws.sqsEndpoint ? ` at ${config.aws.sqsEndpoint}` : ''}`;
    if (command === 'list') {
      let total = 0;
      for (const name of names) {
        const letters = await app.deadLetters.listDeadLetters(name);
        total += letters.length;
        if (json) {
          for (const l of letters) process.stdout.write(`${JSON.stringify({ queue: name, ...l })}\n`);
          continue;
        }
        process.stdout.write(`${name}: ${letters.length} dead letter${letters.length === 1 ? '' : 's'}\n`);
        for (const l of letters) {
          const body = l.body.length > 200 ? `${l.body.slice(0, 200)}…` : l.body;
          process.stdout.write(
            `  ${l.messageId}  ${new Date(l.sentTimestamp).toISOString()}\n    reason: ${l.reason ?? '(none recorded)'}\n    body:   ${body}\n`,
          );
        }
      }
      if (!json) process.stderr.write(`${total} dead letter(s) in ${where}\n`);
    } else {
      let total = 0;
      for (const name of names) {
        const moved = await app.deadLetters.redriveDeadLetters(name);
        total += moved;
        process.stdout.write(`${name}: redrove ${moved} message${moved === 1 ? '' : 's'}\n`);
      }
      process.stderr.write(`${total} message(s) moved back in ${where}\n`);
    }
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`dlq failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
