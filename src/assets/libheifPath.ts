import { layerPackageFile, layerPackageLookupDirs } from './layerPackage';

/** The HEIC decoder's package: libheif with libde265, compiled to WebAssembly (src/image/heif). */
export const LIBHEIF_PACKAGE = 'libheif-js';
/** The files of the package the decoder loads (what the sharp layer carries of it, with its licence). */
export const LIBHEIF_FILES = ['libheif-wasm/libheif.js', 'libheif-wasm/libheif.wasm', 'libheif-wasm/LICENSE'] as const;

/**
 * The decoder's JavaScript glue and WebAssembly module, found by module resolution: the sharp layer's
 * copy on Lambda (NODE_PATH), node_modules elsewhere; undefined, with where it looked, when missing.
 */
export function libheifFiles(): { glue: string; wasm: string } | { looked: string } {
  const glue = layerPackageFile(import.meta.url, `${LIBHEIF_PACKAGE}/${LIBHEIF_FILES[0]}`);
  const wasm = layerPackageFile(import.meta.url, `${LIBHEIF_PACKAGE}/${LIBHEIF_FILES[1]}`);
  if (glue && wasm) return { glue, wasm };
  return { looked: layerPackageLookupDirs(import.meta.url, LIBHEIF_PACKAGE).join(', ') };
}
