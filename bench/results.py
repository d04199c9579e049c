#!/usr/bin/env python3
"""The results harness: run every example across the shipped fabrics and the
placement strategies, and write the results page.

usage: results.py RDUMAP SOURCE_ROOT OUT.md [--placement-md docs/placement.md] [--ilp-seconds S]

Every figure in the page comes from an rdumap run made by this script (its
JSON report); nothing is typed in by hand.  With --placement-md, the table
of strategies between the markers
    <!-- results:strategies:begin --> ... <!-- results:strategies:end -->
in that file is replaced too.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

RDUMAP, ROOT, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
PLACEMENT_MD = args[args.index("--placement-md") + 1] if "--placement-md" in args else None
ILP_SECONDS = args[args.index("--ilp-seconds") + 1] if "--ilp-seconds" in args else "20"
FABRICS = ["sn10.cfg", "plasticine.cfg"]
STRATEGIES = ["random", "greedy", "sa", "ilp"]


def rdumap(*a):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as t:
        path = t.name
    try:
        p = subprocess.run([RDUMAP, *a, "--json", path, "-q"], capture_output=True, text=True, timeout=3600)
        report = json.load(open(path)) if os.path.getsize(path) > 0 else None
    except (json.JSONDecodeError, OSError):
        report = None
    finally:
        if os.path.exists(path):
            os.remove(path)
    return p.returncode, report, p.stderr.strip()


def examples():
    return sorted(f[:-4] for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".pat"))


def fmt(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def par8(name, fab):
    """Cycles and roofline with --par 8, or why it does not map."""
    rc, r, err = rdumap(os.path.join(ROOT, "examples", name + ".pat"), "--fabric",
                        os.path.join(ROOT, "fabric", fab), "--par", "8")
    if rc != 0 or not r:
        reason = err.split("error: ", 1)[-1].splitlines()[0][:60] if err else f"exit {rc}"
        return f"does not map: {reason} | –"
    return f"{r['emu']['cycles']:,} | {100 * r['emu']['roofline_fraction']:.1f}%"


def mapping_table(lines):
    for fab in FABRICS:
        lines.append(f"\n### {fab[:-4]}\n")
        lines.append("| example | VPCUs | VPMUs | VAGs | streams | cycles | µs | FLOP | roofline | "
                     "meta-pipelining | sparsity | spatial | verified | host s | cycles `--par 8` | roofline `--par 8` |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
        for name in examples():
            rc, r, err = rdumap(os.path.join(ROOT, "examples", name + ".pat"), "--fabric",
                                os.path.join(ROOT, "fabric", fab), "--gains")
            if rc != 0 or not r:
                lines.append(f"| {name} | | | | | exit {rc}: {err[:80]} | | | | | | | | |")
                continue
            e, g, dfg = r["emu"], r.get("gains", {}), r["dfg"]
            us = e["cycles"] / r["fabric"]["clock_mhz"]
            lines.append(f"| {name} | {dfg['pcus']} | {dfg['pmus']} | {dfg['ags']} | {dfg['streams']} | "
                         f"{e['cycles']:,} | {us:,.1f} | {e['flops']:,} | {100 * e['roofline_fraction']:.1f}% | "
                         f"{fmt(g.get('metapipe'))}× | {fmt(g.get('sparsity'))}× | {fmt(g.get('spatial'))}× | "
                         f"{'yes' if r['verify']['passed'] else 'NO'} | {e['host_seconds']:.2f} | {par8(name, fab)} |")


def strategy_table(fab):
    rows = ["| example | units | random | greedy | sa | ilp | ilp bound | sa gap to bound | "
            "time random / greedy / sa / ilp (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name in examples():
        cost, secs, bound, optimal, units = {}, {}, None, False, None
        for s in STRATEGIES:
            extra = ["--time-limit", ILP_SECONDS] if s == "ilp" else []
            rc, r, err = rdumap(os.path.join(ROOT, "examples", name + ".pat"), "--fabric",
                                os.path.join(ROOT, "fabric", fab), "--place", s, "--map-only", *extra)
            if not r:
                cost[s] = None
                continue
            cost[s] = r["place"]["cost"]
            secs[s] = r["place"]["seconds"]
            units = r["dfg"]["pcus"] + r["dfg"]["pmus"] + r["dfg"]["ags"]
            if rc == 2:
                cost[s] = f"{cost[s]:.0f} (unroutable)"
            if s == "ilp":
                bound = r["place"]["bound"]
                optimal = r["place"].get("optimal", False)
        gap = None
        if bound and isinstance(cost.get("sa"), float) and bound > 0:
            gap = 100.0 * (cost["sa"] - bound) / bound
        c = {s: (f"{v:.0f}" if isinstance(v, float) else (v or "–")) for s, v in cost.items()}
        b = "–" if bound is None else f"{bound:.0f}{' (optimal)' if optimal else ''}"
        t = " / ".join(f"{secs.get(s, 0):.2f}" for s in STRATEGIES)
        rows.append(f"| {name} | {units} | {c.get('random')} | {c.get('greedy')} | {c.get('sa')} | {c.get('ilp')} | "
                    f"{b} | {fmt(gap, 1)}{'%' if gap is not None else ''} | {t} |")
    return rows


def main():
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Results", "",
             f"Produced by `bench/results.py` on {when} ({platform.machine()}, {os.cpu_count()} cores); "
             "regenerate with `make results`. Every number below comes from an rdumap run's JSON report.", "",
             "## Mapping, emulation and gains", "",
             "Default options (`--place sa`, seed 1). Cycles are emulated (docs/mapping.md states the model); "
             "the gains are `--gains`: cycles of the variant (no meta-pipelining, dense, kernel-by-kernel) "
             "divided by cycles of the design. Without `--par` one pipeline does each loop's work, which is "
             "why the roofline fractions of compute-heavy kernels are low; the last two columns replicate the "
             "outer map loops 8 ways."]
    mapping_table(lines)
    lines += ["", "## Placement strategies", "",
              f"The same cost for every strategy (docs/placement.md). `--map-only`, seed 1; `ilp` starts from "
              f"the `sa` placement and stops after {ILP_SECONDS} s, reporting its proven lower bound. "
              "The gap is `(sa - bound) / bound`; 0% with an optimal bound means `sa` found the optimum."]
    strat = {}
    for fab in ["plasticine.cfg"]:
        lines += ["", f"### {fab[:-4]}", ""]
        strat[fab] = strategy_table(fab)
        lines += strat[fab]
    lines.append("")
    with open(OUT + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(OUT + ".tmp", OUT)
    if PLACEMENT_MD:
        text = open(PLACEMENT_MD).read()
        begin, end = "<!-- results:strategies:begin -->", "<!-- results:strategies:end -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _, tail = rest.split(end, 1)
            block = "\n".join([begin, f"(plasticine, generated by `make results` on {when})", "",
                               *strat["plasticine.cfg"], end])
            with open(PLACEMENT_MD + ".tmp", "w") as f:
                f.write(head + block + tail)
            os.replace(PLACEMENT_MD + ".tmp", PLACEMENT_MD)
    print("\n".join(lines))


main()
