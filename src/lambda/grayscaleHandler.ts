import type { App } from '../app/createApp';
import { grayscaleStage } from '../stages/grayscaleStage';
import { sqsStageHandler } from './sqsStageHandler';

/**
 * The grayscale stage on its queue, for this app (functions/grayscale, the embedded runtime). One file per
 * stage, so that a function's bundle carries its own stage only (tag's canvas stays out of detect).
 */
export const grayscaleHandler = (app: App) => sqsStageHandler(grayscaleStage, app);
