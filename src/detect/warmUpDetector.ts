import sharp from 'sharp';
import type { Detection } from '../domain/messages';

/** Runs the detector once on a small blank image: the model loads now, not on the first photo. */
export async function warmUpDetector(detect: (bytes: Buffer) => Promise<Detection[]>): Promise<void> {
  const blank = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  await detect(blank);
}
