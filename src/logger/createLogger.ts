import { Logger, type LogItem, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import type { LogLevel } from '../config';

/**
 * Structured logs through Powertools Logger: one JSON object per line (stdout, stderr for warn and
 * error), so CloudWatch, `jq` and `grep image_id` all work. Context (`stage`, `image_id`,
 * `request_id`) is bound with `createChild({ persistentKeys })` and repeated on every line; on
 * Lambda the `injectLambdaContext` middleware adds the function and its request id.
 */
export type { Logger };

/** Where lines go instead of the console (tests); `level` is the line's level in lower case. */
export type LogSink = (line: string, level: LogLevel | 'critical' | 'trace') => void;

/** Never let secrets reach the logs, whatever a caller passes, at any depth of a logged object. */
const SECRET_KEYS = /secret|password|authorization|x-api-key|credential|signature|token/i;

export function redactSecrets(key: string, value: unknown): unknown {
  return key !== '' && SECRET_KEYS.test(key) && value !== undefined ? '[redacted]' : value;
}

/**
 * Characters no log line carries raw, whoever wrote the string (file names, headers, keys, query
 * values reach the logs in messages and fields): C0 and C1 controls and DEL (a terminal's escape
 * sequences, a forged line once `jq -r` decodes a newline), the bidirectional overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069) and marks (U+200E, U+200F, U+061C), which make
 * `gpj.exe` read as `exe.jpg`, and the line and paragraph separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with each unsafe character written out as text (`\n`, `\t`, `\r`, else `\uXXXX`): visible,
 * inert, and still so after a JSON decoder reads the line.
 */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const hasUnsafe = (text: string) => {
  UNSAFE_CHARACTERS.lastIndex = 0;
  return UNSAFE_CHARACTERS.test(text);
};

/**
 * The logger's one replacer, applied to every value of every line (the message and the fields, at
 * any depth, an error's message and stack too): secrets redacted, unsafe characters escaped in
 * strings and in the keys of objects. Done here once, so no call site has to remember it.
 */
export function logReplacer(key: string, value: unknown): unknown {
  const v = redactSecrets(key, value);
  if (typeof v === 'string') return escapeUnsafe(v);
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error) && Object.keys(v).some(hasUnsafe)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeUnsafe(k), x]));
  }
  return v;
}

const LEVEL_NAMES = new Map<number, Parameters<LogSink>[1]>(
  Object.entries(LogLevelThreshold).map(([name, n]) => [n, name.toLowerCase() as Parameters<LogSink>[1]]),
);

/**
 * A Powertools Logger that can write to a sink, and whose children (createChild) write to the same
 * one. Without a sink it prints as Powertools does.
 */
class PipelineLogger extends Logger {
  // A plain field, not #private: Powertools may print from inside its constructor (warnings about
  // its options), before this class's fields exist.
  sink: LogSink | undefined;

  constructor(options: ConstructorOptions, sink?: LogSink) {
    super(options);
    this.sink = sink;
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new PipelineLogger(options ?? {}, this.sink);
  }

  /**
   * A line whose fields cannot be merged or written (nested too deep, a getter that throws) still
   * goes out, without those fields, saying why: logging never throws, whatever a caller passes.
   */
  protected override createAndPopulateLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): LogItem {
    try {
      return super.createAndPopulateLogItem(logLevel, input, extraInput);
    } catch (error) {
      return super.createAndPopulateLogItem(logLevel, messageOf(input), [unwritable(error)]);
    }
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    try {
      this.print(logLevel, log);
    } catch (error) {
      this.print(logLevel, super.createAndPopulateLogItem(logLevel, messageOf(log.getAttributes()), [unwritable(error)]));
    }
  }

  private print(logLevel: number, log: LogItem): void {
    if (!this.sink) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.sink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()), LEVEL_NAMES.get(logLevel) ?? 'info');
  }
}

function messageOf(input: LogItemMessage | LogAttributes): string {
  const message = typeof input === 'string' ? input : input.message;
  return typeof message === 'string' ? message : 'log line';
}

function unwritable(error: unknown): LogAttributes {
  return { log_error: `the fields of this line could not be written: ${error instanceof Error ? error.message : String(error)}` };
}

export interface LoggerSettings {
  level: LogLevel;
  serviceName: string;
}

/** The process's root logger; everything else is a child of it. */
export function createLogger(settings: LoggerSettings, options: { sink?: LogSink } = {}): Logger {
  return new PipelineLogger(
    { logLevel: settings.level.toUpperCase() as Uppercase<LogLevel>, serviceName: settings.serviceName, jsonReplacerFn: logReplacer },
    options.sink,
  );
}

const LEVEL_METHODS: Readonly<Record<string, number>> = {
  trace: LogLevelThreshold.TRACE,
  debug: LogLevelThreshold.DEBUG,
  info: LogLevelThreshold.INFO,
  warn: LogLevelThreshold.WARN,
  error: LogLevelThreshold.ERROR,
  critical: LogLevelThreshold.CRITICAL,
};
const ignore = () => undefined;

/**
 * A child that repeats these keys on every line (undefined ones are left out). The Powertools
 * child is made on first use, not here: every message of every stage gets one, and making it
 * (a whole Logger: options, formatter, console) cost about as much as a small photo's grayscale
 * when the level keeps most messages from logging anything. A call at a level the parent does
 * not log is dropped without it; anything else makes it and goes to it.
 */
export function childLogger(log: Logger, keys: Record<string, string | number | undefined>): Logger {
  const persistentKeys = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
  let child: Logger | undefined;
  return new Proxy(log, {
    get(_parent, prop) {
      const level = typeof prop === 'string' ? LEVEL_METHODS[prop] : undefined;
      if (child === undefined && level !== undefined && level < LogLevelThreshold[log.getLevelName()]) return ignore;
      child ??= log.createChild({ persistentKeys });
      const value: unknown = Reflect.get(child, prop, child);
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}
