#!/usr/bin/python3
"""Whole-program tests of rdumap on ONNX models (suite 'onnx').

  onnx_cli.py RDUMAP ONNX_BACKEND SRC models
      The PyTorch-exported models (examples/onnx): each maps, emulates and
      verifies on fabric/sn10.cfg, and its --out matches the output PyTorch
      computed (y.npy) within the language's tolerance.  Its --emit-pat
      program, run on the --emit-data constants and the same input, maps
      to the same cycles and outputs.  Then the errors: an unsupported
      operator, opset and symbolic shape, an int64 that does not fit, a
      file that is no model, a missing file.

  onnx_cli.py RDUMAP ONNX_BACKEND SRC backend TESTDATA
      A representative subset of ONNX's backend suite (one or more cases
      per supported operator family) mapped, emulated and verified on
      sn10 (greedy placement, to keep the run short), each --out compared
      with output_N.pb by onnx_backend --compare.  Exit 77 when the
      testdata package is absent.

Prints "N passed, N failed" and exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

failures = []
passed = 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failures.append(what)
        print(f"FAIL {what}")


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def close(got, want):
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= 1e-5 + 1e-4 * np.abs(want)))


def models(rdumap, src, tmp):
    fabric = os.path.join(src, "fabric", "sn10.cfg")
    # the transformer with the default annealer; the MLP, whose small graph
    # the annealer restarts on for seconds under ASan, placed greedily
    for name, place in (("mlp", ["--place", "greedy"]), ("transformer", [])):
        model = os.path.join(src, "examples", "onnx", name + ".onnx")
        data = os.path.join(src, "examples", "onnx", name)
        out = os.path.join(tmp, name + "_out")
        consts = os.path.join(tmp, name + "_consts")
        os.makedirs(out)
        os.makedirs(consts)
        pat = os.path.join(tmp, name + ".pat")
        j1, j2 = os.path.join(tmp, name + "1.json"), os.path.join(tmp, name + "2.json")
        rc, so, se = run([rdumap, model, "--fabric", fabric, "--data", data, "--out", out, "--json", j1,
                          "--emit-pat", pat, "--emit-data", consts] + place)
        check(rc == 0 and "mapped and verified" in so, f"{name}: maps, emulates and verifies on sn10 (rc {rc}) {se}")
        if rc != 0:
            continue
        got, want = np.load(os.path.join(out, "y.npy")), np.load(os.path.join(data, "y.npy"))
        err = float(np.max(np.abs(got - want)))
        check(close(got, want), f"{name}: rdumap's y matches PyTorch's (max abs err {err:.3g})")
        # the emitted .pat program: same mapping, same cycles, same outputs
        shutil.copy(os.path.join(data, "x.npy"), consts)
        out2 = os.path.join(tmp, name + "_out2")
        os.makedirs(out2)
        rc, so, se = run([rdumap, pat, "--fabric", fabric, "--data", consts, "--out", out2, "--json", j2] + place)
        check(rc == 0, f"{name}: the --emit-pat program maps and verifies (rc {rc}) {se}")
        if rc != 0:
            continue
        with open(j1) as f1, open(j2) as f2:
            r1, r2 = json.load(f1), json.load(f2)
        check(r1["emu"]["cycles"] == r2["emu"]["cycles"] and r1["dfg"] == r2["dfg"],
              f"{name}: --emit-pat maps to the same graph and cycles ({r1['emu']['cycles']} and {r2['emu']['cycles']})")
        check(np.array_equal(np.load(os.path.join(out2, "y.npy")), got), f"{name}: --emit-pat computes the same y")

    tdir = os.path.join(src, "tests", "onnx", "data")
    cases = [
        ("unsupported operator", [os.path.join(tdir, "unsupported.onnx")], 1,
         "node 1 'cosine' (Cos, opset 13): operator Cos is not supported"),
        ("unsupported opset", [os.path.join(tdir, "opset18.onnx")], 1, "opset 18 of the default domain is not supported"),
        ("symbolic shape", [os.path.join(tdir, "symbolic.onnx"), "--interpret"], 1,
         "dimension 0 is symbolic ('N'); fix it with --shape N=SIZE"),
        ("--shape fixes it", [os.path.join(tdir, "symbolic.onnx"), "--shape", "N=3", "--map-only", "--place", "greedy"],
         0, ""),
        ("--shape of an unknown name", [os.path.join(tdir, "symbolic.onnx"), "--shape", "M=3"], 1,
         "no graph input or symbolic dimension called 'M'"),
        ("int64 that does not fit i32", [os.path.join(tdir, "gather64.onnx"), "--data",
                                         os.path.join(tdir, "gather64_big")], 1,
         "element 1 is 5000000000, which does not fit in i32"),
        ("missing model", [os.path.join(tmp, "absent.onnx")], 4, "cannot open"),
    ]
    bad = os.path.join(tmp, "bad.onnx")
    with open(bad, "wb") as f:
        f.write(b"\xff\xff\xff not a protobuf")
    cases.append(("not a model", [bad], 1, "not an ONNX model"))
    for what, args, want_rc, want_msg in cases:
        rc, so, se = run([rdumap] + args)
        check(rc == want_rc and want_msg in se, f"error: {what}: exit {rc}, {se.strip()[:160]}")


BACKEND_SUBSET = [
    # (directory, case): at least one per supported operator family
    ("node", "test_matmul_3d"), ("node", "test_matmul_2d"), ("node", "test_gemm_all_attributes"),
    ("node", "test_gemm_transposeB"), ("node", "test_add_bcast"), ("node", "test_sub_bcast"),
    ("node", "test_mul_bcast"), ("node", "test_div_bcast"), ("node", "test_relu"), ("node", "test_sigmoid"),
    ("node", "test_tanh"), ("node", "test_exp"), ("node", "test_log"), ("node", "test_sqrt"), ("node", "test_erf"),
    ("node", "test_softmax_axis_1"), ("node", "test_softmax_default_axis"), ("node", "test_logsoftmax_axis_1"),
    ("node", "test_layer_normalization_3d_axis1_epsilon"), ("node", "test_reduce_sum_keepdims_random"),
    ("node", "test_reduce_mean_do_not_keepdims_random"), ("node", "test_reduce_max_keepdims_random"),
    ("node", "test_transpose_all_permutations_4"), ("node", "test_reshape_reordered_all_dims"),
    ("node", "test_flatten_axis2"), ("node", "test_unsqueeze_axis_1"), ("node", "test_squeeze"),
    ("node", "test_concat_3d_axis_1"), ("node", "test_slice_neg_steps"), ("node", "test_gather_1"),
    ("node", "test_basic_conv_with_padding"), ("node", "test_conv_with_strides_and_asymmetric_padding"),
    ("pytorch-converted", "test_Conv2d_groups"), ("pytorch-converted", "test_Conv2d_dilated"),
    ("node", "test_maxpool_2d_pads"), ("node", "test_averagepool_2d_pads"),
    ("node", "test_averagepool_2d_pads_count_include_pad"), ("node", "test_globalaveragepool"),
    ("node", "test_batchnorm_example"), ("node", "test_where_example"), ("node", "test_constant"),
    ("node", "test_identity"), ("node", "test_cast_FLOAT_to_DOUBLE"), ("pytorch-converted", "test_Linear"),
    ("pytorch-converted", "test_BatchNorm2d_eval"), ("pytorch-converted", "test_MaxPool2d"),
    # beyond the set
    ("node", "test_split_variable_parts_2d"), ("node", "test_expand_dim_changed"), ("node", "test_tile"),
    ("node", "test_edge_pad"), ("node", "test_reflect_pad"), ("node", "test_depthtospace_crd_mode"),
    ("node", "test_argmax_keepdims_random"), ("node", "test_instancenorm_epsilon"), ("node", "test_tril"),
    ("node", "test_gather_elements_negative_indices"),
]


def backend(rdumap, onnx_backend, src, testdata, tmp):
    if not os.path.isdir(testdata):
        print(f"{testdata} is absent (install libonnx-testdata): skipped")
        sys.exit(77)
    fabric = os.path.join(src, "fabric", "sn10.cfg")
    for sub, case in BACKEND_SUBSET:
        cdir = os.path.join(testdata, sub, case)
        sdir = os.path.join(cdir, "test_data_set_0")
        out = os.path.join(tmp, case)
        os.makedirs(out)
        rc, so, se = run([rdumap, os.path.join(cdir, "model.onnx"), "--fabric", fabric, "--data", sdir, "--out", out,
                          "--place", "greedy"])
        if "FLOAT_to_DOUBLE" in case:
            # a refusal, not a mapping: the error names the node and operator
            check(rc == 1 and "(Cast, opset" in se and "double" in se, f"{case}: refused ({se.strip()[:120]})")
            continue
        if rc != 0:
            check(False, f"{sub}/{case}: rdumap exit {rc}: {se.strip()[:300]}")
            continue
        rc, so, se = run([onnx_backend, "--compare", cdir, sdir, out])
        check(rc == 0, f"{sub}/{case}: mapped, emulated, verified; --out matches output_N.pb {se.strip()[:200]}")


def main():
    rdumap, onnx_backend, src, what = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as tmp:
        if what == "models":
            models(rdumap, src, tmp)
        else:
            backend(rdumap, onnx_backend, src, sys.argv[5], tmp)
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
