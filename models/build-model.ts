/**
 * `npm run build:model` — builds layers/model/ssdlite_mobilenet_v2_coco.onnx from the pinned TF.js
 * COCO-SSD graph model and checks it against models/ssdlite_mobilenet_v2_coco.json.
 *
 *   --update-record   rewrite the record's sha256/size instead of failing when they differ
 *   --plain --out F   experimental: every Conv wrapped in transposes, no folding (for comparison)
 */
import { parseArgs } from 'node:util';
import { buildModel } from './build';
import { ModelBuildError } from './errors';

const { values } = parseArgs({
  options: {
    'update-record': { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

try {
  if (values.plain && values.out === undefined) throw new ModelBuildError('--plain needs --out <file>: the recorded model is the optimised one');
  buildModel({
    updateRecord: values['update-record'],
    options: values.plain ? { nchwBody: false, foldBatchNorm: false } : undefined,
    out: values.out,
    log: (m) => console.log(m),
  });
} catch (error) {
  if (error instanceof ModelBuildError) {
    console.error(`build:model failed: ${error.message}`);
    process.exitCode = 1;
  } else throw error;
}
