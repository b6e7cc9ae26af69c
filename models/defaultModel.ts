/**
 * Which model the pipeline runs by default: `float` (layers/model/ssdlite_mobilenet_v2_coco.onnx,
 * the conversion itself, faithful to the reference: test/integration/model-faithful.test.ts) or
 * `int8` (layers/model/ssdlite_mobilenet_v2_coco.int8.onnx, faster, with the drift models/README.md
 * states: test/integration/model-int8.test.ts). MODEL_PATH picks either at run time. Defined once,
 * in src/assets/modelPath.ts (with MODEL_FILE_NAME derived from it: the file the runtime looks for and the model layer carries); src/ may not import models/, so the
 * build takes it from there.
 */
export { DEFAULT_MODEL, MODEL_FILES } from '../src/assets/modelPath';
