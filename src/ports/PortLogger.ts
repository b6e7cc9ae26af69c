/**
 * What the adapters need of a logger, and no more: a message and a few fields. It is structural,
 * so the composition root hands in whatever logger it made (a Powertools `Logger` fits as it is;
 * test/unit/port-logger.test.ts checks that), and no adapter reaches for a logger of its own: one
 * made when a module is imported would ignore the level and the sink the program chose later.
 */
export interface PortLogger {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

/**
 * Fields beside the message. A rest parameter rather than an optional one: Powertools declares
 * `(input, ...extraInput: [Error | string] | LogAttributes[])`, which `extra?: {…}` does not fit
 * (a one-element tuple with `undefined` in it is neither of those) and `...extra: {…}[]` does.
 */
export type LogFields = Record<string, unknown>;

const ignore = (): void => undefined;

/** The adapters' default: an adapter made without a logger (a test, a one-off script) says nothing. */
export const silentLogger: PortLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });
