import path from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * esbuild plugin for the Lambda bundles: zod's `z` namespace re-exports every locale of its error
 * messages (`z.locales`, about 40 languages, a fifth of a detect bundle), which esbuild cannot drop.
 * The pipeline uses none but the English one zod configures itself with (`config(en())` imports
 * locales/en.js directly), so the locales index is swapped for one that exports `en` alone: less
 * code for Node to read and compile on every cold start (bench/lambdaInit.ts measures it).
 */
export function zodEnglishOnly(): Plugin {
  return {
    name: 'zod-english-only',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
        if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
        return { path: path.resolve(path.dirname(args.importer), '../locales/en.js'), namespace: 'zod-english-only' };
      });
      build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
        loader: 'js',
        contents: `export { default as en } from ${JSON.stringify(args.path)};\n`,
        resolveDir: path.dirname(args.path),
      }));
    },
  };
}
