#!/usr/bin/python3
"""Make small ONNX test cases for the version-dependent semantics of the
supported operators (with Debian's python3-onnx; the expected outputs are
computed here with numpy).  Each case is a directory in ONNX's backend
layout, model.onnx and test_data_set_0/{input_N.pb, output_N.pb}, that
tests/onnx/onnx_backend runs like the backend suite's:

    /usr/bin/python3 tests/onnx/make_opset_cases.py tests/onnx/data/opsets

The cases are committed; the tests need no onnx module.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
OUT = None


def tensor_type(a):
    return {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
            np.dtype(np.int32): TensorProto.INT32, np.dtype(np.bool_): TensorProto.BOOL}[a.dtype]


def case(name, opset, nodes, inputs, outputs, inits=(), check=True):
    """inputs, outputs: lists of (name, array); inits: (name, array) constants."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, tensor_type(a), list(a.shape)) for n, a in inputs],
        [helper.make_tensor_value_info(n, tensor_type(a), list(a.shape)) for n, a in outputs],
        [numpy_helper.from_array(a, n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7 if opset < 15 else 8
    if check:
        onnx.checker.check_model(model)
    d = os.path.join(OUT, name)
    s = os.path.join(d, "test_data_set_0")
    os.makedirs(s, exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for k, (_, a) in enumerate(inputs):
        with open(os.path.join(s, f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a).SerializeToString())
    for k, (_, a) in enumerate(outputs):
        with open(os.path.join(s, f"output_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a).SerializeToString())


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def softmax_2d(x, axis):
    n = int(np.prod(x.shape[:axis]))
    m = x.reshape(n, -1)
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape).astype(np.float32)


def main():
    global OUT
    OUT = sys.argv[1]
    x = f32(2, 3, 4)
    # Softmax before 13: the input is a matrix from `axis` (default 1) on
    case("softmax_opset11_axis1", 11, [helper.make_node("Softmax", ["x"], ["y"], axis=1)],
         [("x", x)], [("y", softmax_2d(x, 1))])
    case("softmax_opset1_default", 1, [helper.make_node("Softmax", ["x"], ["y"])],
         [("x", x)], [("y", softmax_2d(x, 1))])
    # from 13: over one axis
    e = np.exp(x - x.max(axis=1, keepdims=True))
    case("softmax_opset13_axis1", 13, [helper.make_node("Softmax", ["x"], ["y"], axis=1)],
         [("x", x)], [("y", (e / e.sum(axis=1, keepdims=True)).astype(np.float32))])
    case("logsoftmax_opset11_default", 11, [helper.make_node("LogSoftmax", ["x"], ["y"])],
         [("x", x)], [("y", np.log(softmax_2d(x, 1)).astype(np.float32))])
    # Slice: attributes before 10
    case("slice_opset9_attrs", 9, [helper.make_node("Slice", ["x"], ["y"], starts=[1, -3], ends=[2, 100], axes=[1, 2])],
         [("x", x)], [("y", x[:, 1:2, -3:])])
    # Reshape: the shape an attribute in opset 1 (the checker of onnx 1.12 does not know it)
    case("reshape_opset1_attr", 1, [helper.make_node("Reshape", ["x"], ["y"], shape=[4, 6])],
         [("x", x)], [("y", x.reshape(4, 6))], check=False)
    # Squeeze, Unsqueeze: axes attributes before 13
    x1 = f32(3, 1, 4)
    case("squeeze_opset11_attr", 11, [helper.make_node("Squeeze", ["x"], ["y"], axes=[1])],
         [("x", x1)], [("y", x1.reshape(3, 4))])
    case("unsqueeze_opset11_attr", 11, [helper.make_node("Unsqueeze", ["x"], ["y"], axes=[0, -1])],
         [("x", x)], [("y", x.reshape(1, 2, 3, 4, 1))])
    # ReduceSum: axes an attribute before 13; ReduceMean keepdims
    case("reducesum_opset11_attr", 11, [helper.make_node("ReduceSum", ["x"], ["y"], axes=[0, 2], keepdims=0)],
         [("x", x)], [("y", x.sum(axis=(0, 2)).astype(np.float32))])
    case("reducemean_opset1", 1, [helper.make_node("ReduceMean", ["x"], ["y"], axes=[-1])],
         [("x", x)], [("y", x.mean(axis=-1, keepdims=True).astype(np.float32))])
    # Add before 7: broadcast = 1 with an axis aligns B at that axis
    b = f32(3)
    case("add_opset6_legacy_axis", 6, [helper.make_node("Add", ["x", "b"], ["y"], broadcast=1, axis=1)],
         [("x", x), ("b", b)], [("y", x + b.reshape(1, 3, 1))])
    b2 = f32(4)
    case("mul_opset6_legacy_suffix", 6, [helper.make_node("Mul", ["x", "b"], ["y"], broadcast=1)],
         [("x", x), ("b", b2)], [("y", x * b2)])
    # Gemm before 7 (broadcast attribute) and from 11 (C optional)
    A, B, C = f32(3, 5), f32(4, 5), f32(4)
    case("gemm_opset6_broadcast", 6, [helper.make_node("Gemm", ["A", "B", "C"], ["y"], transB=1, alpha=0.5, beta=2.0,
                                                       broadcast=1)],
         [("A", A), ("B", B), ("C", C)], [("y", (0.5 * A @ B.T + 2.0 * C).astype(np.float32))])
    case("gemm_opset11_no_c", 11, [helper.make_node("Gemm", ["A", "B"], ["y"], transB=1)],
         [("A", A), ("B", B)], [("y", (A @ B.T).astype(np.float32))])
    # Clip: bounds attributes before 11, inputs from 11
    case("clip_opset6_attrs", 6, [helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=0.25)],
         [("x", x)], [("y", np.clip(x, -0.5, 0.25))])
    case("clip_opset13_inputs", 13, [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])],
         [("x", x)], [("y", np.clip(x, -0.5, 0.25))],
         inits=[("lo", np.array(-0.5, np.float32)), ("hi", np.array(0.25, np.float32))])
    # Cast: `to` a string before 6
    case("cast_opset1_string_to", 1, [helper.make_node("Cast", ["x"], ["y"], to="INT32")],
         [("x", x * 4)], [("y", (x * 4).astype(np.int32))], check=False)
    # Split: sizes an attribute before 13, an input from 13
    case("split_opset11_attr", 11, [helper.make_node("Split", ["x"], ["a", "b"], axis=2, split=[1, 3])],
         [("x", x)], [("a", x[:, :, :1]), ("b", x[:, :, 1:])])
    case("split_opset13_input", 13, [helper.make_node("Split", ["x", "s"], ["a", "b"], axis=2)],
         [("x", x)], [("a", x[:, :, :1]), ("b", x[:, :, 1:])], inits=[("s", np.array([1, 3], np.int64))])
    # Pad: pads and value attributes before 11
    x2 = f32(2, 3)
    case("pad_opset2_attrs", 2, [helper.make_node("Pad", ["x"], ["y"], pads=[0, 1, 1, 2], value=1.5)],
         [("x", x2)], [("y", np.pad(x2, ((0, 1), (1, 2)), constant_values=1.5))])
    # BatchNormalization before 7 (is_test, spatial) and Dropout before 7 (is_test)
    xb = f32(2, 3, 2, 2)
    sc, bb, mu, var = f32(3), f32(3), f32(3), np.abs(f32(3)) + 0.5
    ref = ((xb - mu.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5) * sc.reshape(1, 3, 1, 1)
           + bb.reshape(1, 3, 1, 1)).astype(np.float32)
    case("batchnorm_opset6_is_test", 6, [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                                                          is_test=1, spatial=1, epsilon=1e-5)],
         [("x", xb)], [("y", ref)], inits=[("s", sc), ("b", bb), ("m", mu), ("v", var)])
    case("dropout_opset6_is_test", 6, [helper.make_node("Dropout", ["x"], ["y"], is_test=1, ratio=0.3)],
         [("x", x)], [("y", x)])
    # MaxPool: ceil_mode from 10 (the output grows by one window)
    xp = f32(1, 1, 5, 5)
    mp = np.array([[[[xp[0, 0, i * 2:i * 2 + 2, j * 2:j * 2 + 2].max() for j in range(3)] for i in range(3)]]],
                  np.float32)
    case("maxpool_opset10_ceil", 10, [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2],
                                                       ceil_mode=1)],
         [("x", xp)], [("y", mp)])
    # Concat: axis optional (default 1) in opset 1
    case("concat_opset1_default_axis", 1, [helper.make_node("Concat", ["x", "z"], ["y"])],
         [("x", x), ("z", x[:, :2])], [("y", np.concatenate([x, x[:, :2]], axis=1))], check=False)
    print(f"cases written to {OUT}")


if __name__ == "__main__":
    main()
