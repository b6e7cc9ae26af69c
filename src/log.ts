import { createLogger as createPipelineLogger, type Logger, type LogSink } from './logger/createLogger';

/**
 * TRANSITIONAL — delete this file once the ports, scripts/dev/devStack.ts and scripts/dev/sqsBridge.ts
 * take their logger injected (issue 12, branch i12-split); everything else gets its logger from the
 * composition root (src/app/createApp.ts, loggers from src/logger/createLogger.ts).
 *
 * The old surface, on Powertools Logger: `log`, the module logger the ports still import, and
 * `createLogger(fields, level, sink)`. `log` prints errors only, so that a CLI's quiet output
 * carries no port lines; replacing its `sink` (as a test does) captures everything.
 */
export type { Logger };
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function createLogger(fields: Record<string, string> = {}, level: LogLevel = 'info', sink?: LogSink): Logger {
  const root = createPipelineLogger({ level, serviceName: 'image-pipeline' }, sink ? { sink } : {});
  return Object.keys(fields).length ? root.createChild({ persistentKeys: fields }) : root;
}

const errorsOnStderr: LogSink = (line, level) => {
  if (level === 'error' || level === 'critical') process.stderr.write(`${line}\n`);
};

export const log: Logger = createLogger({}, 'debug', errorsOnStderr);
