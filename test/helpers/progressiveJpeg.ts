/**
 * A valid progressive JPEG with as many scans as asked for, made here (no encoder has a knob for
 * hundreds of scans): one grey component of a constant mid-grey, so every AC coefficient is zero and
 * each AC scan is a handful of end-of-band runs ("EOB runs" of up to 32,767 blocks) — a few dozen
 * bytes — while a decoder still walks every block of the image once per scan. That is the shape of
 * the decode-cost attack: 8192x8192 with 883 scans is about 130 KB.
 *
 * The scans follow the JPEG progression rules (ITU-T T.81 G.1.1), so libjpeg decodes the file
 * without a warning: the DC scan first, then for each coefficient 1..63 its own band, first at
 * the point transform Al = 13 (the largest libjpeg accepts), then one refinement per bit down to
 * Al = 0. That is 1 + 63 x 14 = 883 scans at most; any prefix of that order is valid too.
 */
export const MAX_CRAFTED_SCANS = 1 + 63 * 14;

interface ScanSpec {
  ss: number;
  se: number;
  ah: number;
  al: number;
}

/** The progression: DC, then each band's first scan and its refinements. */
function progression(): ScanSpec[] {
  const scans: ScanSpec[] = [{ ss: 0, se: 0, ah: 0, al: 0 }];
  for (let k = 1; k <= 63; k++) {
    scans.push({ ss: k, se: k, ah: 0, al: 13 });
    for (let a = 13; a >= 1; a--) scans.push({ ss: k, se: k, ah: a, al: a - 1 });
  }
  return scans;
}

/** Bits MSB first into bytes, with JPEG's byte stuffing (FF is followed by 00 in entropy data). */
class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  /** Pads the last byte with 1 bits, as T.81 F.1.2.3 asks. */
  finish(): Buffer {
    while (this.n !== 0) this.write(1, 1);
    return Buffer.from(this.bytes);
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00);
    this.acc = 0;
    this.n = 0;
  }
}

function segment(marker: number, body: Buffer | number[]): Buffer {
  const data = Buffer.from(body);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

/** Every block's DC difference is 0: the one code of the DC table ("0"), one bit a block. */
function dcScanData(blocks: number): Buffer {
  const w = new BitWriter();
  for (let i = 0; i < blocks; i++) w.write(0, 1);
  return w.finish();
}

/**
 * All blocks of the band are zero: EOB runs. The AC table gives symbol EOBr (r << 4) the 4-bit
 * code r; a run of 2^r + e blocks is that code and e in r bits (T.81 G.1.2.2).
 */
function eobRunData(blocks: number): Buffer {
  const w = new BitWriter();
  for (let left = blocks; left > 0; ) {
    const run = Math.min(left, 0x7fff);
    const r = Math.floor(Math.log2(run));
    w.write(r, 4);
    if (r > 0) w.write(run - 2 ** r, r);
    left -= run;
  }
  return w.finish();
}

/** A progressive JPEG of width x height mid-grey pixels in `scans` scans (1 to MAX_CRAFTED_SCANS). */
export function progressiveJpeg(width: number, height: number, scans: number): Buffer {
  if (!Number.isInteger(scans) || scans < 1 || scans > MAX_CRAFTED_SCANS) {
    throw new RangeError(`progressiveJpeg: expected 1 to ${MAX_CRAFTED_SCANS} scans, got ${scans}`);
  }
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const sof = Buffer.alloc(9);
  sof[0] = 8; // sample precision
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof[5] = 1; // one component
  sof[6] = 1; // its id
  sof[7] = 0x11; // 1x1 sampling
  sof[8] = 0; // quantisation table 0
  const dcTable = [0x00, 1, ...new Array(15).fill(0), 0x00];
  const acCounts = new Array(16).fill(0);
  acCounts[3] = 15; // fifteen 4-bit codes
  const acTable = [0x10, ...acCounts, ...Array.from({ length: 15 }, (_, r) => r << 4)];
  const parts: Buffer[] = [
    Buffer.from([0xff, 0xd8]),
    segment(0xdb, [0x00, ...new Array(64).fill(1)]),
    segment(0xc2, sof),
    segment(0xc4, dcTable),
    segment(0xc4, acTable),
  ];
  const dc = dcScanData(blocks);
  const ac = eobRunData(blocks);
  for (const s of progression().slice(0, scans)) {
    parts.push(segment(0xda, [1, 1, 0x00, s.ss, s.se, (s.ah << 4) | s.al]), s.ss === 0 ? dc : ac);
  }
  parts.push(Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}
