import type { Detection } from '../../src/domain/messages';

export { iouXywh, type Xywh } from '../../models/faithfulness';

/** A detection's box as [x, y, width, height], the reference file's form. */
export const xywh = (d: Detection): [number, number, number, number] => [d.box.x, d.box.y, d.box.width, d.box.height];
