/**
 * How many photos `npm run pipeline` has in the pipeline at once: at most `maxPhotos`, and at most
 * `maxPixels` of them together (always at least one), admitted in the order asked. Every photo in
 * flight is its file in memory and, in the stages, decodes whose size goes with its pixels (a
 * wallpaper's 20 MP JPEG is 4 MB, its RGB copy 61 MB); pushing a folder of large photos in all at
 * once held every one of them. The count lets enough small photos in to keep the queues' batches
 * full; the pixels keep large ones to a handful.
 */
export interface AdmissionLimits {
  maxPhotos: number;
  maxPixels: number;
}

export type Admit = <T>(pixels: number, run: () => Promise<T>) => Promise<T>;

export function photoAdmission(limits: AdmissionLimits): Admit {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`photo admission: ${name} must be a whole number >= 1, got ${value}`);
  }
  let photos = 0;
  let pixels = 0;
  const waiting: Array<{ pixels: number; go: () => void }> = [];
  const fits = (p: number) => photos === 0 || (photos < limits.maxPhotos && pixels + p <= limits.maxPixels);
  const next = () => {
    while (waiting.length > 0 && fits(waiting[0]!.pixels)) {
      const w = waiting.shift()!;
      photos++;
      pixels += w.pixels;
      w.go();
    }
  };
  return async (size, run) => {
    if (waiting.length === 0 && fits(size)) {
      photos++;
      pixels += size;
    } else await new Promise<void>((go) => waiting.push({ pixels: size, go }));
    try {
      return await run();
    } finally {
      photos--;
      pixels -= size;
      next();
    }
  };
}
