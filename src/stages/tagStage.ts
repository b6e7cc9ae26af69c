import { imageKey } from '../domain/keys';
import { drawDetections } from '../image/drawDetections';
import { writeLabelIndex } from '../labels/writeLabelIndex';
import type { Stage } from './Stage';

/** tag_queue -> tagged/<id>.jpg: labelled boxes drawn on the upright original. The last stage. */
export const tagStage: Stage<'tag'> = {
  name: 'tag',
  async run(msg, { store, config, wholePhoto }) {
    const { body } = await store.get(msg.original_path);
    const out = await drawDetections(body, msg.detections, {
      quality: config.jpegQuality,
      limits: config.limits,
      ...(wholePhoto ? { wholePhoto } : {}),
      ...(config.fontPath !== undefined ? { fontPath: config.fontPath } : {}),
    });
    const key = imageKey('tagged', msg.image_id);
    await store.put(key, out.data, { contentType: 'image/jpeg' });
    await writeLabelIndex(store, msg.image_id, msg.detections); // after the tagged image: the index names only tagged photos
    return { outputKey: key, detail: { bytes: out.data.length, width: out.width, height: out.height, detections: msg.detections } };
  },
};
