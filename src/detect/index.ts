export { COCO_LABELS, labelForColumn, NUM_CLASSES } from './cocoLabels';
export type { DetectInput, DetectOptions, DetectResult, DetectTimings } from './Detector';
export { detect, detectWithTimings, runModel } from './Detector';
export type { DetectorLoadReason } from './errors';
export { DetectorLoadError } from './errors';
export type { LoadedModel, SessionOptions } from './loadSession';
export { clearSessionCache, loadSession, MODEL_INPUT, MODEL_OUTPUTS } from './loadSession';
export { DEFAULT_MODEL, defaultModelPath, MODEL_FILE_NAME, MODEL_FILES, MODEL_PACKAGE, modelPathCandidates } from './modelPath';
export type { NmsOptions, RawDetections } from './nms';
export { DEFAULT_CLASS_AGNOSTIC, DEFAULT_NMS, iou, nonMaxSuppression, postprocess, toPixelBox } from './nms';
export type { ModelImage, RawImage } from './preprocess';
export {
  assertRawImage,
  DECODE_MARGIN,
  DEFAULT_LIMIT_INPUT_PIXELS,
  decodeForModel,
  decodeImage,
  decodeShrink,
  flattenOnWhite,
  MODEL_SIZE,
  resizeBilinear,
} from './preprocess';
