/**
 * The image formats the pipeline takes in, each named once: how sharp calls it, how people call
 * it, the extension its original is stored under, its content type, and the file names it goes
 * by. Everything else is derived from this table: the image keys (keys.ts), the stores'
 * content types (contentType.ts), what upload accepts and how its errors name the formats
 * (src/image/openImage.ts), which files the pipeline CLI picks from a folder, and the gallery's
 * hint. It lives in ports because the stores need it and may import nothing outside ports.
 */
export const IMAGE_FORMATS = [
  { sharp: 'jpeg', name: 'JPEG', ext: 'jpg', contentType: 'image/jpeg', fileExtensions: ['jpg', 'jpeg'] },
  { sharp: 'png', name: 'PNG', ext: 'png', contentType: 'image/png', fileExtensions: ['png'] },
  { sharp: 'webp', name: 'WebP', ext: 'webp', contentType: 'image/webp', fileExtensions: ['webp'] },
  { sharp: 'gif', name: 'GIF', ext: 'gif', contentType: 'image/gif', fileExtensions: ['gif'] },
  { sharp: 'tiff', name: 'TIFF', ext: 'tiff', contentType: 'image/tiff', fileExtensions: ['tiff', 'tif'] },
  // sharp reports AVIF and HEIC as HEIF (the container) and tells them apart by what is inside it: AV1
  // (AVIF, which sharp decodes) or HEVC (HEIC, which sharp reads the header of and src/image/heif decodes).
  { sharp: 'heif', compression: 'av1', name: 'AVIF', ext: 'avif', contentType: 'image/avif', fileExtensions: ['avif'] },
  {
    sharp: 'heif',
    compression: 'hevc',
    name: 'HEIC',
    ext: 'heic',
    contentType: 'image/heic',
    // image/heif is what some phones and browsers call the same files; their originals are stored as .heic.
    otherContentTypes: ['image/heif'],
    fileExtensions: ['heic', 'heif'],
  },
] as const;

export type ImageFormat = (typeof IMAGE_FORMATS)[number];
/** The extension an original is stored under: `original/<id>.<ext>`. */
export type ImageExtension = ImageFormat['ext'];

export const IMAGE_EXTENSIONS: readonly ImageExtension[] = IMAGE_FORMATS.map((f) => f.ext);

const NAMES = IMAGE_FORMATS.map((f) => f.name);
/** "JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC", for messages that say what was expected. */
export const ACCEPTED_FORMATS = `${NAMES.slice(0, -1).join(', ')} or ${NAMES.at(-1)}`;

/** The format sharp's metadata names (format, and for HEIF the compression inside), or undefined when the pipeline does not take it. */
export function imageFormatOfSharp(format: string | undefined, compression?: string): ImageFormat | undefined {
  return IMAGE_FORMATS.find((f) => f.sharp === format && (!('compression' in f) || f.compression === compression));
}

/** Every content type a format is known by: its own first (the one its originals are stored with). */
export function contentTypesOf(format: ImageFormat): readonly string[] {
  return 'otherContentTypes' in format ? [format.contentType, ...format.otherContentTypes] : [format.contentType];
}

/** The format a content type names (any case, parameters ignored), or undefined. */
export function imageFormatOfContentType(contentType: string): ImageFormat | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return IMAGE_FORMATS.find((f) => contentTypesOf(f).includes(type));
}

/** The format a file name's extension names (any case), or undefined. */
export function imageFormatOfFileName(name: string): ImageFormat | undefined {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return undefined;
  const ext = name.slice(dot + 1).toLowerCase();
  return IMAGE_FORMATS.find((f) => (f.fileExtensions as readonly string[]).includes(ext));
}

/** True for a file name whose extension is one of the formats' (any case): `photo.JPG`, `scan.tif`. */
export function isImageFileName(name: string): boolean {
  return imageFormatOfFileName(name) !== undefined;
}
