#!/usr/bin/env python3
"""import_tables.py — the measured tables of docs/import.md ("Measured
figures"), one imp_drive process per (graph, fabric, strategy), each
writing its JSON report.

    python3 tests/import/import_tables.py IMP_DRIVE SRCDIR [--time-limit S] [--seed N] > tables.md

Each cell: placement cost (words x hops) . II . latency of one iteration
(cycles) . wall seconds of the whole job.  A graph the fabric cannot hold
is one cell with the reason imp_drive gives (exit 2); a graph refused as
wrong (exit 1) likewise.  Progress goes to stderr.
"""
import argparse
import json
import os
import subprocess
import sys
import time

GRAPHS = [
    ("morpher", "sum.xml"), ("morpher", "mac.xml"), ("morpher", "matrixmultiply.xml"), ("morpher", "conv2.xml"),
    ("morpher", "mults1.xml"), ("morpher", "conv3.xml"), ("morpher", "accumulate.xml"), ("morpher", "cap.xml"),
    ("morpher", "mults2.xml"), ("morpher", "array_add.xml"), ("morpher", "mac2.xml"), ("morpher", "fix_fft.xml"),
    ("morpher", "gemm_nt.xml"), ("morpher", "dct.xml"), ("cgrame", "sum.dot"), ("cgrame", "accum.dot"),
]
FABRICS = ["tiny", "cgra4x4", "cgra8x8", "plasticine", "sn10"]
STRATEGIES = ["greedy", "random", "sa", "ilp"]


def first_error(stderr):
    """The first error's message, without its FILE:LINE: error: prefix."""
    for line in stderr.splitlines():
        if ": error: " in line:
            return line.split(": error: ", 1)[1].strip()
    return "refused"


def run(drive, path, fabric, strategy, args):
    cmd = [drive, path, "--fabric", fabric, "--place", strategy, "--seed", str(args.seed),
           "--time-limit", str(args.time_limit), "--json"]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    report = None
    if p.stdout.strip():
        try:
            report = json.loads(p.stdout)
        except json.JSONDecodeError:
            report = None
    return p.returncode, report, p.stderr, wall


def cell(rc, rep, wall):
    cost = rep["place"]["cost"]
    place = rep["place"]
    if place.get("optimal"):
        tag = " (opt)"
    elif place.get("bound") is not None:
        tag = " (bound %g)" % place["bound"]
    else:
        tag = ""
    imp = rep["import"]
    routed = rep["route"] is not None and rep["route"]["legal"]
    note = "" if routed else " (not routed)"
    return "%g%s · %d · %d · %.2f%s" % (cost, tag, imp["ii"], imp["latency_cycles"], wall, note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("drive")
    ap.add_argument("srcdir")
    ap.add_argument("--time-limit", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    total = len(GRAPHS) * len(FABRICS) * len(STRATEGIES)
    done = 0
    t_start = time.monotonic()
    out = []
    for fab in FABRICS:
        fabric = os.path.join(args.srcdir, "fabric", fab + ".cfg")
        out.append("#### `%s`\n" % fab)
        out.append("| graph | nodes | PCU / PMU | RecMII | " +
                   " | ".join("%s: cost · II · latency · s" % s for s in STRATEGIES) + " |")
        out.append("|---|---|---|---|" + "---|" * len(STRATEGIES))
        for tool, name in GRAPHS:
            path = os.path.join(args.srcdir, "tests", "data", "dfgs", tool, name)
            label = "%s %s" % ("CGRA-ME" if tool == "cgrame" else "Morpher", name.rsplit(".", 1)[0])
            cells, head = [], None
            for s in STRATEGIES:
                rc, rep, err, wall = run(args.drive, path, fabric, s, args)
                done += 1
                print("[%d/%d] %s on %s, %s: exit %d, %.1f s (%.0f s so far)" %
                      (done, total, label, fab, s, rc, wall, time.monotonic() - t_start), file=sys.stderr)
                if rc != 0 and (rep is None or not rep["place"]):
                    # refused before placement: the same for every strategy
                    imp = rep["import"] if rep else None
                    nodes = imp["nodes"] if imp else "–"
                    units = "%d / %d" % (rep["dfg"]["pcus"], rep["dfg"]["pmus"]) if rep and rep["dfg"]["pcus"] else "–"
                    recmii = imp["recmii"] if imp and imp["recmii"] is not None else "–"
                    why = first_error(err)
                    out.append("| %s | %s | %s | %s | %s: %s |%s" %
                               (label, nodes, units, recmii, "does not fit" if rc == 2 else "refused", why,
                                " |" * (len(STRATEGIES) - 1)))
                    done += len(STRATEGIES) - 1 - len(cells)
                    head = "refused"
                    break
                imp = rep["import"]
                if head is None:
                    head = "| %s | %d | %d / %d | %d |" % (label, imp["nodes"], rep["dfg"]["pcus"], rep["dfg"]["pmus"],
                                                        imp["recmii"])
                cells.append(cell(rc, rep, wall) if rc == 0 else "exit %d: %s" % (rc, first_error(err)))
            if head != "refused":
                out.append(head + " " + " | ".join(cells) + " |")
        out.append("")
    print("\n".join(out))
    print("%d runs in %.0f s" % (total, time.monotonic() - t_start), file=sys.stderr)


if __name__ == "__main__":
    main()
