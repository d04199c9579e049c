#!/bin/bash
# bench/model_time.sh — meson benchmark `model-time` (issue 9's targets): each
# model-size program of examples/model/ maps, simulates and verifies by
# default on sn10.cfg and plasticine.cfg in under 2 minutes end to end, and
# gemm 4096^3 maps (--map-only) in under 10 s.  Prints each wall time.
#
#   model_time.sh RDUMAP SOURCE_ROOT
set -u
RDUMAP=$1 ROOT=$2
fail=0
run() {  # limit, then rdumap arguments
    local limit=$1; shift
    local t0 t1 rc
    t0=$(date +%s.%N)
    "$RDUMAP" "$@" -q > /dev/null 2>&1; rc=$?
    t1=$(date +%s.%N)
    local t; t=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
    echo "$* : exit $rc, $t s (limit $limit s)"
    python3 -c "import sys; sys.exit(0 if $rc == 0 and $t <= $limit else 1)" || fail=1
}
for fab in sn10 plasticine; do
    for p in gemm_1024 softmax_4096x1024 ffn_1024; do
        run 120 "$ROOT/examples/model/$p.pat" --fabric "$ROOT/fabric/$fab.cfg"
    done
    run 10 "$ROOT/examples/model/gemm_4096.pat" --fabric "$ROOT/fabric/$fab.cfg" --map-only
done
[ $fail = 0 ] || { echo "FAIL: a model-size program failed or took longer than its limit"; exit 1; }
