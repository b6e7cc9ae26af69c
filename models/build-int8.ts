/**
 * The int8 (QDQ) variant of the model, an option beside the float default (models/defaultModel.ts;
 * its drift against the reference: models/README.md): calibrate the float
 * model on natural photos that are not the accuracy fixtures (models/calibration-photos.json,
 * models/calibrate.ts), rewrite it (models/quantize.ts), write
 * layers/model/ssdlite_mobilenet_v2_coco.int8.onnx and check its sha256 against the `int8` section
 * of models/ssdlite_mobilenet_v2_coco.json.
 *
 *   npm run build:model -- --int8 [--update-record]      or      npx tsx models/build-int8.ts [--update-record]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { calibrate, calibrationImages } from './calibrate';
import { MODEL_FILES } from './defaultModel';
import { ensureFloatModel } from './ensure-float-model';
import { ModelBuildError, RecordMismatchError } from './errors';
import { readCalibrationRecord } from './fetch-calibration';
import { CACHE_DIR, RECORD_PATH, REPO_ROOT } from './paths';
import { quantizeModel, quantPlan } from './quantize';

/** The `int8` section of the provenance record (the rest of the record is models/record.ts's). */
export interface Int8Record {
  path: string;
  description: string;
  /** sha256 of the float model it is made from. */
  from: string;
  calibration: { folder: string; images: { name: string; sha256: string }[] };
  sha256: string;
  bytes: number;
}

type Log = (message: string) => void;

export const INT8_PATH = path.posix.join('layers/model', MODEL_FILES.int8);
const DESCRIPTION =
  'Static post-training quantization (QDQ) of the float model by models/quantize.ts: Conv weights int8 per output channel ' +
  '(symmetric), biases int32 and corrected for the weights rounding, Conv inputs/outputs uint8 per tensor (min/max over the ' +
  'calibration photos: natural photos from Debian opencv-doc, not the accuracy fixtures); box decoding and Sigmoid in float. ' +
  'An option (MODEL_PATH=layers/model/ssdlite_mobilenet_v2_coco.int8.onnx) beside the float default: it moves borderline scores by up to 0.06 (models/README.md)';

function readRecordJson(): Record<string, unknown> & { int8?: Int8Record } {
  return JSON.parse(readFileSync(RECORD_PATH, 'utf8')) as Record<string, unknown> & { int8?: Int8Record };
}

export function readInt8Record(): Int8Record | undefined {
  return readRecordJson().int8;
}

export function int8ModelPath(): string {
  return path.join(REPO_ROOT, readInt8Record()?.path ?? INT8_PATH);
}

/** Where the calibration photos come from, as the record states it. */
function calibrationSource(): string {
  const { debian } = readCalibrationRecord();
  return `debian ${debian.package} ${debian.version}: ${debian.folder} (${debian.licence})`;
}

/** The int8 model's bytes and the facts the record keeps about them, built from the float model. */
export async function quantizedBytes(log: Log = () => {}): Promise<{ bytes: Uint8Array; section: Int8Record }> {
  const floatPath = await ensureFloatModel();
  const floatBytes = readFileSync(floatPath);
  const images = await calibrationImages();
  const plan = quantPlan(floatBytes);
  log(`calibrating ${plan.targets.length} tensors on ${images.length} photos (${images.map((i) => i.name).join(', ')})…`);
  const ranges = await calibrate(floatBytes, plan.targets, images);
  const from = createHash('sha256').update(floatBytes).digest('hex');
  const { bytes, report } = quantizeModel(floatBytes, plan, ranges, {
    metadata: { quantized_from_sha256: from, calibration: images.map((i) => i.name).join(',') },
  });
  log(`quantized ${report.convs} Conv (${report.corrected} bias-corrected), ${report.activations} activation tensors`);
  return {
    bytes,
    section: {
      path: INT8_PATH,
      description: DESCRIPTION,
      from,
      calibration: { folder: calibrationSource(), images: images.map(({ name, sha256 }) => ({ name, sha256 })) },
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    },
  };
}

/**
 * Builds the int8 model and checks it against the record's `int8` section; `updateRecord` writes the
 * section instead of failing on a difference. A differing model is kept in .cache/models/.
 */
export async function buildInt8Model(
  opts: { updateRecord?: boolean; out?: string; log?: Log } = {},
): Promise<{ path: string; sha256: string; bytes: number }> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const { bytes, section } = await quantizedBytes(log);
  const recorded = readInt8Record();
  const matches = recorded?.sha256 === section.sha256 && recorded.bytes === section.bytes;
  const target = opts.out ?? path.join(REPO_ROOT, INT8_PATH);
  const out =
    opts.out !== undefined || matches || opts.updateRecord
      ? target
      : path.join(CACHE_DIR, 'ssdlite_mobilenet_v2_coco.int8.unverified.onnx');
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, out);
  log(
    `wrote ${path.relative(process.cwd(), out) || out} (${(bytes.length / 1e6).toFixed(2)} MB, sha256 ${section.sha256}) ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (opts.out === undefined && !matches) {
    if (opts.updateRecord) {
      const record = readRecordJson();
      record.int8 = section;
      writeFileSync(RECORD_PATH, `${JSON.stringify(record, null, 2)}\n`);
      log(`updated the int8 section of models/ssdlite_mobilenet_v2_coco.json: sha256 ${recorded?.sha256 ?? '(none)'} -> ${section.sha256}`);
    } else {
      throw new RecordMismatchError(
        `built int8 model differs from models/ssdlite_mobilenet_v2_coco.json: expected sha256 ${recorded?.sha256 ?? '(none recorded)'} ` +
          `(${recorded?.bytes ?? 0} bytes), got ${section.sha256} (${section.bytes} bytes); kept it as ${out}. If the quantizer, the ` +
          'float model or the calibration photos changed on purpose, run `npm run build:model -- --int8 --update-record` and commit the record.',
      );
    }
  }
  return { path: out, sha256: section.sha256, bytes: section.bytes };
}

/** The int8 model's path, building it first when it is missing or is not the recorded one. */
export async function ensureInt8Model(log: Log = (m) => process.stderr.write(`${m}\n`)): Promise<string> {
  const recorded = readInt8Record();
  const file = int8ModelPath();
  const ok =
    recorded !== undefined &&
    existsSync(file) &&
    statSync(file).size === recorded.bytes &&
    createHash('sha256').update(readFileSync(file)).digest('hex') === recorded.sha256;
  if (!ok) await buildInt8Model({ log });
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { 'update-record': { type: 'boolean', default: false }, out: { type: 'string' } } });
  try {
    await buildInt8Model({ updateRecord: values['update-record'], out: values.out, log: (m) => console.log(m) });
  } catch (error) {
    if (!(error instanceof ModelBuildError)) throw error;
    console.error(`build:model --int8 failed: ${error.message}`);
    process.exitCode = 1;
  }
}
