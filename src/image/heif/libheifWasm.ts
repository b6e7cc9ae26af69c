import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { LIBHEIF_PACKAGE, libheifFiles } from '../../assets/libheifPath';
import { RuntimeLoadError } from '../../errors';

/**
 * libheif with libde265 (HEVC) compiled to WebAssembly, from the npm package libheif-js: sharp's
 * prebuilt libvips reads HEIF containers but decodes AV1 only (AVIF), not HEVC (HEIC). WebAssembly
 * runs unchanged on Lambda, MiniStack, serverless offline and the embedded default, with nothing
 * native to match to the runtime's glibc; measured within 2x of Debian's native libheif on the
 * same files (bench/heic.bench.ts).
 *
 * Only the C API is used (the package's JavaScript helpers pick the first image of a file rather
 * than its primary one, and keep no colour profile): raw exports, pointers into the instance's
 * memory, structs returned through a hidden first argument (the wasm32 C ABI).
 */
export interface Libheif {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _heif_context_alloc(): number;
  _heif_context_free(ctx: number): void;
  _heif_context_get_security_limits(ctx: number): number;
  _heif_context_read_from_memory_without_copy(err: number, ctx: number, data: number, size: number, options: number): void;
  _heif_context_get_primary_image_handle(err: number, ctx: number, handleOut: number): void;
  _heif_image_handle_release(handle: number): void;
  _heif_image_handle_get_width(handle: number): number;
  _heif_image_handle_get_height(handle: number): number;
  _heif_image_handle_get_ispe_width(handle: number): number;
  _heif_image_handle_get_ispe_height(handle: number): number;
  _heif_image_handle_has_alpha_channel(handle: number): number;
  _heif_image_handle_get_luma_bits_per_pixel(handle: number): number;
  _heif_image_handle_get_color_profile_type(handle: number): number;
  _heif_image_handle_get_raw_color_profile_size(handle: number): number;
  _heif_image_handle_get_raw_color_profile(err: number, handle: number, out: number): void;
  _heif_image_handle_get_nclx_color_profile(err: number, handle: number, out: number): void;
  _heif_nclx_color_profile_free(nclx: number): void;
  _heif_decode_image(err: number, handle: number, imageOut: number, colorspace: number, chroma: number, options: number): void;
  _heif_image_handle_get_image_tiling(err: number, handle: number, processTransformations: number, out: number): void;
  _heif_image_release(image: number): void;
  _heif_image_get_width(image: number, channel: number): number;
  _heif_image_get_height(image: number, channel: number): number;
  _heif_image_get_plane_readonly2(image: number, channel: number, strideOut: number): number;
}

type Factory = (options: {
  instantiateWasm: (imports: WebAssembly.Imports, ready: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => unknown;
}) => Libheif & { ready?: Promise<unknown> };

interface Compiled {
  factory: Factory;
  module: WebAssembly.Module;
}

/**
 * The compiled code, once per process: compiling is the costly part (V8 shares the machine code of
 * one module between instances), an instance is cheap. A failed load is not kept, so a later call
 * tries again (a layer attached since, say).
 */
const compiled: { pending?: Promise<Compiled> } = {};

async function compile(): Promise<Compiled> {
  const files = libheifFiles();
  if ('looked' in files) {
    throw new RuntimeLoadError(
      `HEIC decoder: expected the package ${LIBHEIF_PACKAGE} (libheif compiled to WebAssembly; on Lambda in the sharp layer, ` +
        `elsewhere in node_modules: run npm ci), not found in ${files.looked}`,
    );
  }
  const { glue, wasm } = files;
  try {
    const factory = createRequire(glue)(glue) as Factory;
    const module = await WebAssembly.compile(await readFile(wasm));
    return { factory, module };
  } catch (cause) {
    throw new RuntimeLoadError(`HEIC decoder: could not load ${wasm}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * A fresh libheif instance, with memory of its own: dropped after one photo, so the few hundred MB
 * a large photo needs while decoding go back to the process with it (a WebAssembly memory only grows).
 */
export async function libheifInstance(): Promise<Libheif> {
  compiled.pending ??= compile().catch((error: unknown) => {
    compiled.pending = undefined;
    throw error;
  });
  const { factory, module } = await compiled.pending;
  const lib = factory({
    instantiateWasm(imports, ready) {
      const instance = new WebAssembly.Instance(module, imports);
      ready(instance, module);
      return instance.exports;
    },
  });
  await lib.ready;
  return lib;
}
