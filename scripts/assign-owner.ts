/**
 * npm run assign-owner -- --owner NAME [--dry-run] [--json]
 *
 * Gives every photo stored before owners existed to NAME (src/owners/assignOwner.ts): until then no
 * caller lists, finds or is served those photos. NAME is whom the API knows the caller as: `local`
 * for AUTH=none (so `npm start` shows them again), the `sub` of their tokens for AUTH=jwt (Cognito:
 * the user's "sub" attribute), the owner an API key was made for with AUTH=api-key. Works on the
 * store the config names, as `npm run dlq` does: the folder under DATA_DIR (the default), or
 * STORE=s3 with BUCKET (and S3_ENDPOINT off AWS). A photo still in the pipeline is left for a later
 * run; running it again finishes what a run cut short began, and assigns nothing twice.
 * Prints one line a photo (or a JSON object a line with --json), then a summary; exits 2 on bad arguments.
 */
import { configFromEnvironment } from '../src/config';
import { isOwner, OWNER_EXPECTED } from '../src/domain/owners';
import { assignOwner } from '../src/owners/assignOwner';
import { createPorts } from '../src/ports/createPorts';
import { parseCliArgs, usageError } from './cliArgs';

const USAGE = 'usage: npm run assign-owner -- --owner NAME [--dry-run] [--json]';

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: { owner: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const owner = values.owner;
  if (owner === undefined) usageError(USAGE, '--owner: expected whom the photos are to be given to (local with AUTH=none)');
  if (!isOwner(owner)) usageError(USAGE, `--owner: expected ${OWNER_EXPECTED}, got ${JSON.stringify(owner)}`);
  const config = configFromEnvironment({ defaults: { LOG_LEVEL: 'warn' } });
  // The store only: no queue journal is opened, so a running `npm start` on the same DATA_DIR is no obstacle.
  const ports = createPorts(config, { persistQueues: false });
  const where = config.store === 's3' ? `bucket ${config.bucket}` : `${config.dataDir}/images`;
  try {
    const outcomes = await assignOwner(ports.store, owner, {
      dryRun: values['dry-run'],
      onPhoto: (o) => {
        if (values.json) process.stdout.write(`${JSON.stringify(o)}\n`);
        else if (o.outcome === 'assigned') {
          process.stdout.write(
            `${o.image_id}: ${values['dry-run'] ? 'would be ' : ''}assigned${o.labels?.length ? ` (${o.labels.join(', ')})` : ''}\n`,
          );
        } else process.stdout.write(`${o.image_id}: left as it is (${o.outcome})\n`);
      },
    });
    const assigned = outcomes.filter((o) => o.outcome === 'assigned').length;
    const left = outcomes.length - assigned;
    process.stderr.write(
      `${values['dry-run'] ? '[dry run] ' : ''}${where}: ${assigned} photo${assigned === 1 ? '' : 's'} without an owner ${values['dry-run'] ? 'would be given' : 'given'} to ${JSON.stringify(owner)}` +
        (left ? `; ${left} left (still in the pipeline, or unreadable): run it again later` : '') +
        '\n',
    );
  } finally {
    await ports.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`assign-owner failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
