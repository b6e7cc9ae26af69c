import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { packagedTemplate } from '../../scripts/infra/packagedTemplate';
import { type BuildManifest, REPO_MODEL_FILE } from '../../scripts/package/build-functions';
import { REPO_ROOT } from '../../scripts/repoRoot';

/**
 * `sls package` (osls) with dummy credentials and no network, then the AWS limits on what it made:
 * each function zip + its layers under 250 MB unzipped, each zip under 50 MB, no foreign-platform
 * onnxruntime binaries anywhere, and every native module a bundle loads provided by one of its layers.
 * Reuses .serverless/ when it is newer than its inputs (scripts/infra/packagedTemplate.ts).
 */
const OUT = path.join(REPO_ROOT, '.serverless');
const MB = 1024 * 1024;
const FOREIGN = /(darwin|win32|arm64)/;

interface Entry {
  name: string;
  size: number;
}

/** Entries of a zip and their unzipped sizes (`unzip -l`). */
function zipEntries(zip: string): Entry[] {
  const out = execFileSync('unzip', ['-l', zip], { encoding: 'utf8', maxBuffer: 64 * MB });
  const entries: Entry[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+\d{4}-\d\d-\d\d\s+\d\d:\d\d\s+(.+)$/.exec(line);
    if (m) entries.push({ size: Number(m[1]), name: m[2]! });
  }
  return entries;
}

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

describe('AWS packaging (sls package, offline)', { timeout: 300_000 }, () => {
  let template: Template;
  let manifest: BuildManifest;

  before(async () => {
    // The same packaging the infrastructure checks read (rebuilt only when an input is newer).
    const state = await packagedTemplate();
    const manifestFile = path.join(REPO_ROOT, '.build', 'manifest.json');
    template = JSON.parse(readFileSync(state, 'utf8')) as Template;
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BuildManifest;
  });

  it('keeps every function and its layers within the Lambda limits, with only linux-x64 natives', () => {
    const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    assert.ok(functions.length >= 5, 'five stage functions (and the api)');
    const report: string[] = [];
    const unzippedOf = new Map<string, number>();
    const zipOf = (file: string) => {
      const zip = path.join(OUT, file);
      assert.ok(existsSync(zip), `${file} in .serverless/`);
      const zipped = statSync(zip).size;
      assert.ok(zipped < 50 * MB, `${file}: ${(zipped / MB).toFixed(1)} MB zipped, expected < 50 MB`);
      const entries = zipEntries(zip);
      const foreign = entries.filter(
        (e) => /onnxruntime/.test(e.name) && /\.(node|so(\.\d+)*|dylib|dll)$/.test(e.name) && FOREIGN.test(e.name),
      );
      assert.deepEqual(
        foreign.map((e) => e.name),
        [],
        `${file}: onnxruntime binaries for other platforms`,
      );
      const anyForeignNative = entries.filter((e) => /\.(node|dylib|dll)$/.test(e.name) && FOREIGN.test(e.name));
      assert.deepEqual(
        anyForeignNative.map((e) => e.name),
        [],
        `${file}: native binaries for other platforms`,
      );
      const unzipped = entries.reduce((n, e) => n + e.size, 0);
      unzippedOf.set(file, unzipped);
      return { zipped, unzipped };
    };
    const layerFile = (logicalId: string) => {
      const key = (template.Resources[logicalId]!.Properties.Content as { S3Key: string }).S3Key;
      return path.basename(key);
    };
    for (const [logicalId, fn] of functions) {
      const props = fn.Properties as { FunctionName: string; Code: { S3Key: string }; Layers?: Array<{ Ref: string }> };
      const own = zipOf(path.basename(props.Code.S3Key));
      const layers = (props.Layers ?? []).map((l) => layerFile(l.Ref));
      assert.ok(layers.length <= 5, `${logicalId}: at most 5 layers`);
      const layerSizes = layers.map((l) => zipOf(l));
      const total = own.unzipped + layerSizes.reduce((n, l) => n + l.unzipped, 0);
      assert.ok(total < 250 * MB, `${props.FunctionName}: ${(total / MB).toFixed(1)} MB unzipped with its layers, expected < 250 MB`);
      report.push(
        `${props.FunctionName}: zip ${(own.zipped / MB).toFixed(2)} MB / ${(own.unzipped / MB).toFixed(2)} MB unzipped; ` +
          `with layers [${layers.join(', ')}] ${(total / MB).toFixed(1)} MB unzipped`,
      );
    }
    for (const [file, size] of unzippedOf)
      if (!file.match(/^(api|upload|ingest|resize|grayscale|detect|tag)\.zip$/))
        report.push(
          `layer ${file}: ${(statSync(path.join(OUT, file)).size / MB).toFixed(1)} MB zipped / ${(size / MB).toFixed(1)} MB unzipped`,
        );
    process.stderr.write(`# ${report.join('\n# ')}\n`);
  });

  it('gives each function a layer for every native module its bundle loads', () => {
    const providers: Record<string, string> = {
      sharp: 'SharpLambdaLayer',
      '@napi-rs/canvas': 'CanvasLambdaLayer',
      'onnxruntime-node': 'OnnxruntimeLambdaLayer',
    };
    for (const [name, fn] of Object.entries(manifest.functions)) {
      const resource = Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && (r.Properties as { FunctionName: string }).FunctionName.endsWith(`-${name}`),
      );
      assert.ok(resource, `function ${name} in the template`);
      const layers = ((resource.Properties as { Layers?: Array<{ Ref: string }> }).Layers ?? []).map((l) => l.Ref);
      for (const ext of fn.externals) assert.ok(layers.includes(providers[ext]!), `${name} loads ${ext} at start: needs ${providers[ext]}`);
      if (name === 'detect') {
        assert.ok(layers.includes('OnnxruntimeLambdaLayer') && layers.includes('ModelLambdaLayer'), 'detect has onnxruntime and the model');
      } else {
        assert.ok(
          !layers.includes('OnnxruntimeLambdaLayer'),
          `${name} does not carry onnxruntime (it imports it lazily, only detect runs it)`,
        );
      }
    }
  });

  for (const layout of ['merged into /opt, as on AWS', 'one folder per layer, as on MiniStack'] as const) {
    it(`runs the detect and tag bundles from their zips with only their layers on NODE_PATH, the HEIC decoder from the sharp layer (${layout})`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lambda-sim-'));
      try {
        const unzip = (file: string, to: string) => execFileSync('unzip', ['-q', '-o', path.join(OUT, file), '-d', path.join(dir, to)]);
        for (const f of ['detect', 'tag']) unzip(`${f}.zip`, `task-${f}`);
        const layers = ['sharp', 'canvas', 'onnxruntime', 'model'];
        const layerDirs = layout.startsWith('merged') ? ['opt'] : layers.map((l) => `layer-${l}`);
        for (const [i, l] of layers.entries()) unzip(`${l}.zip`, layerDirs[Math.min(i, layerDirs.length - 1)]!);
        // The model and the font are found as the code finds them: module resolution of their packages.
        const script = `
          const d = require('./task-detect/.build/functions/detect/handler.js');
          const t = require('./task-tag/.build/functions/tag/handler.js');
          if (typeof d.handler !== 'function' || typeof t.handler !== 'function') throw new Error('no handler');
          const ort = require('onnxruntime-node');
          const font = require.resolve('@image-pipeline/label-font');
          require('@napi-rs/canvas').GlobalFonts.registerFromPath(font, 'x') || (() => { throw new Error('font ' + font) })();
          const { basename, dirname, join } = require('path');
          const heif = require.resolve('libheif-js/libheif-wasm/libheif.wasm');
          if (!heif.includes(${JSON.stringify(layout.startsWith('merged') ? 'opt' : 'layer-sharp')})) throw new Error('HEIC decoder not from the sharp layer: ' + heif);
          new WebAssembly.Module(require('fs').readFileSync(heif));
          const model = require.resolve('@image-pipeline/model');
          const int8 = join(dirname(model), 'ssdlite_mobilenet_v2_coco.int8.onnx');
          ort.InferenceSession.create(model).then((s) =>
            console.log(JSON.stringify([s.inputNames, basename(model), require('fs').statSync(model).size, require('fs').statSync(int8).size])));`;
        const out = execFileSync(process.execPath, ['-e', script], {
          cwd: dir,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            // What Lambda sets: the defaults are then the AWS adapters (each bundle builds its app at load).
            AWS_LAMBDA_FUNCTION_NAME: 'detect',
            AWS_REGION: 'us-east-1',
            NODE_PATH: layerDirs.map((l) => path.join(dir, l, 'nodejs', 'node_modules')).join(path.delimiter),
          },
        });
        // The layer's package has the default model (the float one) as its main, and the int8 one
        // beside it for MODEL_PATH, each the size of the one npm run build:model wrote.
        assert.deepEqual(JSON.parse(out.trim()), [
          ['image'],
          'ssdlite_mobilenet_v2_coco.onnx',
          statSync(REPO_MODEL_FILE).size,
          statSync(path.join(REPO_ROOT, 'layers/model/ssdlite_mobilenet_v2_coco.int8.onnx')).size,
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
