import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Data files shipped in Lambda layers as packages under `nodejs/node_modules/` (the model, the label
 * font), found by Node's module resolution from the calling file: its node_modules ancestors, then
 * NODE_PATH — where every Lambda runtime puts its layers' `nodejs/node_modules` (on AWS
 * `/opt/nodejs/node_modules`; on MiniStack one extracted folder per layer). A package's `main` is its file.
 */
function requireFrom(moduleUrl: string): NodeJS.Require {
  // A CommonJS bundle defines import.meta.url as its own file URL (scripts/package/build-functions.ts).
  return createRequire(typeof moduleUrl === 'string' && moduleUrl.startsWith('file:') ? moduleUrl : path.join(process.cwd(), 'index.js'));
}

/** The file a layer package points at (its `main`), or undefined when no folder on the lookup path has it. */
export function layerPackageFile(moduleUrl: string, packageName: string): string | undefined {
  try {
    return requireFrom(moduleUrl).resolve(packageName);
  } catch {
    return undefined;
  }
}

/** The folders module resolution looks in for the package, NODE_PATH's included (for error messages). */
export function layerPackageLookupDirs(moduleUrl: string, packageName: string): string[] {
  return requireFrom(moduleUrl).resolve.paths(packageName) ?? [];
}

/** A path in the repository resolved from a source file's URL, or undefined when the URL is not a file URL. */
export function repoPathFromSource(moduleUrl: string, ...segments: string[]): string | undefined {
  try {
    if (typeof moduleUrl !== 'string' || !moduleUrl.startsWith('file:')) return undefined;
    return path.resolve(path.dirname(fileURLToPath(moduleUrl)), ...segments);
  } catch {
    return undefined;
  }
}
