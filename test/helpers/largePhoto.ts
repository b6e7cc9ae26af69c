import sharp from 'sharp';
import { readFixture } from './fixtures';

/**
 * A phone-sized photo made in the test: a fixture scaled (Lanczos 3) to about `megapixels`, with
 * deterministic per-channel noise of ±`noise` grey levels, as JPEG q92. The noise is the real
 * detail a camera file has: an upscale alone compresses to a fraction of a photo's bytes. At 24.5 MP
 * and ±16 it is about 9 MB — over API Gateway's 6 MB invocation, the case the direct upload is for.
 */
export async function largePhoto(
  name = 'dog.jpg',
  megapixels = 24.5,
  noise = 16,
): Promise<{ bytes: Buffer; width: number; height: number }> {
  const source = readFixture(name);
  const meta = await sharp(source).metadata();
  const k = Math.sqrt((megapixels * 1e6) / (meta.width! * meta.height!));
  const width = Math.round(meta.width! * k);
  const height = Math.round(meta.height! * k);
  const { data, info } = await sharp(source)
    .removeAlpha()
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  let s = 0x9e3779b9 | 0; // mulberry32: the same photo on every run
  for (let i = 0; i < data.length; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    data[i] = Math.max(0, Math.min(255, data[i]! + Math.round((r - 0.5) * 2 * noise)));
  }
  const bytes = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .jpeg({ quality: 92, chromaSubsampling: '4:2:0' })
    .toBuffer();
  return { bytes, width, height };
}
