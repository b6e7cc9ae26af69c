/**
 * Which model the pipeline runs by default: `int8` (layers/model/ssdlite_mobilenet_v2_coco.int8.onnx,
 * calibrated on photos that are not the fixtures, within the accuracy contract on them:
 * test/integration/detector-accuracy.test.ts and model-int8.test.ts) or `float`
 * (layers/model/ssdlite_mobilenet_v2_coco.onnx, the conversion itself). MODEL_PATH picks either at
 * run time. Defined once, in src/assets/modelPath.ts (with MODEL_FILE_NAME derived from it: the
 * file the runtime looks for and the model layer carries); src/ may not import models/, so the
 * build takes it from there.
 */
export { DEFAULT_MODEL, MODEL_FILES } from '../src/assets/modelPath';
