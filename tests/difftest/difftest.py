#!/usr/bin/python3
"""difftest.py — differential testing of rdumap: random programs from
progfuzz.py, each mapped, emulated and verified against the reference
interpreter by `rdumap P.pat --fabric F --seed S`, and the outcome classed.

usage: difftest.py RDUMAP FABRIC SEEDS [--jobs N] [--bugs DIR] [--minimise]
                   [--min-tries N] [--timeout S] [--verbose] [--self-check]
                   [--avoid-tiny] [--fusion] [--select-guard] [--interchange] [--nest]
                   [--as-bug CLASS] [--pass ARG]...
  SEEDS   a range A..B (B exclusive), a comma list, or @FILE (one seed a line,
          '#' comments)

Classes (exit 0 only if there is no BUG):
  ok         exit 0, every output verified
  ref-error  exit 1 with a run-time error of the reference (index out of
             bounds, key out of range, division by zero), confirmed by
             `rdumap --interpret`: the generator made a program that faults;
             counted as a generator weakness (if the reference alone runs
             clean, the emulator faulted by itself: a BUG)
  nofit      exit 2: does not fit the fabric; the reason is recorded
  near-miss  exit 3 on f32 outputs that depend on a reordered + or *
             reduction, with a relative error under 1e-3 (or, where the
             reference is 0, an absolute error under 1e-4): a tolerance
             question, not a wrong answer; reported separately.  A large
             relative error on tiny values (a product of many factors) is
             a BUG: reordering changes a product only by a few ulps
  BUG        exit 3 otherwise; a compile error on a generated (valid)
             program; exit 4; a signal, a sanitizer report, or a timeout

--self-check first proves the harness can fail: a fixed program must map
and verify, and with each of its add and mul operations corrupted by
rdumap --mutate it must be classed BUG.

--pass ARG adds ARG to every rdumap command (the meson test passes
`--place greedy`: values do not depend on placement, and the annealer
takes seconds per program under the sanitizers).

--as-bug CLASS treats CLASS (nofit, near-miss, ref-error) as a BUG, e.g. to
minimise a program that does not fit.

--fusion generates chains of buffers that rdumap fuses, --select-guard
reductions guarded by `c ? body : identity`, --interchange maps of short
reductions, --nest definitions whose first dimension is 2 or 4 and second
longer, which --par 8 replicates together (progfuzz.py).

--avoid-tiny generates programs without tiny tiles inside loops (see
progfuzz.generate), to look past that known bug.

With --bugs DIR each BUG is saved as DIR/seed-S.pat, and with --minimise
also as DIR/seed-S.min.pat: the program reduced by replacing sub-trees with
constants or with their own sub-trees, dropping lets, definitions and
declarations, and shrinking constants, while the same failure persists.
"""
import concurrent.futures
import copy
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import progfuzz  # noqa: E402

SANITIZER = re.compile(r'(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|'
                       r'runtime error:|Segmentation fault|Aborted)')
VERIFY = re.compile(r'^verify\s+(\S+)\s+max abs err (\S+), max rel err (\S+)'
                    r'(?:, worst err/bound \S+)?(?: \(R up to \S+\))?: (pass|FAIL.*)$', re.M)
NEAR_REL = 1e-3
NEAR_ABS = 1e-4    # when the reference is 0, rdumap reports rel 0
EXTRA = []          # more rdumap arguments (--pass)


def run_rdumap(rdumap, fabric, text, seed, timeout, workdir, name=None):
    path = os.path.join(workdir, 'p%s.pat' % (name or seed))
    with open(path, 'w') as f:
        f.write(text)
    env = dict(os.environ)
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    try:
        p = subprocess.run([rdumap, path, '--fabric', fabric, '--seed', str(seed)] + EXTRA,
                           capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, '', 'timeout after %s s' % timeout
    return p.returncode, p.stdout, p.stderr


def outcome(args, text, seed, meta, workdir, name=None):
    """Run one program and class the result.  A run-time error is the
    reference's only if `rdumap --interpret` alone reports it too; if the
    reference runs clean, the emulator faulted on its own: a BUG."""
    rc, out, err = run_rdumap(args.rdumap, args.fabric, text, seed, args.timeout, workdir, name)
    cls, detail = classify(rc, out, err, meta)
    if cls == 'ref-error':
        path = os.path.join(workdir, 'p%s.pat' % (name or seed))
        p = subprocess.run([args.rdumap, path, '--interpret', '--seed', str(seed)],
                           capture_output=True, text=True, timeout=args.timeout)
        if p.returncode == 0:
            cls, detail = 'BUG', 'emulator run-time error that the reference does not have: ' + detail
    if cls in args.as_bug:
        cls = 'BUG'
    return cls, detail


def classify(rc, out, err, meta):
    """(class, detail) for one run."""
    if rc is None:
        return 'BUG', 'timeout'
    m = SANITIZER.search(err)
    if rc < 0 or m:
        line = next((l for l in err.splitlines() if SANITIZER.search(l)), 'signal %d' % -rc if rc < 0 else '')
        return 'BUG', 'crash: ' + line.strip()[:200]
    if rc == 0:
        if 'mapped and verified' not in out:
            return 'BUG', 'exit 0 without "mapped and verified"'
        return 'ok', ''
    first = next((l for l in err.splitlines() if 'error' in l), err.strip()[:200])
    if rc == 1:
        if 'error: in definition of' in err:
            return 'ref-error', first.strip()[:200]
        return 'BUG', 'exit 1 (compile error on a generated program): ' + first.strip()[:200]
    if rc == 2:
        reason = first.split('error:', 1)[-1].strip()
        reason = re.sub(r', worst at.*', '', re.sub(r"'[^']*'", "'X'", reason))
        return 'nofit', re.sub(r'\d+', 'N', reason)[:120]
    if rc == 3:
        fails = [(n, float(a), float(r)) for n, a, r, v in VERIFY.findall(out) if v != 'pass']
        if not fails:
            return 'BUG', 'exit 3 without a failing verify line'
        outs = meta['outputs']
        near = all(outs.get(n, {}).get('elem') == 'f32' and not outs.get(n, {}).get('exact', True)
                   and (r <= NEAR_REL if r > 0 else a <= NEAR_ABS) for n, a, r in fails)
        detail = '; '.join('%s abs %g rel %g' % f for f in fails)
        return ('near-miss' if near else 'BUG'), 'verify: ' + detail
    return 'BUG', 'exit %d: %s' % (rc, first.strip()[:200])


def signature(cls, detail):
    """What must stay the same while a failing program is minimised."""
    if detail.startswith('crash: '):
        d = detail[7:]
        m = re.search(r'(AddressSanitizer: \S+|LeakSanitizer|runtime error: [a-z ]+|signal \d+|timeout)', d)
        return 'crash', m.group(1) if m else d[:40]
    if detail.startswith('verify'):
        return 'verify', ''
    if detail.startswith('emulator run-time error'):
        return 'emu-fault', ''
    if detail.startswith('exit 1'):
        return 'rejected', re.sub(r'^.*?error: ', '', detail)[:30]
    return cls, detail.split(':')[0]


class Case:
    def __init__(self, seed, avoid_tiny=False, fusion=False, select_guard=False, interchange=False, nest=False):
        self.seed = seed
        self.prog = progfuzz.generate(seed, avoid_tiny, fusion, select_guard, interchange, nest)
        self.text = self.prog.render()
        self.meta = self.prog.meta()


def run_case(args, seed, workdir):
    c = Case(seed, args.avoid_tiny, args.fusion, args.select_guard, args.interchange, args.nest)
    cls, detail = outcome(args, c.text, seed, c.meta, workdir)
    return seed, cls, detail, c


# ---------------------------------------------------------------- minimiser

def walk(prog):
    """Every (holder, index) whose slot holds a Node: holder is a def dict
    (index 'node') or a Node's parts list.  Pre-order: big sub-trees first."""
    slots = []

    def rec(node):
        for i, p in enumerate(node.parts):
            if isinstance(p, progfuzz.Node):
                slots.append((node.parts, i))
                rec(p)
    for d in prog.defs:
        slots.append((d, 'node'))
        rec(d['node'])
    return slots


def simple_const(node):
    lo, hi = node.ival
    if node.elem == progfuzz.I32:
        v = 0 if lo <= 0 <= hi else (lo if lo > 0 else hi)
        return progfuzz.lit_i(v)
    if lo <= 0.0 <= hi:
        v = 0.0
    else:
        v = lo if lo > 0 else hi
        for nice in (0.5, 1.0, 2.0, 0.25, -0.5, -1.0, -2.0, -0.25):
            if lo <= nice <= hi:
                v = nice
                break
    if v in (float('inf'), float('-inf')):
        return None
    return progfuzz.lit_f(v)


def candidates(node):
    """Replacements for one node, simplest first."""
    out = []
    if not node.shape and node.kind not in ('lit', 'let') and node.ival is not None:
        c = simple_const(node)
        if c is not None:
            out.append(c)
    if node.kind != 'let':
        seen = 0
        stack = [p for p in node.parts if isinstance(p, progfuzz.Node)]
        while stack and seen < 40:
            ch = stack.pop(0)
            seen += 1
            if ch.kind != 'let' and ch.elem == node.elem and ch.shape == node.shape:
                out.append(ch)
            stack += [p for p in ch.parts if isinstance(p, progfuzz.Node)]
    return out


def minimise(args, case, want_sig, workdir, log):
    prog = copy.deepcopy(case.prog)
    tries = [0]

    def still_fails():
        tries[0] += 1
        text = prog.render()
        cls, detail = outcome(args, text, case.seed, case.meta, workdir)
        return cls == 'BUG' and signature(cls, detail) == want_sig

    budget = args.min_tries
    changed = True
    while changed and tries[0] < budget:
        changed = False
        # drop whole definitions, last first
        for i in reversed(range(len(prog.defs))):
            if len(prog.defs) <= 1 or tries[0] >= budget:
                break
            saved = prog.defs[:]
            del prog.defs[i]
            if still_fails():
                changed = True
            else:
                prog.defs = saved
        # a buffer may become an output (so it is checked on its own)
        # replace sub-trees
        pos = -1
        while tries[0] < budget:
            pos += 1
            slots = walk(prog)
            if pos >= len(slots):
                break
            holder, key = slots[pos]
            node = holder[key]
            if not isinstance(node, progfuzz.Node):
                continue
            for cand in candidates(node):
                holder[key] = cand
                if still_fails():
                    changed = True
                    break
                holder[key] = node
            # drop lets of a block
            if holder[key] is node and node.kind == 'block':
                j = 0
                while j < len(node.parts) and tries[0] < budget:
                    p = node.parts[j]
                    if isinstance(p, progfuzz.Node) and p.kind == 'let':
                        del node.parts[j]
                        if still_fails():
                            changed = True
                            continue
                        node.parts.insert(j, p)
                    j += 1
        # shrink constants
        for i, (name, v) in enumerate(prog.consts):
            for nv in sorted({1, 2, v // 2}):
                if nv >= v or nv < 1 or tries[0] >= budget:
                    continue
                prog.consts[i] = (name, nv)
                old = [(d, d['shape']) for d in prog.defs]
                # declared shapes written with the const name follow it
                for d in prog.defs:
                    d['shape'] = tuple(nv if x == v and prog_dim_named(prog, d, x, name) else x for x in d['shape'])
                if still_fails():
                    changed = True
                    break
                prog.consts[i] = (name, v)
                for d, s in old:
                    d['shape'] = s
        # drop unused declarations
        for i in reversed(range(len(prog.decls))):
            if tries[0] >= budget:
                break
            name = prog.decls[i].split()[1]
            body = '\n'.join(d['node'].render() for d in prog.defs)
            if re.search(r'\b%s\b' % re.escape(name), body):
                continue
            saved = prog.decls[:]
            del prog.decls[i]
            if still_fails():
                changed = True
            else:
                prog.decls = saved
        for i in reversed(range(len(prog.consts))):
            if tries[0] >= budget:
                break
            name = prog.consts[i][0]
            text = prog.render()
            if len(re.findall(r'\b%s\b' % re.escape(name), text)) > 1:
                continue
            saved = prog.consts[:]
            del prog.consts[i]
            if still_fails():
                changed = True
            else:
                prog.consts = saved
    log('  minimised in %d runs' % tries[0])
    return prog.render()


def prog_dim_named(prog, d, x, name):
    """Is dimension value x of definition d written as const `name`?"""
    names = [n for n, v in prog.consts if v == x]
    return names[:1] == [name]


# ---------------------------------------------------------------- self-check

SELF_CHECK = '''const N = 40
input  x : f32[N]
input  k : i32[N] in 0 .. 8
output y : f32[N]
output h : i32[8]
y = map (i: N) { x[i] * 2.0 + 1.0 }
h = groupby (i: N) + key k[i] into 8 { i }
'''


def self_check(args, workdir, log):
    """The harness can fail: the program above maps and verifies, and with
    each of its mul and add operations corrupted (--mutate) it is classed
    as a BUG by its wrong answer."""
    meta = {'outputs': {'y': {'elem': 'f32', 'exact': True}, 'h': {'elem': 'i32', 'exact': True}}}
    rc, out, err = run_rdumap(args.rdumap, args.fabric, SELF_CHECK, 1, args.timeout, workdir, 'self')
    cls, detail = classify(rc, out, err, meta)
    ok = cls == 'ok'
    log('self-check: unmutated program is %s %s' % (cls, detail))
    path = os.path.join(workdir, 'pself.pat')
    dump = subprocess.run([args.rdumap, path, '--fabric', args.fabric, '--dump-dfg', '-'] + EXTRA,
                          capture_output=True, text=True, timeout=args.timeout).stdout
    nums = [int(n) for n in re.findall(r'#(\d+) r\d+ = (?:mul|add)\.', dump)]
    if not nums:
        log('self-check: no mul/add/groupby operation in --dump-dfg output')
        return False
    caught = 0
    for n in nums:
        p = subprocess.run([args.rdumap, path, '--fabric', args.fabric, '--mutate', str(n)] + EXTRA,
                           capture_output=True, text=True, timeout=args.timeout)
        c, d = classify(p.returncode, p.stdout, p.stderr, meta)
        log('self-check: --mutate %d is %s %s' % (n, c, d))
        caught += c == 'BUG' and d.startswith('verify')
    return ok and caught == len(nums)


# ---------------------------------------------------------------- driver

def parse_seeds(spec):
    if spec.startswith('@'):
        out = []
        with open(spec[1:]) as f:
            for line in f:
                line = line.split('#')[0].strip()
                if line:
                    out += [int(x) for x in line.replace(',', ' ').split()]
        return out
    if '..' in spec:
        a, b = spec.split('..')
        return list(range(int(a), int(b)))
    return [int(x) for x in spec.split(',')]


class Args:
    pass


def parse_args(argv):
    a = Args()
    pos = []
    a.jobs, a.bugs, a.minimise, a.timeout, a.verbose, a.min_tries = 2, None, False, 60.0, False, 300
    a.self_check = False
    a.avoid_tiny = False
    a.fusion = False
    a.select_guard = False
    a.interchange = False
    a.nest = False
    a.as_bug = []
    i = 0
    while i < len(argv):
        x = argv[i]
        if x == '--jobs':
            a.jobs = int(argv[i + 1]); i += 1
        elif x == '--bugs':
            a.bugs = argv[i + 1]; i += 1
        elif x == '--minimise':
            a.minimise = True
        elif x == '--timeout':
            a.timeout = float(argv[i + 1]); i += 1
        elif x == '--min-tries':
            a.min_tries = int(argv[i + 1]); i += 1
        elif x == '--verbose':
            a.verbose = True
        elif x == '--pass':
            EXTRA.append(argv[i + 1]); i += 1
        elif x == '--as-bug':
            a.as_bug.append(argv[i + 1]); i += 1
        elif x == '--avoid-tiny':
            a.avoid_tiny = True
        elif x == '--fusion':
            a.fusion = True
        elif x == '--select-guard':
            a.select_guard = True
        elif x == '--interchange':
            a.interchange = True
        elif x == '--nest':
            a.nest = True
        elif x == '--self-check':
            a.self_check = True
        else:
            pos.append(x)
        i += 1
    if len(pos) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(4)
    a.rdumap, a.fabric, seeds = pos
    a.seeds = parse_seeds(seeds)
    return a


def main(argv):
    args = parse_args(argv[1:])
    counts = {}
    bugs, near, nofit, referr = [], [], {}, []

    def log(s):
        print(s, flush=True)

    with tempfile.TemporaryDirectory(prefix='difftest-') as workdir:
        if args.self_check and not self_check(args, workdir, log):
            log('self-check FAILED: the harness would not notice a wrong answer')
            return 1
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = [ex.submit(run_case, args, s, workdir) for s in args.seeds]
            for f in futs:
                seed, cls, detail, case = f.result()
                counts[cls] = counts.get(cls, 0) + 1
                if args.verbose or cls not in ('ok',):
                    log('seed %-7d %-9s %s' % (seed, cls, detail))
                if cls == 'BUG':
                    bugs.append((seed, detail, case))
                    if not args.bugs:
                        log(case.text)
                elif cls == 'near-miss':
                    near.append((seed, detail))
                elif cls == 'nofit':
                    nofit[detail] = nofit.get(detail, 0) + 1
                elif cls == 'ref-error':
                    referr.append(seed)
        if args.bugs and bugs:
            os.makedirs(args.bugs, exist_ok=True)
            for seed, detail, case in bugs:
                base = os.path.join(args.bugs, 'seed-%d' % seed)
                with open(base + '.pat', 'w') as f:
                    f.write('# %s\n%s' % (detail, case.text))
                if args.minimise:
                    log('minimising seed %d (%s)' % (seed, detail))
                    sig = signature('BUG', detail)
                    small = minimise(args, case, sig, workdir, log)
                    with open(base + '.min.pat', 'w') as f:
                        f.write('# %s\n%s' % (detail, small))
                    log(small)
    total = len(args.seeds)
    log('')
    log('%d programs: %s' % (total, ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    for reason, n in sorted(nofit.items(), key=lambda kv: -kv[1]):
        log('  nofit %4d  %s' % (n, reason))
    if referr:
        log('  ref-error seeds (generator weakness): %s' % ' '.join(map(str, referr[:50])))
    if near:
        log('  near-miss seeds: %s' % ' '.join(str(s) for s, _ in near[:50]))
    if bugs:
        log('BUG seeds: %s' % ' '.join(str(s) for s, _, _ in bugs))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
