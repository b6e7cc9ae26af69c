import type { ConversionSpec } from './converter';
import { ModelBuildError } from './errors';
import type { ModelRecord } from './record';
import { ints } from './tensor';
import type { TfGraph } from './tfjs-graph';

/** The batch-resize loop's output, and what it resizes (the image cast to float). */
const RESIZE_LOOP_OUTPUT = 'Preprocessor/map/TensorArrayStack/TensorArrayGatherV3';
const RESIZE_LOOP_INPUT = 'ToFloat';
const RESIZE_TARGET = 'Preprocessor/map/while/ResizeImage/stack';

/**
 * How this particular graph is cut for ONNX. The preprocessor maps ResizeBilinear over the batch
 * with a TensorArray while-loop. Our input is fixed at [1, 300, 300, 3] and the loop resizes to the
 * constant in RESIZE_TARGET; when those agree, resizing is the identity (align_corners=false:
 * source = dest * in/out = dest), so the loop's output is its input and the loop is dropped.
 */
export function ssdConversionSpec(graph: TfGraph, record: ModelRecord): ConversionSpec {
  const input = record.onnx.inputs[0];
  if (input === undefined) throw new ModelBuildError('record declares no ONNX input');
  const target = graph.consts.get(RESIZE_TARGET);
  const [, h, w] = input.shape;
  const size = target ? ints(target) : [];
  if (size[0] !== h || size[1] !== w) {
    throw new ModelBuildError(`${RESIZE_TARGET}: expected the loop to resize to ${h}x${w} (the ONNX input), found [${size}]`);
  }
  for (const name of [RESIZE_LOOP_OUTPUT, RESIZE_LOOP_INPUT, record.tfGraph.input]) {
    if (!graph.nodes.has(name)) throw new ModelBuildError(`expected node ${name} in the TF graph, found none`);
  }
  return {
    inputs: { [record.tfGraph.input]: { name: input.name, shape: input.shape } },
    replace: { [RESIZE_LOOP_OUTPUT]: RESIZE_LOOP_INPUT },
    outputs: [record.tfGraph.outputs.scores, record.tfGraph.outputs.boxes],
  };
}
