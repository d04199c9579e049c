#!/bin/sh
# test_cli_strict.sh RDUMAP SRCDIR — `rdumap --dfg` reads a graph as its own
# tool reads it, and `--strict` restores the refusal, with exit status 1 and
# the diagnostic at its line.
set -u
rdumap=$1
dfgs=$2/tests/data/dfgs
fabric=$2/fabric/plasticine.cfg
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0

# expect STATUS TEXT ARGS...: run rdumap, check its status and that TEXT is
# in what it printed (stdout and stderr together).
expect() {
    want=$1 text=$2
    shift 2
    "$rdumap" "$@" >"$out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -qF -- "$text" "$out"; then
        echo "FAIL: rdumap $* exited $got (expected $want) or did not say: $text"
        cat "$out"
        fail=1
    fi
}

expect 0 "dct.xml:1192: warning: duplicate node idx 88 (first declared at line 1179)" \
    --dfg "$dfgs/morpher/dct.xml" --fabric "$fabric" --place greedy
expect 0 "status   mapped" --dfg "$dfgs/morpher/gemm_nt.xml" --fabric "$fabric" --place greedy
expect 1 "dct.xml:1192: error: duplicate node idx 88 (first declared at line 1179); --strict refuses it" \
    --dfg "$dfgs/morpher/dct.xml" --fabric "$fabric" --place greedy --strict
expect 0 "accum.dot:32: note: edge add16 -> add16 closes a cycle" \
    --dfg "$dfgs/cgrame/accum.dot" --fabric "$fabric" --place greedy
expect 0 "status   mapped" --dfg "$dfgs/cgrame/sum.dot" --fabric "$fabric" --place greedy
expect 1 "error: combinational loop: the cycle add3 -> add3 has no loop-carried edge" \
    --dfg "$dfgs/cgrame/sum.dot" --fabric "$fabric" --place greedy --strict
# a graph with nothing to repair reads the same either way
expect 0 "status   mapped" --dfg "$dfgs/morpher/mac.xml" --fabric "$fabric" --place greedy --strict
expect 0 "--strict" --help
exit $fail
