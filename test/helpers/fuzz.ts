import fc from 'fast-check';

/**
 * The fuzz suite's common ground (fast-check): fixed seeds in CI, a way to run with another seed or
 * more runs, a failure that says how to replay it, and the mutations every fuzzed input goes
 * through. Environment:
 *   FUZZ_SEED   the seed (default: each property's fixed one), e.g. FUZZ_SEED=$RANDOM for a new run
 *   FUZZ_RUNS   runs per property (default: each property's own, sized to keep `npm test` quick)
 *   FUZZ_PATH   with FUZZ_SEED: replay one counterexample (fast-check's path, printed on failure)
 */
export interface FuzzRun {
  /** The property's name, as `--test-name-pattern` finds it. */
  name: string;
  /** Its test file, for the replay command. */
  file: string;
  defaultSeed: number;
  defaultRuns: number;
}

export function fuzzParameters(run: FuzzRun): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED === undefined ? run.defaultSeed : Number(process.env.FUZZ_SEED);
  const numRuns = process.env.FUZZ_RUNS === undefined ? run.defaultRuns : Number(process.env.FUZZ_RUNS);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED: expected a whole number, got ${JSON.stringify(process.env.FUZZ_SEED)}`);
  if (!Number.isInteger(numRuns) || numRuns < 1)
    throw new Error(`FUZZ_RUNS: expected a whole number from 1, got ${JSON.stringify(process.env.FUZZ_RUNS)}`);
  const path = process.env.FUZZ_PATH;
  return { seed, numRuns, ...(path ? { path, endOnFailure: true } : {}) };
}

/**
 * Runs the property with the run's parameters; on a failure throws fast-check's report (the
 * counterexample, the error) followed by the command that replays exactly that case.
 */
export async function fuzz<Ts>(run: FuzzRun, property: fc.IAsyncProperty<Ts>): Promise<void> {
  const parameters = fuzzParameters(run) as fc.Parameters<Ts>;
  const details = await fc.check(property, parameters);
  if (!details.failed) return;
  const replay =
    details.counterexamplePath === null ? `FUZZ_SEED=${details.seed}` : `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath}`;
  const cause = details.errorInstance;
  throw new Error(
    `${await fc.asyncDefaultReportMessage(details)}\n\nfailed with: ${cause instanceof Error ? cause.message : String(cause)}\n\nreplay: ${replay} node --import tsx --test --test-name-pattern=${JSON.stringify(run.name)} ${run.file}`,
    { cause },
  );
}

/** Bytes a parser trips on: line ends, NUL, quotes, separators, the edges of a byte. */
const INTERESTING = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2d, 0x3a, 0x3b, 0x3d, 0x5c, 0x7f, 0x80, 0xfe, 0xff];

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number };

/** A position, most often near the start (where headers are), sometimes anywhere. */
const position = (headerBytes: number) => fc.oneof({ weight: 3, arbitrary: fc.nat(headerBytes) }, { weight: 1, arbitrary: fc.nat() });

/** Mostly changes in place (the shape kept, a parser led further in), sometimes a cut. */
const mutation = (headerBytes: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('set' as const),
        at: position(headerBytes),
        byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position(headerBytes), bit: fc.nat(7) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        at: position(headerBytes),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), at: position(headerBytes), length: fc.integer({ min: 1, max: 256 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('duplicate' as const),
        at: position(headerBytes),
        length: fc.integer({ min: 1, max: 256 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position(headerBytes) }) },
  );

function apply(base: Buffer, mutations: Mutation[]): Buffer {
  let b = base;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'set':
      case 'flip': {
        if (at >= b.length) break;
        b = Buffer.from(b);
        b[at] = m.kind === 'set' ? m.byte : b[at]! ^ (1 << m.bit);
        break;
      }
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/**
 * `bytes`, printed short in a failure's report (its length, its first bytes and the mutations made),
 * not as a list of every byte of a photo.
 */
function labelled(bytes: Buffer, label: string): Buffer {
  Object.defineProperty(bytes, fc.toStringMethod, { value: () => `<${label}>`, enumerable: false });
  return bytes;
}

const hexHead = (b: Buffer) => b.subarray(0, 16).toString('hex').replace(/(..)/g, '$1 ').trim();

/** `base` with one to six mutations, most of them within its first `headerBytes` bytes. */
export function mutated(base: Buffer, headerBytes = 512): fc.Arbitrary<Buffer> {
  return fc
    .array(mutation(headerBytes), { minLength: 1, maxLength: 6 })
    .map((ms) =>
      labelled(
        apply(base, ms),
        `${base.length} bytes mutated by ${JSON.stringify(ms, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`,
      ),
    );
}

/** Any bytes, short or a few kilobytes. */
export const randomBytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 4096 })).map((a) => {
  const b = Buffer.from(a);
  return labelled(b, `${b.length} random bytes starting ${hexHead(b)}`);
});
