import { imageKey } from '../domain/keys';
import { versionFor } from '../domain/messages';
import { grayscaleImage } from '../image/grayscaleImage';
import type { Stage } from './Stage';

/** grayscale_queue -> grayscale/<id>.jpg (of the resized copy) -> objectdetect_queue */
export const grayscaleStage: Stage<'grayscale'> = {
  name: 'grayscale',
  async run(msg, { store, config, outputMetadata }) {
    const { body } = await store.get(msg.path);
    const out = await grayscaleImage(body, { quality: config.jpegQuality, limits: config.limits });
    const key = imageKey('grayscale', msg.image_id);
    await store.put(key, out.data, { contentType: 'image/jpeg', ...(outputMetadata ? { metadata: outputMetadata() } : {}) });
    return {
      outputKey: key,
      output: {
        ...versionFor(msg.owner),
        image_id: msg.image_id,
        original_path: msg.original_path,
        request_id: msg.request_id,
        path: key,
        resized_path: msg.path,
        origin_h: msg.origin_h,
        origin_w: msg.origin_w,
      },
      detail: { bytes: out.data.length, width: out.width, height: out.height },
    };
  },
};
