/**
 * Builds what serverless.yml packages (run before `sls package`, `sls deploy`, `sls offline` and
 * `sls invoke local`; `npm run build:functions`):
 *
 *   .build/functions/<fn>/handler.js   one esbuild bundle per functions/<fn>/handler.ts (CommonJS,
 *                                      node24, minified) with the native modules left external
 *   layers/<layer>/nodejs/node_modules/...   each Lambda layer's content (layers/<layer>/README.md says
 *                                      what goes in; ignored by git):
 *     sharp        sharp + its linux-x64 binaries, and libheif-js's WebAssembly build (the HEIC decoder)
 *     canvas       @napi-rs/canvas linux-x64-gnu, and @image-pipeline/label-font (the label font)
 *     onnxruntime  onnxruntime-node with only bin/napi-v6/linux/x64
 *     model        @image-pipeline/model (the default ONNX model, float, as its main, and the int8 one beside
 *                  it for MODEL_PATH: both as `npm run build:model` wrote them to layers/model/)
 *   .build/manifest.json               which external modules each function imports (from esbuild's metafile)
 *
 * Why CommonJS: Lambda puts layers on NODE_PATH (/opt/nodejs/node_modules), which `require` honours and
 * ESM `import` does not. `import.meta.url` is defined as the bundle's file URL so code that resolves
 * files next to itself keeps working. Layers keep the big native parts out of every function's zip:
 * onnxruntime-node ships every platform (about 290 MB); its linux-x64 part is about 46 MB. The model
 * and the font are packages too (a package.json whose `main` is the file), so the code finds them by
 * module resolution wherever the runtime put the layer (src/assets/layerPackage.ts).
 */

import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { LABEL_FONT_FILE, LABEL_FONT_PACKAGE, LABEL_FONT_SOURCE } from '../../src/assets/labelFontPath';
import { LIBHEIF_FILES, LIBHEIF_PACKAGE } from '../../src/assets/libheifPath';
import { MODEL_FILE_NAME, MODEL_FILES, MODEL_PACKAGE } from '../../src/assets/modelPath';
import { REPO_ROOT } from '../repoRoot';
import { inlineGalleryFiles } from './inlineGalleryFiles';
import { zodEnglishOnly } from './zodEnglishOnly';

export const BUILD_DIR = path.join(REPO_ROOT, '.build');
/** One folder per Lambda layer (README.md in git; the built nodejs/ folder ignored). */
export const LAYERS_DIR = path.join(REPO_ROOT, 'layers');
const NODE_MODULES = path.join(REPO_ROOT, 'node_modules');

/** Native modules: never bundled, provided by a layer on Lambda (and by node_modules locally). */
export const NATIVE_EXTERNALS = ['sharp', '@napi-rs/canvas', 'onnxruntime-node'] as const;

/** Layer name -> the npm packages it carries (plus their runtime dependencies). */
export const RUNTIME_LAYERS: Record<string, readonly string[]> = {
  // libheif-js: the HEIC decoder (WebAssembly, found by module resolution like the model; src/image/heif).
  sharp: ['sharp', LIBHEIF_PACKAGE],
  canvas: ['@napi-rs/canvas'],
  onnxruntime: ['onnxruntime-node'],
  model: [],
};

/** The repository's default model (MODEL_FILE_NAME: the float one), as `npm run build:model` writes it. */
export const REPO_MODEL_FILE = path.join(LAYERS_DIR, 'model', MODEL_FILE_NAME);
/** The repository's models, default first: the layer carries both, so the other is one MODEL_PATH away on Lambda too. */
export const REPO_MODEL_FILES = [MODEL_FILE_NAME, ...Object.values(MODEL_FILES).filter((f) => f !== MODEL_FILE_NAME)].map((f) =>
  path.join(LAYERS_DIR, 'model', f),
);

/** Layer name -> the data packages it carries: package name, the file that is its `main`, and files beside it. */
function dataPackages(layer: string): Array<{ name: string; file: string; beside?: string[]; description: string }> {
  if (layer === 'canvas') {
    return [
      {
        name: LABEL_FONT_PACKAGE,
        file: path.join(packageDir('@fontsource/dejavu-sans', NODE_MODULES), path.relative('@fontsource/dejavu-sans', LABEL_FONT_SOURCE)),
        description: `The label font ${LABEL_FONT_FILE} (DejaVu Sans Bold, from @fontsource/dejavu-sans)`,
      },
    ];
  }
  if (layer === 'model') {
    const missing = REPO_MODEL_FILES.filter((f) => !existsSync(f)).map((f) => path.relative(REPO_ROOT, f));
    if (missing.length > 0) {
      throw new Error(`the model layer needs ${missing.join(' and ')}, missing: run \`npm run build:model\` first`);
    }
    const [main, ...beside] = REPO_MODEL_FILES as [string, ...string[]];
    return [
      {
        name: MODEL_PACKAGE,
        file: main,
        beside,
        description: `SSDLite MobileNetV2 COCO as ONNX: ${MODEL_FILE_NAME} (the default), and ${beside.map((f) => path.basename(f)).join(', ')} for MODEL_PATH`,
      },
    ];
  }
  return [];
}
/** Platform packages and folders a linux-x64 (glibc) Lambda never loads. */
const FOREIGN_PLATFORM = /(darwin|win32|arm64|arm|musl|wasm|wasi|freebsd|android|ppc64|s390x|riscv|loong|ia32)/;

export interface BuildManifest {
  builtAt: string;
  /** externals: required when the bundle loads; lazyExternals: only by a dynamic import() when used. */
  functions: Record<string, { bundle: string; bytes: number; externals: string[]; lazyExternals: string[] }>;
  layers: Record<string, { dir: string; packages: string[] }>;
}

export function functionNames(): string[] {
  return readdirSync(path.join(REPO_ROOT, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(REPO_ROOT, 'functions', d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

async function bundleFunction(name: string): Promise<BuildManifest['functions'][string]> {
  const outDir = path.join(BUILD_DIR, 'functions', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'handler.js');
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, 'functions', name, 'handler.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    external: [...NATIVE_EXTERNALS],
    // `import.meta.url` in a CommonJS bundle: the bundle's own file URL.
    banner: { js: 'const __import_meta_url = require("url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__import_meta_url' },
    plugins: [inlineGalleryFiles(), zodEnglishOnly()],
  });
  // The repository is "type": "module"; this keeps the bundle CommonJS when run from the repo
  // (sls offline, sls invoke local). On Lambda nothing above it says otherwise.
  writeFileSync(path.join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  return {
    bundle: path.relative(REPO_ROOT, outfile),
    bytes: readFileSync(outfile).length,
    externals: externalsOf(result.metafile, false),
    lazyExternals: externalsOf(result.metafile, true).filter((e) => !externalsOf(result.metafile, false).includes(e)),
  };
}

function externalsOf(meta: Metafile, dynamic: boolean): string[] {
  const found = new Set<string>();
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || (imp.kind === 'dynamic-import') !== dynamic) continue;
      const pkg = NATIVE_EXTERNALS.find((e) => imp.path === e || imp.path.startsWith(`${e}/`));
      if (pkg) found.add(pkg);
    }
  }
  return [...found].sort();
}

/** The installed folder of package `name` as Node would find it from folder `from` (exports maps aside). */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.basename(dir) === 'node_modules' && existsSync(path.join(path.dirname(dir), 'node_modules', name, 'package.json'))) {
      return path.join(path.dirname(dir), 'node_modules', name);
    }
    if (path.dirname(dir) === dir) throw new Error(`package ${name} is not installed (looked up from ${from}); run npm ci`);
  }
}

function readJson(file: string): { name?: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The package and its runtime dependency closure, with only linux-x64 optional (platform) packages. */
function closure(roots: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (name: string, from: string) => {
    if (out.has(name)) return;
    const dir = packageDir(name, from);
    out.set(name, dir);
    const pkg = readJson(path.join(dir, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      // onnxruntime-node's adm-zip and global-agent serve only its install script.
      if (name === 'onnxruntime-node' && dep !== 'onnxruntime-common') continue;
      visit(dep, dir);
    }
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
      if (FOREIGN_PLATFORM.test(dep)) continue;
      try {
        packageDir(dep, dir);
      } catch {
        continue; // not installed here
      }
      visit(dep, dir);
    }
  };
  for (const root of roots) visit(root, NODE_MODULES);
  return out;
}

function copyPackage(name: string, from: string, toNodeModules: string): void {
  const to = path.join(toNodeModules, name);
  cpSync(from, to, {
    recursive: true,
    dereference: true,
    filter: (src) => {
      const rel = path.relative(from, src);
      if (rel === '') return true;
      const parts = rel.split(path.sep);
      if (parts[0] === 'node_modules') return false; // nested deps come from the closure
      if (/\.(map|md|ts|mts|cts)$/.test(src)) return false; // source maps, docs, TypeScript sources and types
      // Of libheif-js, the WebAssembly build the decoder loads: not its asm.js build (3 MB) nor the bundled copies.
      if (name === LIBHEIF_PACKAGE) {
        return (
          ['package.json', 'LICENSE', 'libheif-wasm'].includes(rel) ||
          (LIBHEIF_FILES as readonly string[]).includes(rel.split(path.sep).join('/'))
        );
      }
      if (name === 'onnxruntime-node') {
        if (['lib', 'script'].includes(parts[0]!)) return false;
        if (parts[0] === 'bin' && parts.length >= 3 && parts[2] !== 'linux') return false;
        if (parts[0] === 'bin' && parts.length >= 4 && parts[3] !== 'x64') return false;
      }
      return true;
    },
  });
}

function buildLayer(layer: string, roots: readonly string[]): BuildManifest['layers'][string] {
  const dir = path.join(LAYERS_DIR, layer);
  rmSync(path.join(dir, 'nodejs'), { recursive: true, force: true });
  const nm = path.join(dir, 'nodejs', 'node_modules');
  mkdirSync(nm, { recursive: true });
  const packages = closure(roots);
  for (const [name, from] of packages) copyPackage(name, from, nm);
  const names = [...packages.keys()];
  for (const data of dataPackages(layer)) {
    const to = path.join(nm, data.name);
    mkdirSync(to, { recursive: true });
    for (const file of [data.file, ...(data.beside ?? [])]) copyFileSync(file, path.join(to, path.basename(file)));
    const pkg = { name: data.name, version: '0.0.0', private: true, description: data.description, main: path.basename(data.file) };
    writeFileSync(path.join(to, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    names.push(data.name);
  }
  return { dir: path.relative(REPO_ROOT, dir), packages: names.sort() };
}

export interface BuildOptions {
  /** Assemble the native layers too (packaging); `sls offline` needs only the bundles. Default true. */
  layers?: boolean;
  log?: (line: string) => void;
}

export async function buildFunctions(options: BuildOptions = {}): Promise<BuildManifest> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const started = Date.now();
  const manifest: BuildManifest = { builtAt: new Date().toISOString(), functions: {}, layers: {} };
  const names = functionNames();
  const bundles = await Promise.all(names.map((name) => bundleFunction(name)));
  for (const [i, name] of names.entries()) manifest.functions[name] = bundles[i]!;
  if (options.layers ?? true) {
    for (const [layer, roots] of Object.entries(RUNTIME_LAYERS)) manifest.layers[layer] = buildLayer(layer, roots);
  }
  // The manifest describes a complete build (what `sls package` zips); a bundles-only build leaves it.
  if (options.layers ?? true) writeFileSync(path.join(BUILD_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const fns = Object.entries(manifest.functions)
    .map(
      ([n, f]) =>
        `${n} ${(f.bytes / 1e6).toFixed(1)} MB [${[...f.externals, ...f.lazyExternals.map((e) => `${e} (lazy)`)].join(', ') || 'no natives'}]`,
    )
    .join('; ');
  log(
    `[build] functions bundled${(options.layers ?? true) ? ' and layers assembled' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${fns}`,
  );
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildFunctions().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
