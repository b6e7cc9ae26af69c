import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * `node:util` parseArgs for the CLIs, with their convention for bad arguments: `error: <why>`,
 * the usage text, exit code 2. `fail` is for checks parseArgs cannot make (values, combinations).
 */
export function usageError(usage: string, message?: string): never {
  if (message) process.stderr.write(`error: ${message}\n`);
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}

export function parseCliArgs<T extends ParseArgsConfig>(usage: string, config: T, args: string[] = process.argv.slice(2)) {
  try {
    return parseArgs({ ...config, args, strict: true });
  } catch (error) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes that say which argument and why.
    return usageError(usage, (error as Error).message);
  }
}

/** A whole number from `min` to `max`, or the usage error naming the flag. */
export function wholeNumber(usage: string, flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    usageError(usage, `${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}
