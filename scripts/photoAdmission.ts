/**
 * How many photos `npm run pipeline` has in the pipeline at once: at most `maxPhotos`, and at most
 * `maxBytes` of their files together (always at least one), admitted in the order asked. Every
 * photo in flight is a file read into memory and, in the resize stage, one more decode under way;
 * pushing a folder of 24 MP photos in all at once held every one of them. The count lets enough
 * small photos in to keep the queues' batches full; the bytes keep large ones to a handful.
 */
export interface AdmissionLimits {
  maxPhotos: number;
  maxBytes: number;
}

export type Admit = <T>(bytes: number, run: () => Promise<T>) => Promise<T>;

export function photoAdmission(limits: AdmissionLimits): Admit {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`photo admission: ${name} must be a whole number >= 1, got ${value}`);
  }
  let photos = 0;
  let bytes = 0;
  const waiting: Array<{ bytes: number; go: () => void }> = [];
  const fits = (b: number) => photos === 0 || (photos < limits.maxPhotos && bytes + b <= limits.maxBytes);
  const next = () => {
    while (waiting.length > 0 && fits(waiting[0]!.bytes)) {
      const w = waiting.shift()!;
      photos++;
      bytes += w.bytes;
      w.go();
    }
  };
  return async (size, run) => {
    if (waiting.length === 0 && fits(size)) {
      photos++;
      bytes += size;
    } else await new Promise<void>((go) => waiting.push({ bytes: size, go }));
    try {
      return await run();
    } finally {
      photos--;
      bytes -= size;
      next();
    }
  };
}
