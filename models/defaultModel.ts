/**
 * Which model the pipeline runs by default: `int8` (layers/model/ssdlite_mobilenet_v2_coco.int8.onnx,
 * calibrated on photos that are not the fixtures, within the accuracy contract on them:
 * test/integration/detector-accuracy.test.ts and model-int8.test.ts) or `float`
 * (layers/model/ssdlite_mobilenet_v2_coco.onnx, the conversion itself). MODEL_PATH picks either at
 * run time; this constant, and MODEL_FILE_NAME in src/detect/modelPath.ts, are the build-time default.
 */
export const DEFAULT_MODEL: 'int8' | 'float' = 'int8';
