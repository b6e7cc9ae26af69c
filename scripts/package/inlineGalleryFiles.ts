import type { Plugin } from 'esbuild';
import { readGalleryFiles } from '../../src/web/galleryFiles';

/**
 * esbuild plugin for the Lambda bundles: src/web/galleryFiles.ts reads the gallery's HTML, CSS and
 * script next to itself and compiles the script on first use, which a bundle cannot (no source
 * files beside it, no compiler in it). This swaps that module for one exporting the same functions
 * with the texts inlined, made now by the module's own reader, so the page is the same both ways.
 */
export function inlineGalleryFiles(): Plugin {
  return {
    name: 'inline-gallery-files',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]web[\\/]galleryFiles\.ts$/ }, () => {
        const files = JSON.stringify(readGalleryFiles());
        return {
          loader: 'js',
          contents: `const files = ${files};\nexport function galleryFiles() { return files; }\nexport function readGalleryFiles() { return files; }\n`,
        };
      });
    },
  };
}
