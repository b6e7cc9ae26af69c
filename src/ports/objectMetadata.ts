/**
 * An object's user metadata (`PutOptions.metadata`), checked the same way on every adapter so that
 * what one store keeps, every store keeps: S3 sends it as `x-amz-meta-<name>` headers, which allow
 * US-ASCII only and 2 KB in all (names and values), and gives the names back in lower case.
 */
export const MAX_METADATA_BYTES = 2048;

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VALUE = /^[\x20-\x7e]{0,256}$/;

export class InvalidMetadataError extends Error {
  constructor(message: string) {
    super(`object metadata: ${message}`);
    this.name = 'InvalidMetadataError';
  }
}

/** Throws InvalidMetadataError for metadata no store could keep as given. */
export function assertMetadata(metadata: Readonly<Record<string, string>> | undefined): void {
  if (metadata === undefined) return;
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (!NAME.test(name))
      throw new InvalidMetadataError(`expected names of lower-case letters, digits and "-", got ${JSON.stringify(name.slice(0, 70))}`);
    if (typeof value !== 'string' || !VALUE.test(value))
      throw new InvalidMetadataError(`expected the value of ${name} to be at most 256 printable ASCII characters`);
    bytes += name.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw new InvalidMetadataError(`expected at most ${MAX_METADATA_BYTES} bytes in all, got ${bytes}`);
}

/** The metadata to keep: undefined for none (an empty record is none). */
export function keptMetadata(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  assertMetadata(metadata);
  return metadata === undefined || Object.keys(metadata).length === 0 ? undefined : { ...metadata };
}

/** Metadata read back from a store (a sidecar file, S3's headers): only the entries a put could have written. */
export function readMetadata(raw: unknown): Record<string, string> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase();
    if (NAME.test(lower) && typeof value === 'string' && VALUE.test(value)) out[lower] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
