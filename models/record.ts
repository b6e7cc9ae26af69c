import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RECORD_PATH, REPO_ROOT } from './paths';

export interface TensorContract {
  name: string;
  dtype: 'float32';
  shape: number[];
  meaning: string;
}

/** Shape of models/ssdlite_mobilenet_v2_coco.json, the single source of truth for pins and contract. */
export interface ModelRecord {
  name: string;
  description: string;
  source: {
    package: string;
    version: string;
    integrity: string;
    shasum: string;
    folder: string;
    licence: string;
    repository: string;
  };
  tfGraph: { input: string; outputs: { scores: string; boxes: string }; dropped: string };
  onnx: {
    path: string;
    opset: number;
    inputs: TensorContract[];
    outputs: TensorContract[];
    sha256: string;
    bytes: number;
  };
}

export function readRecord(): ModelRecord {
  return JSON.parse(readFileSync(RECORD_PATH, 'utf8')) as ModelRecord;
}

/** Rewrites only the produced-bytes fields; pins and contract are edited by hand, on purpose. */
export function writeRecordDigest(sha256: string, bytes: number): void {
  const record = readRecord();
  record.onnx.sha256 = sha256;
  record.onnx.bytes = bytes;
  writeFileSync(RECORD_PATH, `${JSON.stringify(record, null, 2)}\n`);
}

/** Absolute path of the .onnx the record describes. */
export function modelPath(record: ModelRecord = readRecord()): string {
  return path.join(REPO_ROOT, record.onnx.path);
}
