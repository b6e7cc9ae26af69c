import { imageKey } from '../domain/keys';
import { versionFor } from '../domain/messages';
import { resizeImage } from '../image/resizeImage';
import type { Stage } from './Stage';

/** resize_queue -> resized/<id>.jpg (25 % of each side by default) -> grayscale_queue */
export const resizeStage: Stage<'resize'> = {
  name: 'resize',
  async run(msg, { store, config, wholePhoto, outputMetadata }) {
    const { body } = await store.get(msg.original_path);
    const out = await resizeImage(body, {
      scale: config.resizeScale,
      quality: config.jpegQuality,
      limits: config.limits,
      ...(wholePhoto ? { wholePhoto } : {}),
    });
    const key = imageKey('resized', msg.image_id);
    await store.put(key, out.data, { contentType: 'image/jpeg', ...(outputMetadata ? { metadata: outputMetadata() } : {}) });
    return {
      outputKey: key,
      output: {
        ...versionFor(msg.owner),
        image_id: msg.image_id,
        original_path: msg.original_path,
        request_id: msg.request_id,
        path: key,
        origin_h: out.originHeight,
        origin_w: out.originWidth,
      },
      detail: { bytes: out.data.length, width: out.width, height: out.height },
    };
  },
};
