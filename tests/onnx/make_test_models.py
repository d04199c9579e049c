#!/usr/bin/python3
"""Make the small hand-built ONNX models of the error tests (with Debian's
python3-onnx; the tests use the committed files and need no onnx module):

    /usr/bin/python3 tests/onnx/make_test_models.py tests/onnx/data

  opset18.onnx     a Relu at opset 18, past the supported range
  unsupported.onnx a Relu and then a Cos (no template): the error names node 1
  symbolic.onnx    an input of shape [N][4] with N symbolic (--shape N=3 fixes it)
  gather64.onnx    Gather with int64 indices from the graph input, and
  gather64_big/    input_0.pb, input_1.pb: an index of 5e9, which does not fit i32
  gather64_ok/     input_0.pb, input_1.pb, output_0.pb: indices that fit
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "opset18", [x], [y])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), os.path.join(out, "opset18.onnx"))

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                           helper.make_node("Cos", ["r"], ["y"], name="cosine")], "unsupported", [x], [y])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "unsupported.onnx"))

    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    ys = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    g = helper.make_graph([helper.make_node("Sigmoid", ["x"], ["y"], name="sig")], "symbolic", [xs], [ys])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "symbolic.onnx"))

    d = helper.make_tensor_value_info("data", TensorProto.FLOAT, [4, 2])
    i = helper.make_tensor_value_info("idx", TensorProto.INT64, [3])
    o = helper.make_tensor_value_info("out", TensorProto.FLOAT, [3, 2])
    g = helper.make_graph([helper.make_node("Gather", ["data", "idx"], ["out"], name="gather", axis=0)],
                          "gather64", [d, i], [o])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "gather64.onnx"))
    data = np.arange(8, dtype=np.float32).reshape(4, 2)
    for name, idx in (("gather64_big", [0, 5000000000, 1]), ("gather64_ok", [3, -1, 0])):
        dd = os.path.join(out, name)
        os.makedirs(dd, exist_ok=True)
        idx = np.array(idx, dtype=np.int64)
        for k, t in enumerate((data, idx)):
            with open(os.path.join(dd, f"input_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(t).SerializeToString())
        if name == "gather64_ok":
            with open(os.path.join(dd, "output_0.pb"), "wb") as f:
                f.write(numpy_helper.from_array(data[idx]).SerializeToString())


if __name__ == "__main__":
    main()
