import sharp from 'sharp';
import { ImageTooLargeError, UnsupportedImageError } from '../../errors';
import { type Libheif, libheifInstance } from './libheifWasm';

/** The primary image of a HEIF file, decoded: interleaved RGB(A), upright, with its colour profile. */
export interface DecodedHeif {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
  /** Bits per sample of `data`: 8, or 16 (little-endian) for a photo coded with more than 8 (10-bit HEIC). */
  bits: 8 | 16;
  /** The file's ICC profile, or the one its nclx colour description stands for (Display P3); none for sRGB. */
  icc?: Buffer;
  /** Bits per sample of the coded image (8 or 10 for phones' photos). */
  codedBits: number;
}

export interface HeifLimits {
  maxInputPixels: number;
}

// libheif's enums and four-character codes (heif.h), as the C ABI passes them.
const COLORSPACE_RGB = 1;
const CHROMA_INTERLEAVED_RGB = 10;
const CHROMA_INTERLEAVED_RGBA = 11;
const CHROMA_INTERLEAVED_RRGGBB_LE = 14;
const CHROMA_INTERLEAVED_RRGGBBAA_LE = 15;
const CHANNEL_INTERLEAVED = 10;
const PROFILE_NCLX = 0x6e636c78; // 'nclx'
const PROFILE_ICC = [0x70726f66, 0x72494343]; // 'prof', 'rICC'
/** H.273 colour primaries of Display P3 (what Android phones' HEICs declare in nclx). */
const PRIMARIES_P3 = 12;

/**
 * Decodes the primary image of a HEIF file with HEVC inside (HEIC) — not a thumbnail, not a depth
 * or other auxiliary image — as libheif renders it: a grid of tiles assembled, the clean aperture,
 * rotation and mirror of the container (irot, imir) applied (libheif ignores the EXIF orientation,
 * as the format says: the container's transforms are the orientation), 10-bit samples widened to 16.
 * The size is checked against the pixel limit twice before any pixel is decoded: the size the
 * container declares for the primary image, and libheif's own limit on every image it allocates
 * (a grid's tiles, and its output size, which a crafted file can make larger than it declares).
 * Corrupt or unsupported data is bad input (UnsupportedImageError) with libheif's reason.
 */
export async function decodeHeif(bytes: Uint8Array, limits: HeifLimits, options: { into?: PixelTarget } = {}): Promise<DecodedHeif> {
  const lib = await libheifInstance();
  const session = new Session(lib);
  try {
    const { handle, width, height } = openPrimary(lib, session, bytes, limits);
    const channels = lib._heif_image_handle_has_alpha_channel(handle) ? 4 : 3;
    const found = colourProfile(lib, session, handle);
    const icc = found === 'p3' ? await displayP3Profile() : found;
    const codedBits = lib._heif_image_handle_get_luma_bits_per_pixel(handle);
    // More than 8 bits are kept (16 per sample) for sharp to reduce after the colour conversion, with
    // rounding, as the native decoders' 16-bit output is: libheif's own reduction shifts bits away.
    const bits = codedBits > 8 ? 16 : 8;
    const chroma =
      bits === 16
        ? channels === 4
          ? CHROMA_INTERLEAVED_RRGGBBAA_LE
          : CHROMA_INTERLEAVED_RRGGBB_LE
        : channels === 4
          ? CHROMA_INTERLEAVED_RGBA
          : CHROMA_INTERLEAVED_RGB;
    const imageOut = session.alloc(4);
    session.check('cannot decode the image', (err) => lib._heif_decode_image(err, handle, imageOut, COLORSPACE_RGB, chroma, 0));
    const image = session.keep(lib.HEAPU32[imageOut >> 2]!, (p) => lib._heif_image_release(p));
    const size = width * height * channels * (bits / 8);
    const target = options.into?.({ width, height, channels, bits, ...(icc ? { icc } : {}) }) ?? {
      buffer: Buffer.allocUnsafe(size),
      offset: 0,
    };
    copyPlane(lib, session, image, { channels, bits, codedBits }, target);
    const data = target.buffer.subarray(target.offset, target.offset + size);
    return { data, width, height, channels, bits, codedBits, ...(icc ? { icc } : {}) };
  } finally {
    session.close();
  }
}

/**
 * Where the decoded pixels go: a buffer of the caller's and the offset in it (a file format's header
 * before them, say), so that a whole photo is copied out of the decoder's memory once, not twice.
 */
export type PixelTarget = (image: { width: number; height: number; channels: 3 | 4; bits: 8 | 16; icc?: Buffer }) => {
  buffer: Buffer;
  offset: number;
};

/**
 * The upright size of a HEIF file's primary image, from its container alone (nothing decoded),
 * checked against the pixel limit: the size it declares (ispe, after irot) and, for a grid, the
 * size its tiles are assembled to, which a crafted file can make larger than it declares.
 */
export async function inspectHeif(bytes: Uint8Array, limits: HeifLimits): Promise<{ width: number; height: number }> {
  const lib = await libheifInstance();
  const session = new Session(lib);
  try {
    const { width, height } = openPrimary(lib, session, bytes, limits);
    return { width, height };
  } finally {
    session.close();
  }
}

/** Reads the container and finds its primary image, within the limits: see inspectHeif. */
function openPrimary(
  lib: Libheif,
  session: Session,
  bytes: Uint8Array,
  limits: HeifLimits,
): { handle: number; width: number; height: number } {
  const ctx = session.keep(lib._heif_context_alloc(), (p) => lib._heif_context_free(p));
  limitImageSize(lib, ctx, limits.maxInputPixels);
  const input = session.alloc(bytes.length);
  lib.HEAPU8.set(bytes, input);
  session.check('cannot read the HEIF container', (err) =>
    lib._heif_context_read_from_memory_without_copy(err, ctx, input, bytes.length, 0),
  );
  const handleOut = session.alloc(4);
  session.check('no primary image', (err) => lib._heif_context_get_primary_image_handle(err, ctx, handleOut));
  const handle = session.keep(lib.HEAPU32[handleOut >> 2]!, (p) => lib._heif_image_handle_release(p));
  const width = lib._heif_image_handle_get_width(handle);
  const height = lib._heif_image_handle_get_height(handle);
  if (width < 1 || height < 1) throw new UnsupportedImageError(`HEIF: expected a primary image with a size, got ${width}x${height}`);
  assertWithin(width, height, limits);
  // struct heif_image_tiling: int version, uint32 num_columns, num_rows, tile_width, tile_height, image_width, image_height, …
  const tiling = session.alloc(64);
  session.check('cannot read the image grid', (err) => lib._heif_image_handle_get_image_tiling(err, handle, 1, tiling));
  const assembledWidth = lib.HEAPU32[(tiling + 20) >> 2]!;
  const assembledHeight = lib.HEAPU32[(tiling + 24) >> 2]!;
  if (assembledWidth !== width || assembledHeight !== height) {
    assertWithin(assembledWidth, assembledHeight, limits, `the size its tiles assemble to; it declares ${width}x${height}`);
  }
  return { handle, width, height };
}

function assertWithin(width: number, height: number, limits: HeifLimits, what = ''): void {
  if (width * height > limits.maxInputPixels) {
    const why = what ? ` (${what})` : '';
    throw new ImageTooLargeError(`expected at most ${limits.maxInputPixels} pixels, got ${width}x${height} = ${width * height}${why}`);
  }
}

/** libheif's own limit on the pixels of any image it allocates; set before the file is read. */
function limitImageSize(lib: Libheif, ctx: number, maxPixels: number): void {
  // struct heif_security_limits: uint8 version, then uint64 max_image_size_pixels at offset 8.
  const limits = lib._heif_context_get_security_limits(ctx);
  if (limits === 0 || lib.HEAPU8[limits] === 0) throw new UnsupportedImageError('HEIF: libheif gave no security limits to set');
  lib.HEAPU32[(limits + 8) >> 2] = maxPixels % 2 ** 32;
  lib.HEAPU32[(limits + 12) >> 2] = Math.floor(maxPixels / 2 ** 32);
}

/** The ICC profile to convert from: the file's own, or Display P3's for an nclx that says P3; else none (sRGB). */
function colourProfile(lib: Libheif, session: Session, handle: number): Buffer | 'p3' | undefined {
  const type = lib._heif_image_handle_get_color_profile_type(handle);
  if (PROFILE_ICC.includes(type)) {
    const size = lib._heif_image_handle_get_raw_color_profile_size(handle);
    if (size === 0) return undefined;
    const out = session.alloc(size);
    session.check('cannot read the ICC profile', (err) => lib._heif_image_handle_get_raw_color_profile(err, handle, out));
    return Buffer.from(lib.HEAPU8.subarray(out, out + size));
  }
  if (type === PROFILE_NCLX) {
    const out = session.alloc(4);
    session.check('cannot read the nclx colour profile', (err) => lib._heif_image_handle_get_nclx_color_profile(err, handle, out));
    const nclx = session.keep(lib.HEAPU32[out >> 2]!, (p) => lib._heif_nclx_color_profile_free(p));
    // struct heif_color_profile_nclx: uint8 version, then the enum color_primaries at offset 4.
    const primaries = lib.HEAP32[(nclx + 4) >> 2];
    return primaries === PRIMARIES_P3 ? 'p3' : undefined;
  }
  return undefined;
}

/**
 * The interleaved plane, rows copied out of the instance's memory without their padding, into the
 * target. Samples of more than 8 bits (libheif keeps their range: 0-1023 for 10 bits) are widened
 * to 16 by repeating their top bits below them (1023 becomes 65535), as a 16-bit TIFF is read.
 */
function copyPlane(
  lib: Libheif,
  session: Session,
  image: number,
  format: { channels: 3 | 4; bits: 8 | 16; codedBits: number },
  target: { buffer: Buffer; offset: number },
): void {
  const strideOut = session.alloc(4);
  const plane = lib._heif_image_get_plane_readonly2(image, CHANNEL_INTERLEAVED, strideOut);
  if (plane === 0) throw new UnsupportedImageError('HEIF: the decoded image has no interleaved RGB plane');
  const stride = lib.HEAPU32[strideOut >> 2]!;
  const width = lib._heif_image_get_width(image, CHANNEL_INTERLEAVED);
  const height = lib._heif_image_get_height(image, CHANNEL_INTERLEAVED);
  const row = width * format.channels * (format.bits / 8);
  if (target.buffer.length < target.offset + row * height) {
    throw new RangeError(`HEIF: the target holds ${target.buffer.length - target.offset} bytes, the image ${row * height}`);
  }
  const heap = lib.HEAPU8;
  if (stride === row) target.buffer.set(heap.subarray(plane, plane + row * height), target.offset);
  else
    for (let y = 0; y < height; y++)
      target.buffer.set(heap.subarray(plane + y * stride, plane + y * stride + row), target.offset + y * row);
  if (format.bits === 16 && format.codedBits < 16) {
    const up = 16 - format.codedBits;
    const down = format.codedBits - up;
    const out = target.buffer;
    for (let at = target.offset, end = target.offset + row * height; at < end; at += 2) {
      const v = out[at]! | (out[at + 1]! << 8);
      const wide = (v << up) | (v >> down);
      out[at] = wide & 0xff;
      out[at + 1] = wide >> 8;
    }
  }
}

/** What one decode allocated in the instance, released in reverse order whatever happens. */
class Session {
  private readonly releases: Array<() => void> = [];
  constructor(private readonly lib: Libheif) {}

  alloc(size: number): number {
    const p = this.lib._malloc(size);
    if (p === 0) throw new ImageTooLargeError(`HEIF: out of decoder memory for ${size} bytes`);
    this.releases.push(() => this.lib._free(p));
    return p;
  }

  keep(p: number, release: (p: number) => void): number {
    if (p !== 0) this.releases.push(() => release(p));
    return p;
  }

  /** Calls a libheif function that returns a struct heif_error; throws its message when it is not ok. */
  check(what: string, call: (err: number) => void): void {
    const err = this.alloc(12); // struct heif_error: int code, int subcode, const char* message
    call(err);
    const code = this.lib.HEAP32[err >> 2]!;
    if (code === 0) return;
    const subcode = this.lib.HEAP32[(err + 4) >> 2]!;
    const message = cString(this.lib.HEAPU8, this.lib.HEAPU32[(err + 8) >> 2]!);
    // libheif's "security limit exceeded" is the pixel limit met while reading or decoding.
    const Error_ = subcode === SUBERROR_SECURITY_LIMIT ? ImageTooLargeError : UnsupportedImageError;
    throw new Error_(`HEIF: ${what}: ${message || `libheif error ${code}.${subcode}`}`);
  }

  close(): void {
    for (const release of this.releases.splice(0).reverse()) release();
  }
}

const SUBERROR_SECURITY_LIMIT = 1000;

function cString(heap: Uint8Array, at: number): string {
  if (at === 0) return '';
  let end = at;
  while (end < heap.length && heap[end] !== 0 && end - at < 1000) end++;
  return Buffer.from(heap.subarray(at, end)).toString('utf8');
}

/** Display P3's ICC profile: the one libvips carries built in as "p3", read back from a one-pixel image. */
async function displayP3Profile(): Promise<Buffer | undefined> {
  const pixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
    .withIccProfile('p3')
    .png()
    .toBuffer();
  return (await sharp(pixel).metadata()).icc;
}
