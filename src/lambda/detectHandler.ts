import type { App } from '../app/createApp';
import { detectStage } from '../stages/detectStage';
import { sqsStageHandler } from './sqsStageHandler';

/**
 * The detect stage on its queue, for this app (functions/detect, the embedded runtime). One file per
 * stage, so that a function's bundle carries its own stage only (tag's canvas stays out of detect).
 */
export const detectHandler = (app: App) => sqsStageHandler(detectStage, app);
