import path from 'node:path';
import { layerPackageFile, layerPackageLookupDirs } from './layerPackage';

/** The label font's file name (DejaVu Sans Bold, latin subset, from @fontsource/dejavu-sans). */
export const LABEL_FONT_FILE = 'dejavu-sans-latin-700-normal.woff2';
/** The package the canvas layer carries under `nodejs/node_modules/` (its package.json `main` is the font). */
export const LABEL_FONT_PACKAGE = '@image-pipeline/label-font';
/** Where the repository has the font (a dependency): for the embedded default and serverless-offline. */
export const LABEL_FONT_SOURCE = `@fontsource/dejavu-sans/files/${LABEL_FONT_FILE}`;

export interface FontCandidates {
  /** Files to try, in order. */
  files: string[];
  /** Where the lookup looked, for the error message. */
  looked: string;
}

/**
 * The configured file alone when there is one (FONT_PATH, config.fontPath); else the canvas layer's
 * package found by module resolution (NODE_PATH: `/opt/nodejs/node_modules` on AWS, one folder per
 * layer on MiniStack); else the repository's @fontsource/dejavu-sans.
 */
export function labelFontCandidates(configured?: string): FontCandidates {
  if (configured) return { files: [path.resolve(configured)], looked: `FONT_PATH=${configured}` };
  const files: string[] = [];
  const layer = layerPackageFile(import.meta.url, LABEL_FONT_PACKAGE);
  if (layer) files.push(layer);
  const repo = layerPackageFile(import.meta.url, LABEL_FONT_SOURCE);
  if (repo) files.push(repo);
  const dirs = layerPackageLookupDirs(import.meta.url, LABEL_FONT_PACKAGE).join(', ');
  return {
    files,
    looked: `FONT_PATH (unset), the packages ${LABEL_FONT_PACKAGE} (the canvas layer) and ${LABEL_FONT_SOURCE} in ${dirs}`,
  };
}
