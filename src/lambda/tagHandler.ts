import type { App } from '../app/createApp';
import { tagStage } from '../stages/tagStage';
import { sqsStageHandler } from './sqsStageHandler';

/**
 * The tag stage on its queue, for this app (functions/tag, the embedded runtime). One file per
 * stage, so that a function's bundle carries its own stage only (tag's canvas stays out of detect).
 */
export const tagHandler = (app: App) => sqsStageHandler(tagStage, app);
