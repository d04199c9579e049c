#!/bin/bash
# bench/test_sweeps.sh — the meson test `bench-sweeps` (suite bench): the job
# list of `bench/run --jobs` runs under GNU parallel, and as a Slurm job array
# (a dry run: the generated array script is checked with bash -n and its
# body is run here for every task id), and the collector turns the reports of
# each into the same table as bench/run's own runner.
#
#   test_sweeps.sh RDUMAP SYNTH_DOT OUTDIR
#
# The cheap kinds of the quick sweep only (imported graphs, synthetic ones
# up to 300 units):
# what is tested is the plumbing, not the numbers.  Skipped (77) without GNU
# parallel.
set -eu
RDUMAP=$1 SYNTH_DOT=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v parallel >/dev/null || { echo "GNU parallel is not installed"; exit 77; }
SUBSET=(--quick --only import --only synth --max-units 300 --rdumap "$RDUMAP" --synth-dot "$SYNTH_DOT")
rm -rf "$OUT"

# reference: bench/run's own runner
"$HERE/run" "${SUBSET[@]}" --strict --out "$OUT/own"

# GNU parallel on all cores
"$HERE/run" "${SUBSET[@]}" --jobs --out "$OUT/par" > "$OUT/jobs.txt"
n=$(wc -l < "$OUT/jobs.txt")
[ "$n" -gt 0 ] || fail "empty job list"
[ "$(grep -c -- "--json $OUT/par/reports/" "$OUT/jobs.txt")" -eq "$n" ] || fail "a job line writes no report"
parallel --will-cite < "$OUT/jobs.txt"
[ "$(ls "$OUT/par/reports/"*.rc | wc -l)" -eq "$n" ] || fail "GNU parallel left jobs unrun"
"$HERE/run" "${SUBSET[@]}" --collect --strict --out "$OUT/par" --compare "$OUT/own/results.csv" \
    || fail "the reports of GNU parallel give another table"

# Slurm: generate the array script, check it, run its body for every task
"$HERE/run" "${SUBSET[@]}" --slurm --out "$OUT/slurm"
S=$OUT/slurm/slurm.sbatch
bash -n "$S" || fail "slurm.sbatch does not parse"
grep -q "^#SBATCH --array=1-$n\$" "$S" || fail "slurm.sbatch does not ask for an array of $n tasks"
[ "$(wc -l < "$OUT/slurm/jobs.txt")" -eq "$n" ] || fail "the Slurm job list has not $n lines"
for i in $(seq 1 "$n"); do
    SLURM_ARRAY_TASK_ID=$i bash "$S" > /dev/null || fail "array task $i failed"
done
if SLURM_ARRAY_TASK_ID=$((n + 1)) bash "$S" 2>/dev/null; then fail "task $((n + 1)) of $n ran"; fi
if env -u SLURM_ARRAY_TASK_ID bash "$S" 2>/dev/null; then fail "ran outside an array"; fi
"$HERE/run" "${SUBSET[@]}" --collect --strict --out "$OUT/slurm" --compare "$OUT/own/results.csv" \
    || fail "the reports of the Slurm array give another table"
echo "bench-sweeps: $n jobs under GNU parallel and as a Slurm array give the runner's table"
