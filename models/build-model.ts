/**
 * `npm run build:model` — builds layers/model/ssdlite_mobilenet_v2_coco.onnx from the pinned TF.js
 * COCO-SSD graph model and checks it against models/ssdlite_mobilenet_v2_coco.json; then its int8
 * quantization (an option beside the default float model, models/defaultModel.ts; the layer carries both).
 *
 *   --update-record   rewrite the record's sha256/size instead of failing when they differ
 *   --plain --out F   experimental: every Conv wrapped in transposes, no folding (for comparison)
 *   --int8            only the int8 (QDQ) variant, layers/model/ssdlite_mobilenet_v2_coco.int8.onnx,
 *                     checked against the record's int8 section (models/build-int8.ts; --update-record, --out apply)
 */
import { parseArgs } from 'node:util';
import { buildModel } from './build';
import { buildInt8Model } from './build-int8';
import { ModelBuildError } from './errors';

const { values } = parseArgs({
  options: {
    'update-record': { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    int8: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

try {
  if (values.int8) {
    if (values.plain) throw new ModelBuildError('--int8 quantizes the recorded model: it does not combine with --plain');
    await buildInt8Model({ updateRecord: values['update-record'], out: values.out, log: (m) => console.log(m) });
  } else {
    if (values.plain && values.out === undefined)
      throw new ModelBuildError('--plain needs --out <file>: the recorded model is the optimised one');
    buildModel({
      updateRecord: values['update-record'],
      options: values.plain ? { nchwBody: false, foldBatchNorm: false } : undefined,
      out: values.out,
      log: (m) => console.log(m),
    });
    if (!values.plain && values.out === undefined) {
      await buildInt8Model({ updateRecord: values['update-record'], log: (m) => console.log(m) });
    }
  }
} catch (error) {
  if (error instanceof ModelBuildError) {
    console.error(`build:model failed: ${error.message}`);
    process.exitCode = 1;
  } else throw error;
}
