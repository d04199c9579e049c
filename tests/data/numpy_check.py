#!/usr/bin/python3
"""numpy_check.py — cross-check rdumap's interpreter and .npy I/O with numpy.

Usage: numpy_check.py RDUMAP EXAMPLES_DIR [NAME ...]

For each example: generate its inputs with numpy (respecting the ranges its
declarations give), save them as .npy files (a few in format versions 2.0
and 3.0, to exercise the reader), run

    RDUMAP EXAMPLES_DIR/NAME.pat --interpret --data DATA --out OUT

and compare every OUT/*.npy with numpy's own computation of the model, in
float64, with the language contract's tolerance:
|got - want| <= 1e-5 + 1e-4 * |want| for f32, exact for i32.

Where a long f32 reduction would make the interpreter's rounding (one
sequential sum in binary32) differ from a float64 reference by more than
that tolerance, the inputs are quantised to multiples of 1/8 (or 1/16), so
that every product and partial sum is exact in binary32 in any order: then
agreement is exact and any difference is a semantic bug, not rounding.

Exit status: 0 all agree, 1 a mismatch or a failed run, 77 numpy missing
(meson's "skipped").
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # pragma: no cover
    print("numpy is not installed: skipping")
    sys.exit(77)

f32, i32 = np.float32, np.int32


def quant(rng, shape, scale=8):
    """Values in [-1, 1) that are multiples of 1/scale: exact products."""
    return (rng.integers(-scale, scale, size=shape) / scale).astype(f32)


def unif(rng, shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(f32)


def sorted_ptr(rng, n, lo, hi):
    mid = np.sort(rng.integers(lo, hi + 1, size=n - 2))
    return np.concatenate([[lo], mid, [hi]]).astype(i32)


def d(x):
    return np.asarray(x, dtype=np.float64)


def softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# Each case: (inputs(rng) -> dict, reference(inputs) -> dict of outputs).

def gemm_in(rng):
    return {"A": quant(rng, (256, 256)), "B": quant(rng, (256, 256))}


def gemm_ref(x):
    return {"C": d(x["A"]) @ d(x["B"])}


def softmax_in(rng):
    return {"X": unif(rng, (512, 128), -4, 4)}


def softmax_ref(x):
    return {"Y": softmax_rows(d(x["X"]))}


def spmv_in(rng):
    return {"ptr": sorted_ptr(rng, 1025, 0, 16384),
            "col": rng.integers(0, 1024, size=16384).astype(i32),
            "val": unif(rng, 16384), "x": unif(rng, 1024)}


def spmv_ref(x):
    ptr, col, val, vec = x["ptr"], x["col"], d(x["val"]), d(x["x"])
    y = np.array([np.dot(val[ptr[r]:ptr[r + 1]], vec[col[ptr[r]:ptr[r + 1]]])
                  for r in range(1024)])
    return {"y": y}


def histogram_in(rng):
    return {"keys": rng.integers(0, 256, size=65536).astype(i32), "w": quant(rng, 65536)}


def histogram_ref(x):
    return {"H": np.bincount(x["keys"], weights=d(x["w"]), minlength=256)}


def mlp_in(rng):
    return {"X": quant(rng, (64, 256)), "W1": quant(rng, (256, 256)), "b1": quant(rng, 256),
            "W2": quant(rng, (256, 64)), "b2": quant(rng, 64)}


def mlp_ref(x):
    h = np.maximum(d(x["X"]) @ d(x["W1"]) * 0.0625 + d(x["b1"]), 0.0)
    return {"Y": h @ d(x["W2"]) * 0.0625 + d(x["b2"])}


def layernorm_in(rng):
    return {"X": unif(rng, (256, 256), -2, 2), "gamma": unif(rng, 256, 0.5, 1.5),
            "beta": unif(rng, 256)}


def layernorm_ref(x):
    X = d(x["X"])
    mu = X.mean(axis=1, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=1, keepdims=True)
    return {"Y": (X - mu) / np.sqrt(var + 1e-5) * d(x["gamma"]) + d(x["beta"])}


def attention_in(rng):
    return {"Q": quant(rng, (256, 64)), "K": quant(rng, (256, 64)), "V": unif(rng, (256, 64))}


def attention_ref(x):
    s = d(x["Q"]) @ d(x["K"]).T * 0.125
    return {"O": softmax_rows(s) @ d(x["V"])}


def conv2d_in(rng):
    return {"X": quant(rng, (16, 32, 32)), "Wt": quant(rng, (16, 16, 3, 3)),
            "bias": quant(rng, 16)}


def conv2d_ref(x):
    X = np.pad(d(x["X"]), ((0, 0), (1, 1), (1, 1)))
    W = d(x["Wt"])
    y = np.zeros((16, 32, 32))
    for dy in range(3):
        for dx in range(3):
            y += np.einsum("fc,cyx->fyx", W[:, :, dy, dx], X[:, dy:dy + 32, dx:dx + 32])
    return {"Y": np.maximum(y * d(f32(0.083333336)) + d(x["bias"])[:, None, None], 0.0)}


def tpch_q6_in(rng):
    return {"shipdate": rng.integers(0, 2557, size=65536).astype(i32),
            "discount": rng.integers(0, 11, size=65536).astype(i32),
            "quantity": rng.integers(1, 51, size=65536).astype(i32),
            "price": unif(rng, 65536, 900, 105000)}


def tpch_q6_ref(x):
    sel = ((x["shipdate"] >= 731) & (x["shipdate"] < 1096) & (x["discount"] >= 5)
           & (x["discount"] <= 7) & (x["quantity"] < 24))
    frac = x["discount"].astype(f32) * f32(0.01)  # the program's own f32 fraction
    return {"revenue": np.array((d(x["price"]) * d(frac))[sel].sum())}


def kmeans_in(rng):
    return {"P": rng.integers(0, 256, size=(4096, 16)).astype(i32),
            "Cent": rng.integers(0, 256, size=(32, 16)).astype(i32)}


def kmeans_ref(x):
    P, C = x["P"].astype(np.int64), x["Cent"].astype(np.int64)
    dist = ((P[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    assign = dist.argmin(axis=1)          # first minimum, as the program
    count = np.bincount(assign, minlength=32)
    sums = np.zeros((32, 16))
    np.add.at(sums, assign, P)
    newc = np.where(count[:, None] > 0, sums / np.maximum(count, 1)[:, None], C)
    return {"assign": assign.astype(i32), "count": count.astype(i32), "newC": newc}


def blackscholes_in(rng):
    return {"spot": unif(rng, 32768, 10, 200), "strike": unif(rng, 32768, 10, 200),
            "days": rng.integers(30, 731, size=32768).astype(i32),
            "volpct": rng.integers(10, 61, size=32768).astype(i32)}


def blackscholes_ref(x):
    # Exact Black-Scholes (erf-based normal CDF) for the contract's
    # tolerance would be unfair to the PARSEC polynomial (error ~7e-8 in
    # the CDF); the reference uses the same polynomial, in float64.
    s, k = d(x["spot"]), d(x["strike"])
    t = d(x["days"].astype(f32) / f32(365.0))
    sigma = d(x["volpct"].astype(f32) * f32(0.01))
    d1 = (np.log(s / k) + (0.02 + 0.5 * sigma * sigma) * t) / (sigma * np.sqrt(t))
    d2 = d1 - sigma * np.sqrt(t)

    def cnd(z):
        kk = 1.0 / (1.0 + 0.2316419 * np.abs(z))
        w = 1.0 - 0.3989422804 * np.exp(-0.5 * z * z) * kk * (
            0.319381530 + kk * (-0.356563782 + kk * (1.781477937 + kk * (-1.821255978 + kk * 1.330274429))))
        return np.where(z < 0, 1.0 - w, w)

    n1, n2 = cnd(d1), cnd(d2)
    disc = k * np.exp(-0.02 * t)
    return {"price": np.stack([s * n1 - disc * n2, disc * (1 - n2) - s * (1 - n1)], axis=1)}


def embedding_bag_in(rng):
    return {"table": unif(rng, (4096, 16)), "idx": rng.integers(0, 4096, size=8192).astype(i32),
            "offsets": sorted_ptr(rng, 513, 0, 8192), "psw": unif(rng, 8192, 0, 1)}


def embedding_bag_ref(x):
    rows = d(x["table"])[x["idx"]] * d(x["psw"])[:, None]
    off = x["offsets"]
    return {"pooled": np.stack([rows[off[b]:off[b + 1]].sum(axis=0) for b in range(512)])}


def blocksparse_in(rng):
    return {"X": quant(rng, (128, 256)), "W": quant(rng, (256, 256)),
            "U": quant(rng, (256, 16)), "Vt": quant(rng, (16, 256))}


def blocksparse_ref(x):
    a = np.arange(16)
    xor = a[:, None] ^ a[None, :]
    layout = (xor & (xor - 1)) == 0
    mask = np.kron(layout, np.ones((16, 16)))
    X = d(x["X"])
    xu = d((X @ d(x["U"]) * 0.0625).astype(f32))  # the program's f32 buffer
    return {"Y": (X @ (d(x["W"]) * mask) + xu @ d(x["Vt"])) * 0.0625}


def logreg_in(rng):
    return {"X": quant(rng, (1024, 64), 16), "y": rng.integers(0, 2, size=1024).astype(i32),
            "w": quant(rng, 64, 16), "bias": np.array(0.25, dtype=f32)}


def logreg_ref(x):
    X, y = d(x["X"]), d(x["y"])
    p = 1.0 / (1.0 + np.exp(-(X @ d(x["w"]) + d(x["bias"]))))
    return {"grad": X.T @ (p - y) / 1024, "gbias": np.array((p - y).mean()),
            "loss": np.array(np.where(y == 1, -np.log(p), -np.log(1 - p)).mean())}


CASES = {name: (globals()[name + "_in"], globals()[name + "_ref"]) for name in [
    "gemm", "softmax", "spmv", "histogram", "mlp", "layernorm", "attention", "conv2d",
    "tpch_q6", "kmeans", "blackscholes", "embedding_bag", "blocksparse", "logreg"]}

# Inputs written in the newer .npy versions, to cross-check the reader.
VERSIONS = {"B": (2, 0), "X": (3, 0), "col": (3, 0), "offsets": (2, 0)}


def save(path, name, arr):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.asarray(arr, order="C"), version=VERSIONS.get(name, (1, 0)))


def compare(name, out, got_path, want):
    got = np.load(got_path)
    want = np.asarray(want)
    if got.shape != want.shape:
        return "%s: shape %s, want %s" % (out, got.shape, want.shape)
    if got.dtype == np.int32:
        bad = np.flatnonzero(got.ravel() != want.ravel())
        if bad.size:
            k = bad[0]
            return "%s: %d i32 elements differ, first [%d]: %d, want %d" % (
                out, bad.size, k, got.ravel()[k], want.ravel()[k])
        return None
    if got.dtype != np.float32:
        return "%s: dtype %s" % (out, got.dtype)
    g, w = d(got).ravel(), d(want).ravel()
    err = np.abs(g - w) - (1e-5 + 1e-4 * np.abs(w))
    if (err > 0).any() or not np.isfinite(g).all():
        k = int(np.argmax(np.where(np.isfinite(err), err, np.inf)))
        return "%s: %d elements out of tolerance, worst [%d]: %.9g, want %.9g" % (
            out, int((err > 0).sum()), k, g[k], w[k])
    return None


def run_case(rdumap, examples, name, tmp, seed):
    make_inputs, reference = CASES[name]
    rng = np.random.default_rng(seed)
    inputs = make_inputs(rng)
    data, out = os.path.join(tmp, name, "data"), os.path.join(tmp, name, "out")
    os.makedirs(data)
    os.makedirs(out)
    for k, v in inputs.items():
        save(os.path.join(data, k + ".npy"), k, v)
    cmd = [rdumap, os.path.join(examples, name + ".pat"), "--interpret", "--data", data, "--out", out]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return ["exit %d: %s\n%s%s" % (r.returncode, " ".join(cmd), r.stdout, r.stderr)]
    want = reference(inputs)
    problems = []
    written = sorted(f[:-4] for f in os.listdir(out) if f.endswith(".npy"))
    if written != sorted(want):
        problems.append("outputs written %s, want %s" % (written, sorted(want)))
    for o, w in want.items():
        p = os.path.join(out, o + ".npy")
        if os.path.exists(p):
            msg = compare(name, o, p, w)
            if msg:
                problems.append(msg)
    return problems


def run_bad_input(rdumap, examples, tmp):
    """A Fortran-order input must stop the run with a diagnostic naming the
    file, and no output may be written."""
    data, out = os.path.join(tmp, "bad", "data"), os.path.join(tmp, "bad", "out")
    os.makedirs(data)
    os.makedirs(out)
    rng = np.random.default_rng(7)
    np.save(os.path.join(data, "A.npy"), np.asfortranarray(unif(rng, (256, 256))))
    np.save(os.path.join(data, "B.npy"), unif(rng, (256, 256)))
    cmd = [rdumap, os.path.join(examples, "gemm.pat"), "--interpret", "--data", data, "--out", out]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    problems = []
    if r.returncode == 0:
        problems.append("a Fortran-order input was accepted")
    want = os.path.join(data, "A.npy") + ": error:"
    if want not in r.stderr or "Fortran order" not in r.stderr:
        problems.append("stderr does not name the file and the problem:\n" + r.stderr)
    if os.listdir(out):
        problems.append("outputs were written: %s" % os.listdir(out))
    return problems


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    rdumap, examples = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(CASES)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="rdumap-numpy-") as tmp:
        for i, name in enumerate(names):
            problems = run_case(rdumap, examples, name, tmp, 1000 + i)
            print("%-14s %s" % (name, "ok" if not problems else "FAILED"))
            for p in problems:
                print("    " + p)
            failed += bool(problems)
        if not sys.argv[3:]:
            problems = run_bad_input(rdumap, examples, tmp)
            print("%-14s %s" % ("bad input", "ok" if not problems else "FAILED"))
            for p in problems:
                print("    " + p)
            failed += bool(problems)
            names = names + ["bad input"]
    print("%d of %d checks agree with numpy" % (len(names) - failed, len(names)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
