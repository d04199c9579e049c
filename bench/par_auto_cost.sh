#!/bin/bash
# bench/par_auto_cost.sh — meson benchmark `par-auto-cost` (issue 10's target:
# --par auto costs at most 2x a single mapping).  For every example on
# sn10.cfg: the best of three wall times of `--map-only` with and without
# `--par auto` (the default) against `--par 1`; prints each ratio and fails
# if one passes 2.
#
#   par_auto_cost.sh RDUMAP SOURCE_ROOT
set -u
RDUMAP=$1 ROOT=$2
best() {  # best wall time of three runs of rdumap "$@", in seconds
    local b=""
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s.%N)
        "$RDUMAP" "$@" --map-only -q > /dev/null 2>&1
        t1=$(date +%s.%N)
        b=$(python3 -c "t=$t1-$t0; b='$b'; print(t if b == '' or t < float(b) else b)")
    done
    echo "$b"
}
fail=0
for p in "$ROOT"/examples/*.pat; do
    one=$(best "$p" --seed 1 --par 1)
    auto=$(best "$p" --seed 1 --par auto)
    r=$(python3 -c "print(f'{$auto / $one:.2f}')")
    printf '%-16s single %.3f s, --par auto %.3f s: %sx\n' "$(basename "$p" .pat)" "$one" "$auto" "$r"
    python3 -c "import sys; sys.exit(0 if $auto <= 2 * $one else 1)" || fail=1
done
[ $fail = 0 ] || { echo "FAIL: --par auto costs more than 2x one mapping"; exit 1; }
