/**
 * The detect function's cold start as Lambda pays it, in a fresh Node process (spawned by
 * bench/lambdaInit.ts): require the bundle Lambda loads (.build/functions/detect/handler.js, which
 * builds its app at load: the INIT phase), then invoke its handler once on an SQS event for one
 * photo (the first invocation loads the model and detects), then once more, warm. Plain JavaScript run by plain node, as
 * the Lambda runtime does: no TypeScript loader in the measured time. Prints one JSON line of
 * times in ms since the process started (performance.timeOrigin), and the CPU time of each part
 * (process.cpuUsage: all threads), which a loaded machine inflates less than wall time.
 *
 *   node bench/detect-init-probe.mjs <bundle> <SQS event as JSON>
 */
import { createRequire } from 'node:module';

const boot = performance.now();
const bootCpu = process.cpuUsage();
const [bundle, event] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { handler } = require(bundle);
const imported = performance.now();
const importedCpu = process.cpuUsage();
const started = Date.now();
const context = {
  functionName: 'detect',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:detect',
  memoryLimitInMB: '2048',
  awsRequestId: 'cold-start-probe',
  logGroupName: '/aws/lambda/detect',
  logStreamName: 'probe',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => Math.max(0, 60_000 - (Date.now() - started)),
};
const result = await handler(JSON.parse(event), context);
const invoked = performance.now();
const invokedCpu = process.cpuUsage();
// A second, warm invocation: what every later photo costs, so the cold start's extra is the difference.
const again = await handler(JSON.parse(event), { ...context, awsRequestId: 'warm-probe' });
const warm = performance.now() - invoked;
const warmCpu = process.cpuUsage();
const cpuMs = (c) => (c.user + c.system) / 1000;
process.stdout.write(
  `${JSON.stringify({
    boot,
    importMs: imported - boot,
    firstInvokeMs: invoked - imported,
    totalMs: invoked,
    warmInvokeMs: warm,
    cpu: {
      boot: cpuMs(bootCpu),
      import: cpuMs(importedCpu) - cpuMs(bootCpu),
      firstInvoke: cpuMs(invokedCpu) - cpuMs(importedCpu),
      total: cpuMs(invokedCpu),
      warmInvoke: cpuMs(warmCpu) - cpuMs(invokedCpu),
    },
    // Records the handler reported failed (a missing answer counts as one).
    failures: [result, again].reduce((n, r) => n + (r?.batchItemFailures?.length ?? 1), 0),
  })}\n`,
);
