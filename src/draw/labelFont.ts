import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GlobalFonts } from '@napi-rs/canvas';
import { RuntimeLoadError } from '../errors';

/**
 * The label font ships with the project (DejaVu Sans Bold from @fontsource/dejavu-sans) instead
 * of being looked up on the system: Lambda has no fonts, and labels must look the same everywhere.
 */
export const LABEL_FONT_FAMILY = 'PipelineLabel';
const FONT_FILE = 'dejavu-sans-latin-700-normal.woff2';

function candidates(): string[] {
  const list: string[] = [];
  if (process.env.FONT_PATH) list.push(process.env.FONT_PATH);
  list.push(`/opt/fonts/${FONT_FILE}`); // the runtime layer on Lambda
  try {
    list.push(createRequire(import.meta.url).resolve(`@fontsource/dejavu-sans/files/${FONT_FILE}`));
  } catch {
    // not installed (bundled function): one of the other places must have it
  }
  return list;
}

let registered = false;
export function ensureLabelFont(): string {
  if (registered) return LABEL_FONT_FAMILY;
  const tried = candidates();
  const found = tried.find((p) => existsSync(p));
  if (!found || !GlobalFonts.registerFromPath(found, LABEL_FONT_FAMILY)) {
    throw new RuntimeLoadError(
      `label font not found or not loadable; looked in: ${tried.join(', ')}. ` +
        'Run `npm ci` (it installs @fontsource/dejavu-sans) or set FONT_PATH to a .woff2/.ttf file.',
    );
  }
  registered = true;
  return LABEL_FONT_FAMILY;
}
