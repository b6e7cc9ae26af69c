/**
 * Crafted HEIC files made from real ones by changing a few header bytes: what a hostile upload
 * sends. Each throws when the bytes it patches are not where a libheif-written file has them.
 */

/** Every `ispe` (image spatial extents) box says width x height: a decompression bomb by its header. */
export function ispeBomb(heic: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(heic);
  let found = 0;
  for (let at = out.indexOf('ispe'); at >= 0; at = out.indexOf('ispe', at + 4)) {
    // box: size, 'ispe', version and flags (4 bytes), uint32 width, uint32 height
    out.writeUInt32BE(width, at + 8);
    out.writeUInt32BE(height, at + 12);
    found++;
  }
  if (found === 0) throw new Error('ispeBomb: no ispe box in the file');
  return out;
}

/**
 * A grid whose tiles are to be assembled to width x height, while its `ispe` still declares the
 * real size: the grid's description (ImageGrid, in the `idat` box where libheif writes it) is patched.
 */
export function gridBomb(heic: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(heic);
  const idat = out.indexOf('idat');
  if (idat < 0) throw new Error('gridBomb: no idat box (expected the grid description in it)');
  const grid = idat + 4; // version, flags, rows - 1, columns - 1, output width, output height
  if (out[grid + 1]! & 1) {
    out.writeUInt32BE(width, grid + 4);
    out.writeUInt32BE(height, grid + 8);
  } else {
    out.writeUInt16BE(width, grid + 4);
    out.writeUInt16BE(height, grid + 6);
  }
  return out;
}

/**
 * Whole container, broken image data: the first bytes of the coded image (in `mdat`, where the first
 * NAL unit's length is) zeroed. Upload's check (the container) passes; every decoder fails on it.
 */
export function corruptHeicData(heic: Buffer): Buffer {
  const out = Buffer.from(heic);
  const mdat = out.indexOf('mdat');
  if (mdat < 0) throw new Error('corruptHeicData: no mdat box');
  out.fill(0, mdat + 4, mdat + 60);
  return out;
}

/** The file cut to 60 % of its bytes: the image data ends early. */
export function truncatedHeic(heic: Buffer): Buffer {
  return heic.subarray(0, Math.floor(heic.length * 0.6));
}
