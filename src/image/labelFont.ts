import { existsSync } from 'node:fs';
import { GlobalFonts } from '@napi-rs/canvas';
import { LABEL_FONT_PACKAGE, labelFontCandidates } from '../assets/labelFontPath';
import { RuntimeLoadError } from '../errors';

/**
 * The label font ships with the project (DejaVu Sans Bold from @fontsource/dejavu-sans) instead
 * of being looked up on the system: Lambda has no fonts, and labels must look the same everywhere.
 */
export const LABEL_FONT_FAMILY = 'PipelineLabel';

let registered = false;
/**
 * Registers the label font once per process, from `fontPath` (FONT_PATH) when given, else from the
 * canvas layer or the repository; later calls find it registered, whatever path they give.
 */
export function ensureLabelFont(fontPath?: string): string {
  if (registered) return LABEL_FONT_FAMILY;
  const { files, looked } = labelFontCandidates(fontPath);
  const found = files.find((p) => existsSync(p));
  if (!found || !GlobalFonts.registerFromPath(found, LABEL_FONT_FAMILY)) {
    throw new RuntimeLoadError(
      `label font ${found ? `${found} is not loadable` : 'not found'}; looked in: ${looked}. ` +
        `On Lambda attach the canvas layer (\`npm run build:functions\` puts the package ${LABEL_FONT_PACKAGE} in layers/canvas/nodejs/node_modules/); ` +
        'in the repository run `npm ci` (it installs @fontsource/dejavu-sans); or set FONT_PATH to a .woff2/.ttf file.',
    );
  }
  registered = true;
  return LABEL_FONT_FAMILY;
}
