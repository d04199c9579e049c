#!/usr/bin/env python3
"""cli_robust.py - exit codes, all-or-nothing outputs and messages of rdumap.

    cli_robust.py RDUMAP SOURCE_ROOT

Each check was a defect once (issue 13):
  - every file that cannot be opened exits 4, naming it (a missing
    --fabric, --data directory or --placement file exited 1);
  - one output that cannot be written (/dev/full) leaves none of the others
    (r.json said "verified" once while the run failed), and the message
    names the file and the system's reason;
  - --out DIR is created when its parent exists, and refused naming DIR
    when the parent does not;
  - --dump-dfg - shows the routed hops of the streams (it printed 'hops 0'
    on every stream);
  - a misspelled keyword points at the word with a suggestion, and a
    misspelled option gets the nearest one.
"""
import os
import subprocess
import sys
import tempfile

FAILS = []


def run(args, cwd):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    print(('ok    ' if cond else 'FAIL  ') + what)
    if not cond:
        FAILS.append(what)


def main():
    rdumap, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tiny = os.path.join(root, 'fabric', 'tiny.cfg')
    pat = os.path.join(root, 'tests', 'golden', 'cases', 'gemm_small.pat')
    with tempfile.TemporaryDirectory(prefix='rdumap-robust-') as d:
        base = [rdumap, pat, '--fabric', tiny, '--place', 'greedy', '-q']
        for what, args, name in [
                ('program', [rdumap, 'nope.pat'], 'nope.pat'),
                ('--fabric', [rdumap, pat, '--fabric', 'nope.cfg'], 'nope.cfg'),
                ('--data', base + ['--data', 'nodir'], 'nodir'),
                ('--placement', base + ['--placement', 'nope.json'], 'nope.json'),
                ('--dfg', [rdumap, '--dfg', 'nope.dot'], 'nope.dot')]:
            rc, _, err = run(args, d)
            check(rc == 4 and name in err and 'No such file' in err,
                  'a missing %s exits 4 naming %s (got %d: %s)' % (what, name, rc, err.strip()[:120]))

        # One output on a full device: none of the others is written.
        rc, _, err = run(base + ['--json', 'r.json', '--svg', 'r.svg', '--out', 'out', '--dump-dfg', '/dev/full'], d)
        check(rc == 4 and '/dev/full' in err and 'No space left on device' in err,
              '--dump-dfg /dev/full exits 4 naming the file and the reason (got %d: %s)' % (rc, err.strip()[:160]))
        check(sorted(os.listdir(d)) == [], 'and leaves neither r.json, r.svg nor out/ (found %s)' % os.listdir(d))
        rc, _, err = run(base + ['--json', '/dev/full', '--svg', 'r.svg'], d)
        check(rc == 4 and '/dev/full' in err and os.listdir(d) == [],
              '--json /dev/full: exit 4, no r.svg (got %d, %s)' % (rc, os.listdir(d)))

        # --out creates its directory when the parent exists.
        rc, _, err = run(base + ['--out', 'fresh', '--json', 'r.json'], d)
        check(rc == 0 and sorted(os.listdir(os.path.join(d, 'fresh'))) == ['C.npy'],
              '--out fresh creates fresh/ and writes C.npy (got %d: %s)' % (rc, err.strip()[:160]))
        rc, _, err = run(base + ['--out', 'no/such/dir'], d)
        check(rc == 4 and 'no/such/dir' in err and 'parent' in err,
              '--out with a missing parent exits 4 naming it (got %d: %s)' % (rc, err.strip()[:160]))

        # --dump-dfg - after routing: hops are the routed ones.
        rc, out, err = run(base + ['--map-only', '--dump-dfg', '-'], d)
        hops = [int(w.split()[1]) for line in out.splitlines() for w in [line[line.find('hops'):]]
                if 'hops ' in line]
        check(rc == 0 and hops and any(h > 0 for h in hops),
              '--dump-dfg - shows routed hops (got %s)' % hops[:10])

        # A misspelled keyword points at the word and suggests the keyword.
        with open(os.path.join(d, 't.pat'), 'w') as f:
            f.write('const N = 4\ninput x : f32[N]\noutput y : f32[N]\n'
                    'y = map (i: N) { reduse (j: N) + { x[j] } }\n')
        rc, _, err = run([rdumap, 't.pat', '--interpret'], d)
        check(rc == 1 and "t.pat:4:18:" in err and "did you mean 'reduce'?" in err,
              "'reduse' is pointed at with a suggestion (got %d: %s)" % (rc, err.strip()[:160]))
        rc, _, err = run([rdumap, 't.pat', '--jsno', 'r.json'], d)
        check(rc == 4 and "did you mean '--json'?" in err,
              "a misspelled option gets the nearest one (got %d: %s)" % (rc, err.strip()[:160]))
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
