#!/usr/bin/env python3
"""fault.py - fail every allocation of whole rdumap runs, one at a time.

SQLite-style fault injection (util/alloc.h): a run with RDUMAP_ALLOC_STATS=1
reports how many hooked allocations it makes; then the run is repeated with
RDUMAP_FAULT_ALLOC=k for k = 1..N (one-shot: only the kth fails) and with
RDUMAP_FAULT_ALLOC=k+ (the kth and every later one fails).  Each faulty run
must end with exit status 4, a message saying that memory ran out, no crash,
no sanitizer report (leaks included: the suite runs under ASan), and no file
left behind in its directory, not even a temporary.

The runs (one pipeline, --par 1, except the second): a .pat program with
--out, --json, --svg and --dump-dfg; the same mapped with --par auto; a --dfg
import with --json and --svg; an --interpret run with --out; a tiled gemm
whose tensors stay in DRAM (on tests/data/plasticine-1k.cfg); a --place ilp
--map-only run (annealing and the ILP).  The others on fabric/tiny.cfg.

  fault.py RDUMAP SOURCE_ROOT [--stride K] [--all]

In the suite every K-th site is tried (K chosen so the whole test stays
within about 30 s); --all tries every site (see docs/robustness.md).
"""
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor


def runs(root):
    tiny = os.path.join(root, 'fabric', 'tiny.cfg')
    pat = os.path.join(root, 'tests', 'golden', 'cases', 'gemm_small.pat')
    dot = os.path.join(root, 'tests', 'import', 'dot', 'saxpy.dot')
    return [
        ('pat', [pat, '--fabric', tiny, '--place', 'greedy', '--out', 'out', '--json', 'r.json',
                 '--svg', 'r.svg', '--dump-dfg', 'g.dot', '-q', '--par', '1']),
        # --par auto (the default): its trial counts, each lowered and checked
        ('par', [pat, '--fabric', tiny, '--place', 'greedy', '--map-only', '--json', 'r.json', '-q']),
        ('dfg', ['--dfg', dot, '--fabric', tiny, '--place', 'greedy', '--json', 'r.json',
                 '--svg', 'r.svg', '-q']),
        ('interpret', [pat, '--interpret', '--out', 'out', '-q']),
        # tensors in DRAM, a tiled map and a reduction split across tiles
        ('tiled', [os.path.join(root, 'tests', 'fault', 'gemm_tiled.pat'), '--fabric',
                   os.path.join(root, 'tests', 'data', 'plasticine-1k.cfg'), '--place', 'greedy', '--out', 'out',
                   '--json', 'r.json', '-q', '--par', '1']),
        # the annealer and the ILP (its warm start) and their placement problem;
        # a run costs a second or more, so it is sampled 4 times more thinly
        ('ilp', [pat, '--fabric', tiny, '--place', 'ilp', '--effort', '0.05', '--map-only', '--json', 'r.json',
                 '-q', '--par', '1']),
    ]


def run_once(rdumap, args, fault):
    env = dict(os.environ)
    env.pop('RDUMAP_FAULT_ALLOC', None)
    if fault:
        env['RDUMAP_FAULT_ALLOC'] = fault
    else:
        env['RDUMAP_ALLOC_STATS'] = '1'
    d = tempfile.mkdtemp(prefix='rdumap-fault-')
    try:
        p = subprocess.run([rdumap] + args, cwd=d, env=env, capture_output=True, text=True,
                           timeout=120)
        left = sorted(os.listdir(d))
        return p.returncode, p.stderr, left
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check(name, fault, rc, err, left):
    """The problems of one faulty run, as a list of strings."""
    bad = []
    if rc != 4:
        bad.append('exit status %d, not 4' % rc)
    if 'out of memory' not in err:
        bad.append('no "out of memory" message')
    for word in ('Sanitizer', 'runtime error', 'Assertion', 'SUMMARY'):
        if word in err:
            bad.append('stderr has "%s"' % word)
    if left:
        bad.append('files left behind: %s' % ', '.join(left))
    return ['%s RDUMAP_FAULT_ALLOC=%s: %s\n%s' % (name, fault, '; '.join(bad), err[-2000:])] if bad else []


def main():
    rdumap, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    stride = 1
    if '--stride' in sys.argv:
        stride = int(sys.argv[sys.argv.index('--stride') + 1])
    if '--all' in sys.argv:
        stride = 1
    problems = []
    total = 0
    for name, args in runs(root):
        stride_run = stride * 4 if name == 'ilp' and '--all' not in sys.argv else stride
        rc, err, left = run_once(rdumap, args, None)
        if rc != 0:
            print('%s: the run without faults fails (%d):\n%s' % (name, rc, err))
            return 1
        line = [l for l in err.splitlines() if 'allocations' in l]
        n = int(line[-1].split('note: ')[1].split()[0])
        # Offset the sample by the run's index so that the three runs do not
        # all skip the same residues.
        sites = sorted(set(list(range(1 + total % stride_run, n + 1, stride_run)) + [1, n]))
        faults = [str(k) for k in sites] + [str(k) + '+' for k in sites[::4]]
        with ThreadPoolExecutor(max_workers=2) as ex:
            results = list(ex.map(lambda f: (f,) + run_once(rdumap, args, f), faults))
        for f, rc, err, left in results:
            problems += check(name, f, rc, err, left)
        print('%s: %d allocation sites, %d faulty runs (stride %d)' % (name, n, len(faults), stride_run))
        total += n
    for p in problems[:30]:
        print(p)
    print('%d problems' % len(problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
