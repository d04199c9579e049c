#!/usr/bin/env python3
"""End-to-end tests of the rdumap command: exit codes, reports, the JSON
contract, determinism, and that nothing is written on failure.

usage: e2e.py RDUMAP SOURCE_ROOT GROUP [FABRIC]
  GROUP examples FABRIC  every example maps and verifies on FABRIC
  GROUP par FABRIC       the same with --par 4 (greedy placement: values do not depend on it)
  GROUP nofit            programs too big for tiny.cfg exit 2 with the reason
  GROUP tiling           every example on 8 KiB PMUs (tensors in DRAM, tiled), four
                         in every mode; the tiling in the report, the JSON, the dump
  GROUP fusion           fusion across definitions: the report, the gain, --no-fusion, every mode
  GROUP errors           bad input of every kind: message, exit code, no output
  GROUP report           the JSON contract, determinism, --out, --mutate
  GROUP sim              the cycle-level simulation: --trace, every --mutate class caught
  GROUP reference        refusals before work (with their JSON), the work limit, the
                         reordering bound, --reference, --save-inputs, --seed-place
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

RDUMAP, ROOT, GROUP = sys.argv[1], sys.argv[2], sys.argv[3]
FAILS = []


def run(*args, cwd=None):
    p = subprocess.run([RDUMAP, *args], capture_output=True, text=True, cwd=cwd, timeout=900)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
    return cond


def path(*p):
    return os.path.join(ROOT, *p)


def examples(fabric, *extra):
    names = sorted(f for f in os.listdir(path("examples")) if f.endswith(".pat"))
    check(len(names) >= 14, f"{len(names)} examples found")
    for name in names:
        fab = fabric if os.sep in fabric else path("fabric", fabric)
        rc, out, err = run(path("examples", name), "--fabric", fab, *extra)
        check(rc == 0 and "mapped and verified" in out,
              f"{name} on {fabric} {' '.join(extra)}: exit {rc} {err.strip()[:300]}")


def nofit():
    tiny = path("fabric", "tiny.cfg")
    # gemm's 256 KiB tensors exceed tiny's 16 KiB PMUs: tiled through DRAM
    # it maps and verifies; with --no-tiling it is refused at A's declaration.
    rc, out, err = run(path("examples", "gemm.pat"), "--fabric", tiny)
    check(rc == 0 and "mapped and verified" in out, f"gemm on tiny.cfg is tiled through DRAM: exit {rc} {err[:200]}")
    rc, out, err = run(path("examples", "gemm.pat"), "--fabric", tiny, "--no-tiling")
    check(rc == 2 and "gemm.pat:11:8: error:" in err and "exceeds a 16 KiB PMU" in err,
          f"gemm on tiny.cfg --no-tiling is refused at the tensor: exit {rc} {err[:200]}")
    # --par auto says which resource bounded the count it took
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "p.json")
        rc, out, err = run(path("examples", "blackscholes.pat"), "--par", "auto", "--map-only", "--json", j)
        bound = json.load(open(j))["dfg"].get("par_bound") if rc == 0 else None
        check(rc == 0 and "par auto     32 replicas; not more: 48 replicas: needs 816 PCUs, the fabric has 640" in out
              and bound == "48 replicas: needs 816 PCUs, the fabric has 640",
              f"--par auto states what bounded it: exit {rc} {bound} {out[:400]}")
    for name in ("attention.pat", "blackscholes.pat"):
        rc, out, err = run(path("examples", name), "--fabric", tiny)
        check(rc == 2, f"{name} on tiny.cfg exits 2 (got {rc})")
        check(("exceeds" in err or "needs" in err or "cannot be cut" in err) and "error:" in err,
              f"{name} on tiny.cfg says why: {err.strip()[:200]}")


def tiling():
    fab = path("tests", "data", "plasticine-8k.cfg")
    examples(fab, "--place", "greedy")
    # the other modes on the examples whose tiling differs in kind: two
    # tiled indices (gemm), a row-valued body (softmax), two tiled
    # definitions through a DRAM buffer (mlp), a reduce streamed from DRAM
    # and a tiled map after it (attention)
    for mode in (["--no-metapipe"], ["--par", "2"], ["--dense"], ["--baseline", "kernel"]):
        for name in ("gemm.pat", "softmax.pat", "mlp.pat", "attention.pat"):
            rc, out, err = run(path("examples", name), "--fabric", fab, "--place", "greedy", *mode)
            check(rc == 0 and "mapped and verified" in out, f"{name} on {fab} {' '.join(mode)}: exit {rc} {err[:300]}")
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "g.json")
        rc, out, err = run(path("examples", "gemm.pat"), "--fabric", fab, "--json", j, "--place", "greedy")
        check(rc == 0 and "tiling       C: i 8 tiles of 32, j 16 tiles of 16, k 8 tiles of 32" in out
              and "in DRAM: A, B, C" in out, f"the report states gemm's tiles: {out[:600]}")
        t = json.load(open(j)).get("tiling", {}) if rc == 0 else {}
        sizes = [(x["index"], x["size"]) for dd in t.get("definitions", []) for x in dd["indices"]]
        shapes = {x["name"]: (x["shape"], x["depth"]) for x in t.get("tiles", [])}
        check(t.get("dram") == ["A", "B", "C"] and sizes == [("i", 32), ("j", 16), ("k", 32)]
              and shapes.get("A.tile") == ([32, 32], 2) and shapes.get("B.tile") == ([32, 16], 2) and shapes.get("C.acc") == ([32, 16], 3),
              f"the JSON states the tiling: {t}")
        rc, out, err = run(path("examples", "gemm.pat"), "--fabric", fab, "--dump-dfg", "-", "--map-only", "--par", "1")
        check("tiling C: i 8 tiles of 32, j 16 tiles of 16, k 8 tiles of 32 (model:" in out and "mem input A f32[256][256] in DRAM" in out
              and "loop L0 i.tile" in out, f"--dump-dfg shows the tiled loops: {out[:400]}")
        # the outermost tile loop runs in parallel: each replica its own
        # tiles of A; the tiles of B, the same for every replica, loaded
        # once and multicast to all four
        rc, out, err = run(path("examples", "gemm.pat"), "--fabric", fab, "--par", "4", "--place", "greedy",
                           "--json", j)
        check(rc == 0 and "1 loop replicated 4 ways" in out and "mapped and verified" in out
              and "C: loop i.tile 4 ways; loaded once for every replica (one AGCU stream, multicast): B" in out,
              f"gemm's tile loop replicates 4 ways, shares B and verifies: exit {rc} {out[:600]} {err[:200]}")
        r = json.load(open(j)) if rc == 0 else {}
        pd = r.get("dfg", {}).get("par_definitions", [{}])
        size = {x["index"]: x["size"] for dd in r.get("tiling", {}).get("definitions", []) for x in dd["indices"]}
        # A (256 x 256 f32) is read once per tile of j, B once per tile of i
        # for all 4 replicas together, not once per replica
        want = 256 * 256 * 4 * (256 // size.get("j", 1)) + 256 * 256 * 4 * (256 // size.get("i", 1)) // 4
        check(pd and pd[0].get("multicast") == ["B"] and r.get("emu", {}).get("dram_read_bytes") == want,
              f"B is read from DRAM once for the 4 replicas: {want} bytes expected, "
              f"{r.get('emu', {}).get('dram_read_bytes')} read; {pd}, tiles {size}")
        rc, out, err = run(path("examples", "gemm.pat"), "--fabric", fab, "--par", "4", "--map-only", "--dump-dfg", "-")
        check(re.search(r"VAG dram B in .* shared by 4 replicas", out) and "dram B/r1" not in out
              and "stream vector dram B -> B.tile/r3" in out,
              f"--dump-dfg shows one VAG for B multicasting to the replicas' tiles: {out[-1500:]}")
        # the tile offsets each AGCU adds are computed in its own address
        # pipeline: no PCU computes them, no scalar stream carries them
        check(not re.search(r"stream scalar .* -> dram ", out)
              and len(re.findall(r"^unit \d+ VPCU ", out, re.M)) == 4,
              f"one PCU per replica, no offsets streamed to the AGCUs: {out[-1500:]}")
        # a buffer rotated early in a tiled meta-pipeline is a wrong output
        rc, out, err = run(path("examples", "gemm.pat"), "--fabric", fab, "--mutate", "buffer:B.tile",
                           "--place", "greedy")
        check(rc == 3 and "VERIFICATION FAILED" in out, f"--mutate buffer:B.tile is caught: exit {rc} {out[-300:]}")


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def npy(d, name, dtype, shape, values):
    """A minimal .npy v1.0 writer (the test must not need numpy)."""
    import struct
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join(f"{s}, " for s in shape) if len(shape) != 1 else f"{shape[0]},")
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    body = struct.pack("<" + ("f" if dtype == "<f4" else "i") * len(values), *values)
    with open(os.path.join(d, name + ".npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body)


def errors():
    with tempfile.TemporaryDirectory() as d:
        out_dir = os.path.join(d, "out")
        os.mkdir(out_dir)
        # a malformed program: diagnostics with position and caret, exit 1
        bad = write(d, "bad.pat", "input x : f32[4]\noutput y : f32[4]\ny = map (i: 4) { x[i] + q }\n")
        rc, out, err = run(bad)
        check(rc == 1, f"malformed program exits 1 (got {rc})")
        check("bad.pat:3:25: error:" in err and "^" in err, f"malformed program has FILE:LINE:COL and a caret: {err[:200]}")
        # a malformed fabric
        cfg = write(d, "bad.cfg", "[fabric]\nname = x\nrows = 0\n")
        rc, out, err = run(path("examples", "gemm.pat"), "--fabric", cfg)
        check(rc == 1 and "bad.cfg:3" in err, f"malformed fabric exits 1 with its line (got {rc}: {err[:200]})")
        # usage errors and missing files
        rc, _, err = run("--no-such-option", path("examples", "gemm.pat"))
        check(rc == 4 and "unknown option" in err, f"unknown option exits 4 (got {rc})")
        rc, _, err = run(os.path.join(d, "missing.pat"))
        check(rc in (1, 4) and "missing.pat" in err, f"missing program is an error naming it (got {rc}: {err[:200]})")
        # a .npy file of the wrong shape: exit 1, nothing written
        prog = write(d, "p.pat", "input x : f32[4]\noutput y : f32[4]\ny = map (i: 4) { x[i] * 2.0 }\n")
        data = os.path.join(d, "data")
        os.mkdir(data)
        npy(data, "x", "<f4", (5,), [1, 2, 3, 4, 5])
        rc, _, err = run(prog, "--data", data, "--out", out_dir)
        check(rc == 1 and "x.npy" in err and "shape" in err, f"wrong-shape .npy exits 1 naming the file (got {rc}: {err[:200]})")
        check(os.listdir(out_dir) == [], "nothing written after a bad .npy")
        # the right data: outputs written
        npy(data, "x", "<f4", (4,), [1, 2, 3, 4])
        rc, out, err = run(prog, "--data", data, "--out", out_dir)
        check(rc == 0 and os.listdir(out_dir) == ["y.npy"], f"good data maps and writes y.npy (got {rc}: {err[:200]})")
        os.remove(os.path.join(out_dir, "y.npy"))
        # an index out of bounds at run time: exit 1, position, values, nothing written
        oob = write(d, "oob.pat", "input x : f32[10]\ninput k : i32[4] in 0 .. 20\noutput y : f32[4]\noutput z : f32[4]\n"
                                  "z = map (i: 4) { 1.0 }\ny = map (i: 4) { x[k[i]] }\n")
        npy(data, "x", "<f4", (10,), list(range(10)))
        npy(data, "k", "<i4", (4,), [1, 2, 15, 3])
        rc, _, err = run(oob, "--data", data, "--out", out_dir)
        check(rc == 1 and "oob.pat:6:" in err and "15" in err, f"run-time index error exits 1 with position and value (got {rc}: {err[:300]})")
        check(os.listdir(out_dir) == [], "nothing written after a run-time error")
        # a program too big for the fabric
        rc, _, err = run(path("examples", "attention.pat"), "--fabric", path("fabric", "tiny.cfg"), "--out", out_dir)
        check(rc == 2 and os.listdir(out_dir) == [], f"too big: exit 2 and nothing written (got {rc})")


def strategies(fabric):
    """Every strategy places every example legally: one unit per site, each
    on a site of its kind (the checkerboard and the AGCU columns), and the
    routing has no overuse."""
    names = sorted(f for f in os.listdir(path("examples")) if f.endswith(".pat"))
    cfg = open(path("fabric", fabric)).read()
    rows = int(next(l.split("=")[1].split("#")[0] for l in cfg.splitlines() if l.strip().startswith("rows")))
    cols = int(next(l.split("=")[1].split("#")[0] for l in cfg.splitlines() if l.strip().startswith("cols")))
    with tempfile.TemporaryDirectory() as d:
        for strategy in ("random", "greedy", "sa", "ilp"):
            costs = {}
            for name in names:
                j = os.path.join(d, "r.json")
                # (one graph for every placer: --par auto may settle on
                # another count for a placement that does not route)
                rc, out, err = run(path("examples", name), "--fabric", path("fabric", fabric), "--place", strategy,
                                   "--time-limit", "2", "--map-only", "--json", j, "-q", "--par", "1")
                # A random placement may be unroutable (it is the baseline);
                # the others must route.
                unroutable = rc == 2 and "over capacity" in err and os.path.exists(j)
                if not check(rc == 0 or (strategy == "random" and unroutable),
                             f"{strategy} places and routes {name} (exit {rc}: {err.strip()[:200]})"):
                    continue
                r = json.load(open(j))
                os.remove(j)
                units = r["place"]["units"]
                sites = [(u["row"], u["col"], u["kind"]) for u in units]
                legal = len({(s[0], s[1], s[2] == "VAG") for s in sites}) == len(sites)
                for row, col, kind in sites:
                    if kind == "VPCU":
                        legal &= (row + col) % 2 == 0
                    elif kind == "VPMU":
                        legal &= (row + col) % 2 == 1
                    else:
                        legal &= col in (0, cols - 1) and 0 <= row < rows
                check(legal, f"{strategy} placement of {name} is legal")
                check(r["route"]["overused_links"] == 0 or strategy == "random",
                      f"{strategy} placement of {name} routes with no overuse")
                costs[name] = r["place"]["cost"]
            STRATEGY_COSTS[strategy] = costs
    for name in names:
        c = {s: STRATEGY_COSTS[s].get(name) for s in STRATEGY_COSTS}
        if None not in c.values():
            check(c["sa"] <= c["random"], f"sa is no worse than random on {name}: {c}")
            check(c["ilp"] <= c["sa"] + 1e-9, f"ilp (warm-started from sa) is no worse than sa on {name}: {c}")


STRATEGY_COSTS = {}


def strip_times(j):
    if isinstance(j, dict):
        return {k: strip_times(v) for k, v in j.items() if "seconds" not in k}
    if isinstance(j, list):
        return [strip_times(v) for v in j]
    return j


def report():
    with tempfile.TemporaryDirectory() as d:
        j1, j2, j3 = (os.path.join(d, f"r{i}.json") for i in range(3))
        prog = path("examples", "softmax.pat")
        rc, out, err = run(prog, "--fabric", path("fabric", "plasticine.cfg"), "--json", j1, "--seed", "5")
        check(rc == 0, f"softmax maps (got {rc}: {err[:200]})")
        r = json.load(open(j1))
        contract = {"program": None, "fabric": None, "options": None,
                    "dfg": ["pcus", "pmus", "ags", "streams"],
                    "place": ["strategy", "cost", "bound", "seconds"],
                    "route": ["iterations", "overused_links", "total_hops", "max_link_util", "seconds"],
                    "emu": ["cycles", "flops", "dram_bytes", "compute_bound_cycles", "memory_bound_cycles",
                            "roofline_fraction", "host_seconds"],
                    "verify": ["passed", "outputs"]}
        for key, sub in contract.items():
            check(key in r, f"JSON has '{key}'")
            for s in sub or []:
                check(s in r.get(key, {}), f"JSON has '{key}.{s}'")
        check(r["verify"]["passed"] is True and "Y" in r["verify"]["outputs"], "JSON verify names the output Y")
        e = r["emu"]
        check(all(d["end"] <= e["cycles"] for d in e["definitions"]), "every definition ends within the cycles")
        check(all(u["busy"] <= e["cycles"] for u in e["units"].values()), "no unit is busier than the run is long")
        check(e["dram_bytes"] == e["dram_read_bytes"] + e["dram_write_bytes"], "DRAM bytes add up")
        check(sum(e["dram_bandwidth"]["bytes"]) == e["dram_bytes"], "DRAM bandwidth over time adds up to the bytes")
        check(all(s["words"] > 0 for s in e["streams"]), "every stream carried words")
        check(len(r["place"]["units"]) == r["dfg"]["pcus"] + r["dfg"]["pmus"] + r["dfg"]["ags"], "every unit placed")
        # determinism: same inputs and seed, same report (times aside)
        run(prog, "--fabric", path("fabric", "plasticine.cfg"), "--json", j2, "--seed", "5")
        check(strip_times(json.load(open(j2))) == strip_times(r), "same seed, same report")
        # the meta-pipeline helps softmax
        run(prog, "--fabric", path("fabric", "plasticine.cfg"), "--json", j3, "--seed", "5", "--no-metapipe")
        r3 = json.load(open(j3))
        check(r3["emu"]["cycles"] > r["emu"]["cycles"], "--no-metapipe costs cycles on softmax "
              f"({r3['emu']['cycles']} vs {r['emu']['cycles']})")
        # --gains: each ratio measured, and where a feature matters it shows
        gains = {}
        for name in ("softmax", "blocksparse", "mlp"):
            jg = os.path.join(d, "g.json")
            rc, out, err = run(path("examples", name + ".pat"), "--gains", "--json", jg, "--par", "1")
            check(rc == 0 and "gains " in out, f"--gains on {name} (exit {rc}: {err[:200]})")
            gains[name] = json.load(open(jg))["gains"]
        check(gains["softmax"]["metapipe"] > 1.2, f"meta-pipelining pays on softmax: {gains['softmax']}")
        # Skipping pays where the guarded work is large: a guard on a whole
        # row, hoisted out of the row's reduction.
        sparse = write(d, "sparse.pat", "input A : f32[64][64]\ninput keep : i32[64] in 0 .. 4\noutput s : f32[64]\n"
                                        "s = map (i: 64) { reduce (k: 4096) + where keep[i] == 0 { A[i][k % 64] * 0.001 } }\n")
        jg = os.path.join(d, "s.json")
        rc, out, err = run(sparse, "--gains", "--json", jg, "--par", "1")
        g = json.load(open(jg))["gains"] if rc == 0 else {}
        check(rc == 0 and g["sparsity"] > 2.0, f"skipping rows a guard rules out pays: {g} {err[:200]}")
        check(gains["mlp"]["spatial"] > 1.0, f"keeping mlp's hidden layer on chip pays: {gains['mlp']}")
        # blocksparse's block guard is scanned: the kept blocks only, and it pays
        jb = os.path.join(d, "b.json")
        rc, out, err = run(path("examples", "blocksparse.pat"), "--json", jb, "--dump-dfg", "-", "--map-only")
        check(rc == 0 and re.search(r"loop L\d+ kb = \[r\d+, r\d+\) scan r\d+", out),
              f"blocksparse's block loop scans a mask: {out[-300:]} {err[:200]}")
        check(gains["blocksparse"]["sparsity"] > 1.2, f"scanning blocksparse's mask pays: {gains['blocksparse']}")
        rc, out, err = run(path("examples", "blocksparse.pat"), "--json", jb)
        skipped = json.load(open(jb))["emu"]["skipped_iterations"] if rc == 0 else None
        # 128 x 256 columns x 16 blocks, 5 kept in every column of blocks
        check(skipped == 128 * 256 * 11 and "guarded iterations skipped by scan" in out,
              f"blocksparse skips 11 of 16 blocks per column: {skipped}")
        for name, g in gains.items():
            check(all(v >= 1.0 for k, v in g.items() if k in ("metapipe", "sparsity", "spatial")),
                  f"no feature makes {name} slower: {g}")
        # --par: replicated pipelines verify and run faster; too many
        # replicas fail in the fabric's terms
        jp = os.path.join(d, "p.json")
        rc1, _, _ = run(path("examples", "gemm.pat"), "--json", jp, "--par", "1")
        c1 = json.load(open(jp))["emu"]["cycles"] if rc1 == 0 else None
        rc8, out, err = run(path("examples", "gemm.pat"), "--par", "8", "--json", jp)
        c8 = json.load(open(jp))["emu"]["cycles"] if rc8 == 0 else None
        check(rc8 == 0 and "replicated 8 ways" in out and c1 and c8 and c8 * 5 < c1,
              f"--par 8 verifies gemm and speeds it up ({c1} -> {c8}) {err[:200]}")
        for name in ("conv2d", "mlp"):
            rc0, _, _ = run(path("examples", name + ".pat"), "--json", jp, "--par", "1")
            c0 = json.load(open(jp))["emu"]["cycles"] if rc0 == 0 else None
            rca, out, err = run(path("examples", name + ".pat"), "--par", "auto", "--place", "greedy", "--json", jp)
            ra = json.load(open(jp)) if rca == 0 else {}
            ca = ra.get("emu", {}).get("cycles")
            check(rca == 0 and ra["dfg"]["par"] > 1 and ra["dfg"]["par_loops"] > 0 and ca * 4 < c0,
                  f"--par auto replicates {name} and verifies it ({c0} -> {ca}) {err[:200]}")
        # the kernel-by-kernel baseline maps every definition on its own
        rc, out, err = run(path("examples", "kmeans.pat"), "--gains", "--place", "greedy", "--json", jp)
        g = json.load(open(jp))["gains"] if rc == 0 else {}
        ks = g.get("kernels") or []
        check(rc == 0 and [k["name"] for k in ks] == ["assign", "count", "sums", "newC"]
              and sum(k["cycles"] for k in ks) + g["variant_cycles"]["kernel_baseline_reconfig"]
              == g["variant_cycles"]["kernel_baseline"] and g["variant_cycles"]["kernel_baseline_reconfig"] == 30000
              and any(k["par"] > 1 for k in ks) and "kernels, each mapped on its own: assign" in out,
              f"the baseline's kernels are mapped, placed and parallelised on their own: {ks} {err[:200]}")
        # each definition says how it was replicated, or why not
        rc, out, err = run(path("examples", "logreg.pat"), "--place", "greedy", "--map-only", "--json", jp)
        pd = {x["name"]: x for x in json.load(open(jp))["dfg"]["par_definitions"]} if rc == 0 else {}
        check(rc == 0 and re.search(r"par          p: loop n \d+ ways", out)
              and re.search(r"gbias: reduction over n split \d+ ways", out)
              and pd["gbias"]["split"] == "reduction over n" and pd["gbias"]["ways"] > 1
              and pd["p"]["loop"] == "n" and pd["p"]["ways"] > 1,
              f"the report states each definition's replication and split: {out[:700]}")
        rc, out, err = run(path("examples", "kmeans.pat"), "--place", "greedy", "--map-only")
        check(rc == 0 and "count: one pipeline: its loop n combines into count other than at its own row" in out,
              f"and why a definition is not replicated: {out[:700]}")
        # auto is the default
        rc, out, err = run(path("examples", "gemm.pat"), "--place", "greedy", "--map-only", "--json", jp)
        check(rc == 0 and "par auto     128 replicas" in out and json.load(open(jp))["dfg"]["par"] == 128
              and json.load(open(jp))["options"]["par"] == 0, f"the default is --par auto: {out[:400]}")
        rc, _, err = run(path("examples", "gemm.pat"), "--par", "64", "--place", "greedy", "--map-only")
        check(rc == 0, f"--par 64 maps: its 129 DRAM streams share sn10's 32 AGCUs: exit {rc} {err[:200]}")
        rc, _, err = run(path("examples", "gemm.pat"), "--par", "256", "--place", "greedy", "--map-only")
        check(rc == 2 and "PMUs" in err, f"--par 256 needs more PMUs than sn10 has: exit {rc} {err[:200]}")
        # a corrupted lane operation fails verification: exit 3, no outputs
        out_dir = os.path.join(d, "out")
        os.mkdir(out_dir)
        rc, text, _ = run(path("examples", "gemm.pat"), "--dump-dfg", "-", "-q")
        mul = next(l for l in text.splitlines() if "mul.f32" in l).split()[0].lstrip("#")
        rc, out, err = run(path("examples", "gemm.pat"), "--mutate", mul, "--out", out_dir, "--json", j3)
        check(rc == 3 and "FAIL" in out, f"--mutate {mul} fails verification with exit 3 (got {rc})")
        check(os.listdir(out_dir) == [], "nothing written when verification fails")
        check(json.load(open(j3))["verify"]["passed"] is False, "the JSON report says verification failed")
        # --interpret prints a summary per output
        rc, out, _ = run(path("examples", "histogram.pat"), "--interpret")
        check(rc == 0 and out.startswith("H "), "--interpret summarises the output")
        rc, out, _ = run("--describe")
        check(rc == 0 and "sn10" in out, "--describe without --fabric describes the built-in SN10")


def sim():
    with tempfile.TemporaryDirectory() as d:
        # A trace of softmax: Chrome trace-event JSON, a track per unit.
        tr, jr = os.path.join(d, "t.json"), os.path.join(d, "r.json")
        rc, out, err = run(path("examples", "softmax.pat"), "--fabric", path("fabric", "plasticine.cfg"),
                           "--trace", tr, "--json", jr)
        check(rc == 0, f"softmax with --trace maps and verifies: {err[:200]}")
        t = json.load(open(tr))
        r = json.load(open(jr))
        n_units = r["dfg"]["pcus"] + r["dfg"]["pmus"] + r["dfg"]["ags"]
        tracks = {e["tid"] for e in t["traceEvents"] if e.get("ph") == "M" and e.get("name") == "thread_name"}
        check(len(tracks) == n_units, f"the trace has a track per unit ({len(tracks)} of {n_units})")
        busy = [e for e in t["traceEvents"] if e.get("ph") == "X"]
        check(busy and all(e["ts"] >= 0 and e["dur"] >= 0 and e["ts"] + e["dur"] <= r["emu"]["cycles"] for e in busy),
              "busy spans lie within the run")
        check(any(e.get("ph") == "C" and e["name"].startswith("DRAM") for e in t["traceEvents"]),
              "the trace has a DRAM bandwidth counter")
        # The picture shows each unit's busy fraction, from the simulation.
        sv = os.path.join(d, "s.svg")
        rc, _, _ = run(path("examples", "softmax.pat"), "--fabric", path("fabric", "plasticine.cfg"), "--svg", sv)
        bars = open(sv).read().count('class="busy"') if rc == 0 else 0
        check(bars == n_units, f"the SVG draws a busy bar per unit ({bars} of {n_units})")
        rc, _, _ = run(path("examples", "softmax.pat"), "--fabric", path("fabric", "plasticine.cfg"), "--svg", sv,
                       "--map-only")
        check(rc == 0 and 'class="busy"' not in open(sv).read(), "without simulation the SVG draws no busy bar")
        # A run whose verification fails still writes its complete trace (it
        # is what to look at); a mapping fault of the simulated hardware
        # writes none.
        tr2 = os.path.join(d, "t2.json")
        _, sdump, _ = run(path("examples", "softmax.pat"), "--map-only", "--dump-dfg", "-", "-q")
        sub = next(l.split()[0][1:] for l in sdump.splitlines() if "= sub.f32" in l)
        rc, _, _ = run(path("examples", "softmax.pat"), "--fabric", path("fabric", "plasticine.cfg"),
                       "--trace", tr2, "--mutate", "op:" + sub)
        check(rc == 3 and os.path.exists(tr2) and json.load(open(tr2))["traceEvents"],
              f"a run that fails verification keeps its complete trace (exit {rc})")
        tr3 = os.path.join(d, "t3.json")
        rows = write(d, "rows.pat", "input X : f32[32][16]\noutput Y : f32[32][16]\n"
                                    "Y = map (i: 32) { map (j: 16) { X[i][j] * 2.0 + 1.0 } }\n")
        rc, _, err = run(rows, "--fabric", path("fabric", "plasticine.cfg"), "--par", "2", "--trace", tr3,
                         "--mutate", "partition:Y")
        check(rc == 3 and not os.path.exists(tr3) and "internal error of the mapping" in err,
              f"a mapping fault writes no trace (exit {rc}): {err.strip()[:200]}")
        # Every class of mapping fault is caught: exit 3, never blamed on the program.
        small = write(d, "g.pat", "input A : f32[32][32]\ninput B : f32[32][32]\noutput C : f32[32][32]\n"
                                  "C = map (i: 32, j: 32) { reduce (k: 32) + { A[i][k] * B[k][j] } }\n")
        tile = write(d, "t.pat", "input X : f32[32][32]\noutput Y : f32[32][32]\n"
                                 "Y = map (i: 32) { let t = map (j: 32) { X[i][j] * 2.0 }; map (j: 32) { t[j] + 1.0 } }\n")
        _, dump, _ = run(small, "--map-only", "--dump-dfg", "-", "-q")
        streams = [l for l in dump.splitlines() if l.startswith("stream ")]
        pmu_pcu = next(i for i, l in enumerate(streams) if l.startswith("stream vector A -> "))
        _, tdump, _ = run(tile, "--map-only", "--dump-dfg", "-", "-q")
        tname = next(l.split()[2] for l in tdump.splitlines() if l.startswith("mem scratch"))
        for prog, extra, spec in ((small, [], "stream:%d" % pmu_pcu), (small, ["--par", "2"], "partition:C"),
                                  (small, ["--par", "2"], "replica:1"), (tile, [], "buffer:" + tname),
                                  (small, [], "op:8")):
            rc, out, err = run(prog, "--fabric", path("fabric", "plasticine.cfg"), *extra, "--mutate", spec)
            check(rc == 3, f"--mutate {spec} {' '.join(extra)} is caught (exit {rc}): {err.strip()[:200]}")
            check(not re.search(re.escape(prog) + r":\d+:\d+: error", err),
                  f"--mutate {spec}: no error points into the user's program: {err.strip()[:200]}")
            rc, _, _ = run(prog, "--fabric", path("fabric", "plasticine.cfg"), *extra)
            check(rc == 0, f"without --mutate {spec} it verifies")
        # AGCUs serve several DRAM streams: five inputs on tiny's four AGCUs,
        # softmax with 32 replicas (33 DRAM streams) on sn10's 32.
        five = write(d, "five.pat", "".join(f"input {v} : f32[64]\n" for v in "abcde") +
                     "output y : f32[64]\ny = map (i: 64) { a[i] + b[i] + c[i] + d[i] + e[i] }\n")
        two = write(d, "two.cfg", open(path("fabric", "tiny.cfg")).read().replace("agcus = 8", "agcus = 2"))
        rc, out, err = run(five, "--fabric", two, "--json", jr)
        check(rc == 0, f"six DRAM streams map on two AGCUs: {err.strip()[:200]}")
        if rc == 0:
            sites = [(u["row"], u["col"]) for u in json.load(open(jr))["place"]["units"] if u["kind"] == "VAG"]
            check(len(sites) == 6 and len(set(sites)) <= 2, f"VAGs share AGCUs: {sites}")
        rc, out, err = run(path("examples", "softmax.pat"), "--par", "32", "--place", "greedy")
        check(rc == 0 and "replicated 32 ways" in out, f"softmax --par 32 maps on sn10: {err.strip()[:200]}")


def read_npy(p):
    """(dtype, values) of a .npy file rdumap wrote (v1.0, <f4 or <i4)."""
    b = open(p, "rb").read()
    hl = struct.unpack("<H", b[8:10])[0]
    header = b[10:10 + hl].decode()
    body = b[10 + hl:]
    code = "f" if "<f4" in header else "i"
    return code, list(struct.unpack("<%d%s" % (len(body) // 4, code), body))


def reference():
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "r.json")
        # A tensor of 2^31-1 elements (8 GiB) is refused before any input
        # exists (it took 98 s and 16.8 GB when the reference ran first), at
        # its declaration, naming the limit on simulated data (it would map:
        # a tensor larger than a PMU stays in DRAM); the JSON keeps the reason.
        big = write(d, "big.pat", "const N = 2147483647\ninput x : f32[N]\noutput y : f32\n"
                                  "y = reduce (i: N) + { x[i] }\n")
        t0 = time.monotonic()
        rc, out, err = run(big, "--json", j)
        dt = time.monotonic() - t0
        check(rc == 2 and dt < 20, f"a 2^31-1 element tensor is refused at once: exit {rc} in {dt:.2f} s")
        check("big.pat:2:7: error:" in err and "4096 MiB of data" in err and "^" in err,
              f"the data limit points at the declaration and names the limit: {err[:300]}")
        r = json.load(open(j)) if os.path.exists(j) else {}
        ref = r.get("refused") or {}
        check(ref.get("exit") == 2 and "past the 4096 MiB" in ref.get("reason", "") and r.get("verify", 1) is None
              and ref.get("errors", [{}])[0].get("line") == 2,
              f"--json of a refused program has the reason as data: {json.dumps(r)[:300]}")
        os.remove(j)
        # A tensor past 2^31-1 elements (8 EiB here) is refused by the checker,
        # before anything is allocated (f32[N][N][N], whose count overflows
        # int64, waits for an overflow-safe pat_type_count).
        huge = write(d, "huge.pat", "const N = 2147483647\ninput x : f32[N][N]\noutput y : f32\ny = x[0][0]\n")
        t0 = time.monotonic()
        rc, out, err = run(huge, "--json", j)
        dt = time.monotonic() - t0
        check(rc == 1 and "huge.pat:2:7: error:" in err and "4611686014132420609 elements" in err and dt < 20,
              f"a tensor of 2^62 elements is refused at once: exit {rc} in {dt:.2f} s {err[:200]}")
        # Work the program implies is counted before it runs.
        work = write(d, "work.pat", "input x : f32[4]\noutput y : f32\n"
                                    "y = reduce (i: 2147483647, j: 2147483647) + { x[(i + j) % 4] }\n")
        t0 = time.monotonic()
        rc, out, err = run(work, "--json", j)
        dt = time.monotonic() - t0
        check(rc == 2 and "4611686014132420614 iterations" in err and "--max-work" in err and dt < 20,
              f"reduce (i: 2^31-1, j: 2^31-1) is refused at once with its count: exit {rc} {err[:200]}")
        r = json.load(open(j)) if os.path.exists(j) else {}
        check((r.get("refused") or {}).get("exit") == 2, "its JSON says refused")
        rc, out, err = run(work, "--interpret")
        check(rc == 2 and "iterations" in err, f"--interpret refuses it too: exit {rc}")
        rc, out, err = run(path("examples", "gemm.pat"), "--max-work", "1000000")
        check(rc == 2 and "--max-work" in err, f"--max-work lowers the limit: exit {rc} {err[:200]}")
        # a dynamic range is charged as it runs: spmv's static work is 36,865
        rc, out, err = run(path("examples", "spmv.pat"), "--max-work", "40000", "--interpret")
        check(rc == 1 and "runs" in err and "--max-work" in err and "spmv.pat:" in err,
              f"a dynamic range past the limit stops with a run-time error: exit {rc} {err[:300]}")
        rc, out, err = run(path("examples", "spmv.pat"), "--max-work", "60000", "--interpret")
        check(rc == 0, f"and runs under a limit that covers it: exit {rc} {err[:200]}")
        # The reordering bound: a layernorm around 2.5E3 (the sums of 256 terms
        # of 2500 lose digits, the mean's error is amplified by the subtraction)
        # verifies, and reports its margin.
        ln = write(d, "ln.pat", "const R = 64\nconst D = 256\ninput X : f32[R][D]\ninput gamma : f32[D]\n"
                                "input beta : f32[D]\noutput Y : f32[R][D]\nY = map (i: R) {\n"
                                "  let mean = reduce (j: D) + { X[i][j] + 2.5E3 } / f32(D)\n"
                                "  let var  = reduce (j: D) + { let c = X[i][j] + 2.5E3 - mean  c * c } / f32(D)\n"
                                "  let inv  = 1.0 / sqrt(var + 1e-5)\n"
                                "  map (j: D) { (X[i][j] + 2.5E3 - mean) * inv * gamma[j] + beta[j] }\n}\n")
        rc, out, err = run(ln, "--place", "greedy", "--json", j)
        v = json.load(open(j))["verify"]["outputs"]["Y"] if rc == 0 else {}
        check(rc == 0 and 0 < v.get("worst_ratio", 2) < 1 and v.get("max_bound", 0) > 0 and "worst err/bound" in out,
              f"a layernorm around 2.5E3 verifies within its bound: exit {rc} {v} {err[:200]}")
        # A real lowering error at model scale is still caught: a 1024-term
        # reduction whose multiply is corrupted.
        mm = write(d, "mv.pat", "input A : f32[64][1024]\ninput x : f32[1024]\noutput y : f32[64]\n"
                                "y = map (i: 64) { reduce (k: 1024) + { A[i][k] * x[k] } }\n")
        rc, text, _ = run(mm, "--dump-dfg", "-", "-q", "--map-only")
        mul = next(l for l in text.splitlines() if "mul.f32" in l).split()[0].lstrip("#")
        rc, out, err = run(mm, "--mutate", mul, "--place", "greedy")
        check(rc == 3 and "FAIL" in out, f"--mutate on a 1024-term reduction fails verification: exit {rc}")
        # --save-inputs writes what was generated; --reference takes the expected
        # outputs from files (the run does not interpret); a wrong file fails.
        ins, outs = os.path.join(d, "in"), os.path.join(d, "out")
        os.mkdir(ins)
        os.mkdir(outs)
        prog = path("examples", "softmax.pat")
        rc, out, err = run(prog, "--save-inputs", ins, "--out", outs, "--seed", "3", "--place", "greedy")
        check(rc == 0 and os.listdir(ins) == ["X.npy"] and os.listdir(outs) == ["Y.npy"],
              f"--save-inputs writes X.npy: exit {rc} {os.listdir(ins)} {err[:200]}")
        rc, out, err = run(prog, "--data", ins, "--reference", outs, "--place", "greedy")
        check(rc == 0 and "mapped and verified" in out, f"--reference DIR verifies against Y.npy: exit {rc} {err[:200]}")
        code, vals = read_npy(os.path.join(outs, "Y.npy"))
        vals[5] += 0.5
        npy(outs, "Y", "<f4", (512, 128), vals)
        rc, out, err = run(prog, "--data", ins, "--reference", outs, "--place", "greedy")
        check(rc == 3 and "first at flat index 5" in out, f"--reference with a wrong element fails there: exit {rc}")
        rc, out, err = run(prog, "--data", ins, "--reference", os.path.join(d, "nowhere"), "--place", "greedy")
        check(rc == 4 and "nowhere" in err, f"--reference on a missing directory is an I/O error: exit {rc}")
        # inf against a finite reference: accepted as overflow when the bound
        # reaches FLT_MAX (a reference from another order, bound in Y.R.npy)
        ov = write(d, "ov.pat", "input x : f32[4]\noutput y : f32\ny = reduce (i: 4) + { 1.0E38 + x[i] * 0.0 }\n")
        od = os.path.join(d, "ov")
        os.mkdir(od)
        npy(od, "y", "<f4", (), [3.0e38])
        rc, out, err = run(ov, "--reference", od, "--place", "greedy")
        check(rc == 3 and "overflowed to inf" in out, f"inf against a finite reference without a bound fails, "
                                                      f"explained as overflow: exit {rc} {out[-300:]}")
        npy(od, "y.R", "<f4", (), [1.0e38])
        rc, out, err = run(ov, "--reference", od, "--place", "greedy")
        check(rc == 0 and "can overflow to inf in one order" in out,
              f"and passes, explained, when the bound reaches FLT_MAX: exit {rc} {out[-300:]}")
        # --seed-place varies placement without changing the data
        a_in, b_in = os.path.join(d, "a"), os.path.join(d, "b")
        os.mkdir(a_in)
        os.mkdir(b_in)
        ja, jb = os.path.join(d, "a.json"), os.path.join(d, "b.json")
        run(path("examples", "gemm.pat"), "--seed-place", "1", "--save-inputs", a_in, "--json", ja)
        run(path("examples", "gemm.pat"), "--seed-place", "2", "--save-inputs", b_in, "--json", jb)
        same_data = all(open(os.path.join(a_in, f), "rb").read() == open(os.path.join(b_in, f), "rb").read()
                        for f in ("A.npy", "B.npy"))
        pa, pb = json.load(open(ja))["place"]["units"], json.load(open(jb))["place"]["units"]
        check(same_data and pa != pb, "--seed-place changes the placement, not the data")


def fusion():
    """Fusion across definitions: what is fused and why not, the gain, the
    switch, and every mode on the examples that fuse."""
    fused = {"mlp.pat": "Hd into Y by (b)", "attention.pat": "S into O by (i)",
             "blocksparse.pat": "XU into Y by (m)"}
    # (blocksparse's XU is small: its gain is measured, not necessarily > 1)
    pays = ("mlp.pat", "attention.pat")
    with tempfile.TemporaryDirectory() as d:
        for fab in ("sn10.cfg", "plasticine.cfg"):
            for name, line in fused.items():
                j = os.path.join(d, "f.json")
                rc, out, err = run(path("examples", name), "--fabric", path("fabric", fab), "--gains", "--json", j,
                                   "--place", "greedy")
                r = json.load(open(j)) if rc == 0 else {}
                g = r.get("gains") or {}
                check(rc == 0 and " " + line + ": a f32[" in out and "mapped and verified" in out,
                      f"{name} on {fab}: {line}: exit {rc} {err[:300]}")
                into = [f for f in r.get("dfg", {}).get("fusion", []) if f["into"]]
                check(len(into) == 1 and (g.get("fusion") or 0) > (1.0 if name in pays else 0.9) and
                      (g["variant_cycles"]["no_fusion"] > r["emu"]["cycles"] or name not in pays) and
                      "without fusion: %d cycles" % g["variant_cycles"]["no_fusion"] in out,
                      f"{name} on {fab}: the fusion gain is measured: {g.get('fusion')} {into}")
        # what is not fused says why
        rc, out, err = run(path("examples", "logreg.pat"), "--map-only")
        check(rc == 0 and "fusion       p not fused: 'gbias' reads it as well as 'grad'" in out,
              f"logreg's p is not fused, and the report says why: {out[:500]}")
        rc, out, err = run(path("examples", "model", "ffn_1024.pat"), "--map-only", "--place", "greedy")
        check(rc == 0 and "H not fused: 'W1' is larger than a PMU and kept in DRAM" in out,
              f"a definition tiled through DRAM is not fused: {out[:500]}")
        # the dump: the buffer has no memory, its row is a double-buffered tile
        rc, out, err = run(path("examples", "mlp.pat"), "--map-only", "--dump-dfg", "-", "--place", "greedy")
        m = re.search(r"mem scratch (Y\.Hd@\d+:\d+) f32\[256\] depth 2", out)
        check(rc == 0 and "mem buffer Hd f32[64][256] fused into Y by (b): no memory of its own" in out and m,
              f"--dump-dfg shows the fused buffer and its tile: {out[:700]}")
        # the tile rotated early is a wrong output
        if m:
            rc, out, err = run(path("examples", "mlp.pat"), "--mutate", "buffer:" + m.group(1), "--place", "greedy")
            check(rc == 3 and "VERIFICATION FAILED" in out, f"--mutate buffer:{m.group(1)} is caught: exit {rc}")
        # --no-fusion: every buffer in its own definition, in a PMU
        j = os.path.join(d, "n.json")
        rc, out, err = run(path("examples", "mlp.pat"), "--no-fusion", "--json", j, "--place", "greedy")
        r = json.load(open(j)) if rc == 0 else {}
        check(rc == 0 and "fusion       none (--no-fusion)" in out and r["dfg"]["fusion"] == []
              and r["options"]["no_fusion"] is True and "mapped and verified" in out,
              f"--no-fusion keeps Hd in its own definition: exit {rc} {out[:300]}")
    # every mode, fused and not, on the examples that fuse
    modes = (["--par", "4"], ["--no-metapipe"], ["--dense"], ["--baseline", "kernel"], ["--no-fusion", "--par", "2"],
             ["--no-fusion", "--no-metapipe"], ["--no-fusion", "--dense"])
    for fab in ("sn10.cfg", "plasticine.cfg"):
        for name in fused:
            for mode in modes:
                rc, out, err = run(path("examples", name), "--fabric", path("fabric", fab), "--place", "greedy", *mode)
                check(rc == 0 and "mapped and verified" in out, f"{name} on {fab} {' '.join(mode)}: exit {rc} {err[:300]}")


{"examples": lambda: examples(sys.argv[4]), "sim": sim, "par": lambda: examples(sys.argv[4], "--par", "4", "--place", "greedy"), "strategies": lambda: strategies(sys.argv[4]), "nofit": nofit, "tiling": tiling, "errors": errors, "report": report,
 "reference": reference, "fusion": fusion}[GROUP]()
print(f"{len(FAILS)} failed")
sys.exit(1 if FAILS else 0)
