import { imageKey } from '../domain/keys';
import { unlimited } from '../image/concurrencyLimit';
import { drawDetections } from '../image/drawDetections';
import { writeLabelIndex } from '../labels/writeLabelIndex';
import type { Stage } from './Stage';

/** tag_queue -> tagged/<id>.jpg: labelled boxes drawn on the upright original. The last stage. */
export const tagStage: Stage<'tag'> = {
  name: 'tag',
  async run(msg, { store, config, wholePhoto, outputMetadata }) {
    // The original is read inside the app's whole-photo limit, with its decode: a batch of large
    // photos then holds as many originals as it decodes at once, not every record's bytes while
    // they wait their turn.
    const limit = wholePhoto ?? unlimited;
    const out = await limit(async () => {
      const { body } = await store.get(msg.original_path);
      return drawDetections(body, msg.detections, {
        quality: config.jpegQuality,
        limits: config.limits,
        ...(config.fontPath !== undefined ? { fontPath: config.fontPath } : {}),
      });
    });
    // The label entries before the tagged image: the image (with its record) says the photo is
    // done, and a done photo is always found by its labels.
    await writeLabelIndex(store, { imageId: msg.image_id, owner: msg.owner }, msg.detections);
    const key = imageKey('tagged', msg.image_id);
    await store.put(key, out.data, { contentType: 'image/jpeg', ...(outputMetadata ? { metadata: outputMetadata() } : {}) });
    return {
      outputKey: key,
      detail: { bytes: out.data.length, width: out.width, height: out.height, detections: msg.detections },
    };
  },
};
