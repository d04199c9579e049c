#!/bin/bash
# bench/test_quick.sh — the meson test `bench-quick` (suite bench): keeps the
# results harness alive in CI.
#
#   test_quick.sh RDUMAP SYNTH_DOT OUTDIR
#
# Runs `bench/run --quick` twice, the second time in reverse order, and
# checks that: every run finished (no crash, timeout or failed verification:
# --strict); the CSV, JSON, page and (with gnuplot) plots were written; the
# two runs agree in every column that is not a time (--compare); and that a
# plain run rewrote no tracked file (docs/ is untouched without --update-docs);
# and that the runs it shares with the committed docs/results.csv give the
# same cycles, costs and outcomes (--check-docs): the results page has not
# drifted from the code.
set -eu
RDUMAP=$1 SYNTH_DOT=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
fail() { echo "FAIL: $*" >&2; exit 1; }

docs_sum() { find "$ROOT/docs" -type f -print0 | sort -z | xargs -0 sha256sum; }
before=$(docs_sum)
rm -rf "$OUT"
"$HERE/run" --quick --strict --check-docs --out "$OUT/a" --rdumap "$RDUMAP" --synth-dot "$SYNTH_DOT" ||
    fail "a run failed, or docs/results.md has drifted from the code (its cycles, costs or outcomes differ: make results)"
for f in results.csv results.json results.md; do
    [ -s "$OUT/a/$f" ] || fail "no $f"
done
python3 - "$OUT/a" <<'PY' || fail "the collected files are not what they should be"
import csv, json, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(out + "/results.csv")))
data = json.load(open(out + "/results.json"))
assert len(rows) == len(data["rows"]) > 0, "CSV and JSON disagree"
kinds = {r["kind"] for r in rows}
assert kinds == {"emu", "place", "import", "synth"}, f"kinds {kinds}"
assert all(r["exit"] != "" for r in rows), "a run left no exit status"
mapped = [r for r in rows if r["kind"] == "place" and r["status"] == "mapped"]
assert mapped and all(float(r["place_cost"]) > 0 for r in mapped), "placement costs missing"
assert any(r["kind"] == "emu" and r["cycles"] for r in rows), "no emulated cycles"
assert any(r["kind"] == "emu" and r["status"] == "does not fit" and r["reason"] for r in rows), "no refusal reason"
page = open(out + "/results.md").read()
for h in ("## Placement strategies", "## Cycles, roofline and gains", "## Published claims",
          "## Imported graph suites", "## Mapping time against graph size"):
    assert h in page, f"the page has no '{h}'"
PY
if command -v gnuplot >/dev/null; then
    for p in placement-cost-time mapping-time-size roofline-plasticine gains-plasticine; do
        grep -q "<svg" "$OUT/a/img/$p.svg" 2>/dev/null || fail "no plot $p.svg"
        grep -q "img/$p.svg" "$OUT/a/results.md" || fail "the page does not show $p.svg"
    done
else
    echo "gnuplot is not installed: plots not checked"
fi
# The collector reads reports defensively: a null or missing key, a report
# that is not JSON and a run that never ran are rows, not crashes.
cp -r "$OUT/a" "$OUT/c"
python3 - "$OUT/c/reports" <<'PY' || fail "could not damage the copied reports"
import glob, json, os, sys
d = sys.argv[1]
emu = sorted(p for p in glob.glob(d + "/emu.*.json"))[0]
r = json.load(open(emu)); r["emu"] = None; r["gains"] = None; r["dfg"] = {"pcus": None}
json.dump(r, open(emu, "w"))
place = sorted(glob.glob(d + "/place.*.json"))
r = json.load(open(place[0])); del r["place"]; r["route"] = None
json.dump(r, open(place[0], "w"))
open(place[1], "w").write("{ not json")
os.remove(place[2][:-5] + ".rc")
PY
"$HERE/run" --quick --collect --out "$OUT/c" > "$OUT/c.log" 2>&1 || { cat "$OUT/c.log"; fail "the collector failed on damaged reports"; }
grep -q "| not run |" "$OUT/c/results.md" || fail "a run without an exit status is not reported as not run"
"$HERE/run" --quick --collect --strict --out "$OUT/c" > /dev/null 2>&1 && fail "--strict passed a run that was not run"

"$HERE/run" --quick --strict --reverse --out "$OUT/b" --rdumap "$RDUMAP" --synth-dot "$SYNTH_DOT" \
    --compare "$OUT/a/results.csv" || fail "the second run differs from the first (see above)"
[ "$before" = "$(docs_sum)" ] || fail "a plain run changed files under docs/"
echo "bench-quick: two quick runs agree except in timings; docs/ untouched"
