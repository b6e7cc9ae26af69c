import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function greyPng(width: number, height: number, rows: number, fill: (data: Buffer) => void = () => undefined): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const data = Buffer.alloc((width + 1) * rows); // filter byte 0, then zeros
  fill(data);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(data, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A PNG whose header claims width x height grey pixels but whose data holds a few rows: a
 * decompression bomb as a decoder sees it before decoding (a small file claiming a huge image).
 */
export function pngBomb(width = 30_000, height = 30_000): Buffer {
  return greyPng(width, height, 4);
}

/**
 * A real decompression bomb: a valid grey PNG with every row present, all zeros, deflated to
 * about 1/1000 of its pixels.
 */
export function realPngBomb(width: number, height: number): Buffer {
  return greyPng(width, height, height);
}

/**
 * A valid grey PNG of noise (filter bytes 0, pixels from a fixed linear congruential sequence), so
 * its compressed data is about as large as its pixels: room to damage it in the middle.
 */
export function noisyPng(width: number, height: number): Buffer {
  return greyPng(width, height, height, (data) => {
    let x = 12345;
    for (let row = 0; row < height; row++) {
      for (let col = 1; col <= width; col++) {
        x = (x * 1103515245 + 12345) >>> 0;
        data[row * (width + 1) + col] = x >>> 24;
      }
    }
  });
}

/**
 * A PNG whose signature, header and chunk structure are whole (so its header reads, and it has
 * its IEND) but whose pixel data is damaged in the middle, its CRC left as it was: it passes every
 * check at upload and fails when a stage decodes it, for a reason read from its bytes (the IDAT
 * chunk's CRC), the same under any load.
 */
export function corruptPixelsPng(png: Buffer): Buffer {
  const bad = Buffer.from(png);
  const idat = bad.indexOf(Buffer.from('IDAT', 'latin1'));
  bad.fill(0x55, idat + 200, idat + 400);
  return bad;
}

/**
 * The same damage with every chunk's CRC made right again: nothing in the file's structure says
 * what is wrong, only inflating its pixel data does (libvips: "vipspng: libpng read error").
 */
export function corruptDeflatePng(png: Buffer): Buffer {
  const bad = corruptPixelsPng(png);
  for (let at = 8; at + 12 <= bad.length; ) {
    const length = bad.readUInt32BE(at);
    bad.writeUInt32BE(crc32(bad.subarray(at + 4, at + 8 + length)), at + 8 + length);
    if (bad.toString('latin1', at + 4, at + 8) === 'IEND') break;
    at += 12 + length;
  }
  return bad;
}
