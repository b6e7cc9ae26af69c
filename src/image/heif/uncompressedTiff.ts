/**
 * Decoded pixels as an uncompressed baseline TIFF (one strip, little-endian) with their ICC profile,
 * so that sharp opens them like any photo: sharp's raw-pixel input cannot carry a colour profile,
 * and libvips converts from the embedded one to sRGB (as it does for a JPEG tagged Display P3).
 * Reading an uncompressed strip is a copy: a few milliseconds at 12 MP.
 */
export interface TiffPixels {
  data: Uint8Array;
  width: number;
  height: number;
  /** 3: RGB; 4: RGB with unassociated alpha. */
  channels: 3 | 4;
  /** Bits per sample: 8, or 16 (little-endian, as the file is). Default 8. */
  bits?: 8 | 16;
  icc?: Uint8Array;
}

const SHORT = 3;
const LONG = 4;
const UNDEFINED = 7;

export function uncompressedTiff({ data, ...image }: TiffPixels): Buffer {
  const pixelBytes = image.width * image.height * image.channels * ((image.bits ?? 8) / 8);
  if (data.length !== pixelBytes) {
    throw new RangeError(
      `uncompressedTiff: expected ${pixelBytes} bytes (${image.width}x${image.height}x${image.channels}), got ${data.length}`,
    );
  }
  const head = tiffHeader(image);
  return Buffer.concat([head, data], head.length + pixelBytes);
}

/** The header of uncompressedTiff's file: the pixels (width x height x channels samples) follow it. */
export function tiffHeader({ width, height, channels, icc, bits = 8 }: Omit<TiffPixels, 'data'>): Buffer {
  const pixelBytes = width * height * channels * (bits / 8);
  if (pixelBytes > 0xffffffff) throw new RangeError(`uncompressedTiff: ${pixelBytes} bytes do not fit one TIFF strip`);
  type Entry = [tag: number, type: number, count: number, value: number | Buffer];
  const bitsPerSample = Buffer.alloc(channels * 2);
  for (let c = 0; c < channels; c++) bitsPerSample.writeUInt16LE(bits, c * 2);
  const entries: Entry[] = [
    [256, LONG, 1, width],
    [257, LONG, 1, height],
    [258, SHORT, channels, bitsPerSample],
    [259, SHORT, 1, 1], // no compression
    [262, SHORT, 1, 2], // RGB
    [273, LONG, 1, 0], // strip offset: set below
    [277, SHORT, 1, channels],
    [278, LONG, 1, height],
    [279, LONG, 1, pixelBytes],
    [284, SHORT, 1, 1], // chunky (interleaved)
    ...(channels === 4 ? [[338, SHORT, 1, 2] as Entry] : []), // unassociated alpha
    ...(icc && icc.length > 0 ? [[34675, UNDEFINED, icc.length, Buffer.from(icc)] as Entry] : []),
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  let extraAt = 8 + ifdSize;
  const extras: Buffer[] = [];
  const extraOffsets = new Map<Entry, number>();
  for (const entry of entries) {
    const value = entry[3];
    if (Buffer.isBuffer(value) && value.length > 4) {
      extraOffsets.set(entry, extraAt);
      extras.push(value);
      extraAt += value.length + (value.length % 2); // word-aligned, as TIFF asks
      if (value.length % 2) extras.push(Buffer.alloc(1));
    }
  }
  const stripAt = extraAt;
  const head = Buffer.alloc(stripAt);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(entries.length, 8);
  entries.forEach((entry, i) => {
    const [tag, type, count, value] = entry;
    const at = 10 + i * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(count, at + 4);
    if (tag === 273) head.writeUInt32LE(stripAt, at + 8);
    else if (Buffer.isBuffer(value)) {
      if (value.length > 4) head.writeUInt32LE(extraOffsets.get(entry)!, at + 8);
      else value.copy(head, at + 8);
    } else if (type === SHORT) head.writeUInt16LE(value, at + 8);
    else head.writeUInt32LE(value, at + 8);
  });
  head.writeUInt32LE(0, 10 + entries.length * 12); // no next IFD
  Buffer.concat(extras).copy(head, 8 + ifdSize);
  return head;
}
