import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/**
 * The gallery's three source files as text: gallery.html, gallery.css, and gallery.ts compiled
 * for the browser. Run from source (tsx, the embedded runtime) they are read next to this module
 * and the script is compiled with esbuild on first use; in a Lambda bundle this module is replaced
 * by one with the same export and the texts inlined, made at build time by the same function
 * (scripts/package/inlineGalleryFiles.ts), so the bundle reads no file and carries no compiler.
 */
export interface GalleryFiles {
  html: string;
  css: string;
  /** gallery.ts as one classic browser script (an IIFE, type imports erased). */
  script: string;
}

let cached: GalleryFiles | undefined;

export function galleryFiles(): GalleryFiles {
  cached ??= readGalleryFiles();
  return cached;
}

/** Reads and compiles the files; what the build inlines. */
export function readGalleryFiles(): GalleryFiles {
  const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
  return {
    html: readFileSync(here('gallery.html'), 'utf8'),
    css: readFileSync(here('gallery.css'), 'utf8'),
    script: compileGalleryScript(here('gallery.ts')),
  };
}

/**
 * Bundles the browser script with esbuild: for the browser platform, so a slip that imports Node
 * code fails here and not in a visitor's browser. esbuild is a development dependency: only the
 * embedded runtime (run with tsx, which brings esbuild itself) and the build load it.
 */
function compileGalleryScript(entry: string): string {
  const result = buildSync({
    entryPoints: [entry],
    absWorkingDir: path.dirname(entry), // the output names its source relative to this: the same from any cwd
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}
