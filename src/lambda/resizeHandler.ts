import type { App } from '../app/createApp';
import { resizeStage } from '../stages/resizeStage';
import { sqsStageHandler } from './sqsStageHandler';

/**
 * The resize stage on its queue, for this app (functions/resize, the embedded runtime). One file per
 * stage, so that a function's bundle carries its own stage only (tag's canvas stays out of detect).
 */
export const resizeHandler = (app: App) => sqsStageHandler(resizeStage, app);
