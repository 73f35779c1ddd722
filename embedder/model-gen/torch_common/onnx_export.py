"""Writing a PyTorch tower as ONNX the way published exports have it."""

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

OPSET = 14


class Tower(torch.nn.Module):
    """One tower under the attribute name it has in the whole model (text_model, vision_model), so that
    the exported initialisers and nodes keep the whole model's names (text_model.token_embedding.weight,
    /text_model/layers.0/...), as Hugging Face's XTextModel / XVisionModel exports have them."""

    def __init__(self, name, tower):
        super().__init__()
        self.name = name
        setattr(self, name, tower)

    def forward(self, x):
        return getattr(self, self.name)(x)


def export_onnx(module, example_inputs, path, input_names, output_names, dynamic_axes=None):
    """torch.onnx.export at opset 14 with constant folding, as every exporter here writes its graphs."""
    torch.onnx.export(module, example_inputs, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)


def token_table_to_float16(path, table_name):
    """Rewrites the ONNX file at `path`: the initialiser `table_name` (the token embedding table, most of a
    small model's bytes) stored as float16, with a Cast to float32 right after the Gather that reads it.
    A PyTorch model checked against the file must read the same rounded values (round_to_float16_)."""
    model = onnx.load(path)
    graph = model.graph
    table = next(t for t in graph.initializer if t.name == table_name)
    table.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(table).astype(np.float16), table_name))
    for index, node in enumerate(list(graph.node)):
        if node.op_type == 'Gather' and node.input[0] == table_name:
            rows = node.output[0]
            node.output[0] = f'{rows}_float16'
            graph.node.insert(index + 1, helper.make_node('Cast', [node.output[0]], [rows], to=TensorProto.FLOAT, name=f'{node.name}_to_float32'))
            break
    else:
        raise RuntimeError(f'no Gather reads {table_name}')
    onnx.checker.check_model(model)
    onnx.save(model, path)


@torch.no_grad()
def round_to_float16_(weight):
    """The PyTorch side of token_table_to_float16: the weight's values rounded to float16, kept as float32."""
    weight.copy_(weight.half().float())
