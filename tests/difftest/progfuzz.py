#!/usr/bin/python3
"""progfuzz.py — random, well-typed, valid `.pat` programs for differential
testing of rdumap (reference interpreter vs emulated mapped graph).

usage: progfuzz.py SEED [--avoid-tiny] [--fusion] [--select-guard] [--interchange] [--nest] [--meta]
  prints the program of SEED (with --meta: with its metadata, as JSON);
  --avoid-tiny: see generate()

A program is built as a tree of Node objects (text parts and child nodes),
not as a string, so the driver (difftest.py) can minimise a failing program
by replacing sub-trees.  Every scalar node carries a sound interval of its
values and every f32 node an `exact` flag:

  * intervals make the program valid by construction: every index lies in
    its dimension, every groupby key in [0, G), every i32 divisor is
    non-zero, every log/sqrt argument is positive, every exp argument small;
    where an index could leave its bounds it is clamped or guarded by `?:`,
    `&&`, `||` or `where`, and the guarded side is generated with the
    guarded index variable's interval narrowed;
  * `exact` is false for f32 values that depend on a `+` or `*` reduction
    (or group-by) of f32, which a mapped design may reorder.  Such values
    are never compared, cast to i32 or used as keys or indices (a flipped
    comparison would turn a rounding difference into a different answer),
    and their magnitudes are capped by exact power-of-two scaling, so a
    reordered sum stays inside |got - want| <= 1e-5 + 1e-4 |want|.

The generator is deterministic for a seed: it uses its own random.Random.
"""
import json
import math
import random
import sys

INT_MIN, INT_MAX = -2**31, 2**31 - 1
F32 = 'f32'
I32 = 'i32'
MAG = 8.0           # default cap on |f32 value| of any expression
BUDGET = 6000       # max iterations of the loop nest around any operation
MAX_TERMS = 64      # max terms of an f32 + or * reduction


class Node:
    """An expression: `parts` is a list of str and Node.  `elem`/`shape` are
    its type; `ival` bounds its (element) values; `exact` as above;
    `kind` names the construct (for the minimiser)."""
    __slots__ = ('parts', 'elem', 'shape', 'ival', 'exact', 'kind')

    def __init__(self, parts, elem, shape, ival, exact=True, kind='expr'):
        self.parts = parts
        self.elem = elem
        self.shape = tuple(shape)
        self.ival = ival
        self.exact = exact
        self.kind = kind

    def render(self):
        out = []
        _render(self, out)
        return ''.join(out)


def _render(n, out):
    for p in n.parts:
        if isinstance(p, Node):
            _render(p, out)
        else:
            out.append(p)


# ---------------------------------------------------------------- intervals

def iclamp(lo, hi):
    """An i32 interval; anything that may wrap becomes the full range."""
    if lo < INT_MIN or hi > INT_MAX:
        return (INT_MIN, INT_MAX)
    return (lo, hi)


def ctrunc_div(a, b):
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def flit(v):
    """A float literal that reads back as v (v is already short)."""
    s = repr(float(v))
    if 'e' in s or 'E' in s:
        m, e = s.split('e') if 'e' in s else s.split('E')
        if '.' not in m:
            m += '.0'
        s = m + 'e' + e
    if s.startswith('-'):
        return '(' + s + ')'
    return s


def ilit(v):
    if v == INT_MIN:
        return '(-2147483647 - 1)'
    return '(%d)' % v if v < 0 else '%d' % v


def lit_f(v):
    return Node([flit(v)], F32, (), (v, v), True, 'lit')


def lit_i(v):
    return Node([ilit(v)], I32, (), (v, v), True, 'lit')


def fmag(iv):
    return max(abs(iv[0]), abs(iv[1]))


# ---------------------------------------------------------------- context

class Ctx:
    """What is visible where an expression is generated: local bindings
    (index variables and lets, innermost last), the iteration count of the
    enclosing loops, the depth left and the magnitude cap."""

    def __init__(self, g, local=(), iters=1, depth=4, mag=MAG):
        self.g = g
        self.local = list(local)
        self.iters = iters
        self.depth = depth
        self.mag = mag

    def child(self, **kw):
        c = Ctx(self.g, self.local, self.iters, self.depth - 1, self.mag)
        for k, v in kw.items():
            setattr(c, k, v)
        return c

    def bind(self, entry):
        self.local.append(entry)

    def lookup(self, name):
        for e in reversed(self.local):
            if e['name'] == name:
                return e
        return None

    def visible_locals(self):
        seen, out = set(), []
        for e in reversed(self.local):
            if e['name'] not in seen:
                seen.add(e['name'])
                out.append(e)
        return out

    def tensors(self):
        """Global tensors not hidden by a local name."""
        names = {e['name'] for e in self.local}
        return [t for t in self.g.tensors if t['name'] not in names]

    def narrowed(self, name, lo, hi):
        """A copy in which index/let `name` lies in [lo, hi]."""
        c = Ctx(self.g, self.local, self.iters, self.depth, self.mag)
        e = dict(self.lookup(name))
        e['ival'] = (max(lo, e['ival'][0]), min(hi, e['ival'][1]))
        c.local.append(e)
        return c


# ---------------------------------------------------------------- generator

class Gen:
    def __init__(self, seed, avoid_tiny=False, fusion=False, select_guard=False, interchange=False, nest=False):
        self.seed = seed
        self.interchange = interchange
        self.nest = nest
        self.avoid_tiny = avoid_tiny
        self.fusion = fusion
        self.select_guard = select_guard
        self.hint = None        # fusion: {'buf', 'dims', 'vars'} of the buffer the next map reads
        self.r = random.Random(seed)
        self.tensors = []       # inputs and definitions so far
        self.consts = []        # (name, value)
        self.decls = []         # text lines of input declarations
        self.defs = []          # dicts: name, kind, elem, shape, node
        self.counter = 0
        self.csr = None
        self.const_text = {}

    # -- small helpers
    def fresh(self, base):
        self.counter += 1
        while '%s%d' % (base, self.counter) in ('i32', 'f32'):
            self.counter += 1
        return '%s%d' % (base, self.counter)

    def chance(self, p):
        return self.r.random() < p

    def pick(self, xs):
        return xs[self.r.randrange(len(xs))]

    def dim_text(self, v):
        """A dimension or extent v written as a const name when one has
        that value, sometimes as const arithmetic, else as a literal."""
        names = [n for n, cv in self.consts if cv == v]
        if names and self.chance(0.8):
            return self.pick(names)
        near = [(n, cv) for n, cv in self.consts if 0 < v - cv <= 3]
        if near and self.chance(0.3):
            n, cv = self.pick(near)
            return '%s + %d' % (n, v - cv)
        return str(v)

    def small_dim(self, limit=40):
        opts = [cv for _, cv in self.consts if cv <= limit]
        if opts and self.chance(0.75):
            return self.pick(opts)
        return self.r.randint(1, min(limit, 12))

    # -- f32 capping: every f32 scalar handed up is finite and within ctx.mag
    def cap(self, n, ctx):
        lo, hi = n.ival
        if lo == -math.inf or hi == math.inf:
            if lo == -math.inf and hi == math.inf:
                n = Node(['min(max(', n, ', ', flit(-ctx.mag), '), ', flit(ctx.mag), ')'],
                         F32, (), (-ctx.mag, ctx.mag), n.exact, 'clamp')
            elif lo == -math.inf:
                v = -ctx.mag if -ctx.mag <= hi else hi
                n = Node(['max(', n, ', ', flit(v), ')'], F32, (), (v, max(hi, v)), n.exact, 'clamp')
            else:
                v = ctx.mag if ctx.mag >= lo else lo
                n = Node(['min(', n, ', ', flit(v), ')'], F32, (), (min(lo, v), v), n.exact, 'clamp')
        m = fmag(n.ival)
        if m > ctx.mag:
            k = math.ceil(math.log2(m / ctx.mag))
            s = 2.0 ** -k
            n = Node(['(', n, ' * ', flit(s), ')'], F32, (), (n.ival[0] * s, n.ival[1] * s),
                     n.exact, 'scale')
        return n

    # -- declarations
    def make_decls(self):
        r = self.r
        pool = ['N', 'M', 'K', 'D', 'R', 'C', 'L', 'E', 'P', 'Q', 'T', 'W', 'B', 'H']
        r.shuffle(pool)
        for name in pool[:r.randint(2, 5)]:
            v = self.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 20, 24, 31, 32, 33, 40]) \
                if self.chance(0.85) else r.randint(1, 40)
            self.consts.append((name, v))
        if self.chance(0.3):
            # a const defined from others, declared before them
            (a, av), (b, bv) = self.pick(self.consts), self.pick(self.consts)
            name = self.pick([n for n in pool if n not in [c for c, _ in self.consts]])
            for v, t in ((av + bv, '%s + %s' % (a, b)), (av * 2, '2 * %s' % a),
                         (av - 1, '%s - 1' % a), (av * bv, '(%s * %s)' % (a, b)), (av // 2 + 1, '%s / 2 + 1' % a)):
                if 1 <= v <= 40 and self.chance(0.5):
                    self.const_text[name] = (v, t)
                    self.consts.insert(0, (name, v))
                    break
        for _ in range(r.randint(2, 5)):
            self.make_input()
        if self.chance(0.35):
            self.make_csr()

    def add_input(self, name, elem, shape, ival, gen=''):
        dims = ''.join('[%s]' % self.dim_text(d) for d in shape)
        self.decls.append('input  %s : %s%s%s' % (name, elem, dims, gen))
        self.tensors.append({'name': name, 'elem': elem, 'shape': tuple(shape), 'ival': ival,
                             'exact': True, 'input': True})

    def make_input(self):
        r = self.r
        name = self.fresh(self.pick(['x', 'w', 'a', 'v', 'u', 'idx', 'k', 'm']))
        if name.startswith('idx'):
            name = 'x' + name[3:]
        rank = self.pick([0, 1, 1, 1, 2, 2, 3])
        shape = [self.small_dim(40 if rank == 1 else 16) for _ in range(rank)]
        if rank == 3:
            shape = [min(d, 6) for d in shape]
        if self.chance(0.6):
            # f32 data
            if self.chance(0.7):
                self.add_input(name, F32, shape, (-1.0, 1.0))
            else:
                lo = r.randint(-3, 1)
                hi = lo + r.randint(1, 4)
                self.add_input(name, F32, shape, (float(lo), float(hi)), ' in %s .. %s' % (ilit(lo), ilit(hi)))
        else:
            c = r.random()
            if c < 0.55:
                # an index array for gathers and keys
                d = self.small_dim(40)
                name = self.fresh('idx')
                self.add_input(name, I32, shape, (0, d - 1), ' in 0 .. %s' % self.dim_text(d))
            elif c < 0.8:
                lo = r.randint(-20, 5)
                hi = lo + r.randint(1, 40)
                self.add_input(name, I32, shape, (lo, hi - 1), ' in %s .. %s' % (ilit(lo), ilit(hi)))
            elif c < 0.9:
                self.add_input(name, I32, shape, (0, 99))
            else:
                # extremes: wrapping arithmetic, INT_MIN / -1
                lo = self.pick([INT_MIN, -1000000, INT_MAX - 50])
                hi = min(lo + r.randint(2, 60), INT_MAX)
                self.add_input(name, I32, shape, (lo, hi - 1), ' in %s .. %s' % (ilit(lo), ilit(hi)))

    def make_csr(self):
        r = self.r
        rows = self.small_dim(20)
        cols = self.small_dim(40)
        nnz = r.randint(1, MAX_TERMS)
        p, c, v = self.fresh('ptr'), self.fresh('col'), self.fresh('val')
        self.add_input(p, I32, [rows + 1], (0, nnz), ' in 0 .. %d sorted' % nnz)
        self.add_input(c, I32, [nnz], (0, cols - 1), ' in 0 .. %s' % self.dim_text(cols))
        self.add_input(v, F32, [nnz], (-1.0, 1.0))
        self.csr = (p, rows, c, v, nnz)

    # -- indices
    def gen_index(self, d, ctx, depth=2):
        """An i32 expression whose interval lies in [0, d-1]."""
        r = self.r
        cands = []
        for e in ctx.visible_locals():
            if e['elem'] != I32 or e['shape']:
                continue
            lo, hi = e['ival']
            if 0 <= lo and hi <= d - 1:
                cands += [('var', e)] * 4
            if hi - lo <= d - 1:
                cmin, cmax = max(-lo, -INT_MAX), min(d - 1 - hi, INT_MAX)
                if cmin <= cmax and (cmin, cmax) != (0, 0):
                    cands += [('off', e, cmin, cmax)] * 2
            if lo >= 0:
                cands.append(('mod', e))
            cands.append(('clamp', e))
        if depth > 0:
            for t in ctx.tensors():
                if t['elem'] == I32 and 0 <= t['ival'][0] and t['ival'][1] <= d - 1:
                    cands += [('gather', t)] * 2
        cands.append(('lit',))
        if depth > 0 and ctx.depth > 0:
            cands.append(('expr',))
        c = self.pick(cands)
        if c[0] == 'var':
            e = c[1]
            return Node([e['name']], I32, (), e['ival'], True, 'var')
        if c[0] == 'off':
            e, cmin, cmax = c[1], c[2], c[3]
            k = 0
            while k == 0:
                k = r.randint(cmin, cmax)
            iv = (e['ival'][0] + k, e['ival'][1] + k)
            op = ' + %d' % k if k > 0 else ' - %d' % -k
            if self.chance(0.3) and k < 0 and d - 1 - e['ival'][1] >= 0:
                # d-1-v style reversal when it fits
                pass
            return Node(['(', Node([e['name']], I32, (), e['ival'], True, 'var'), op, ')'], I32, (), iv)
        if c[0] == 'mod':
            e = c[1]
            v = Node([e['name']], I32, (), e['ival'], True, 'var')
            k = r.randint(0, 3)
            if k and e['ival'][1] + k <= INT_MAX:
                v = Node(['(', v, ' + %d)' % k], I32, (), (e['ival'][0] + k, e['ival'][1] + k))
            return Node(['(', v, ' %% %d)' % d], I32, (), (0, min(d - 1, v.ival[1])))
        if c[0] == 'clamp':
            e = c[1]
            v = Node([e['name']], I32, (), e['ival'], True, 'var')
            return self.clamp_index(v, d)
        if c[0] == 'gather':
            t = c[1]
            return self.access(t, ctx, depth - 1)
        if c[0] == 'lit':
            return lit_i(r.randint(0, d - 1))
        e = self.gen_i32(ctx.child(depth=min(ctx.depth - 1, 2)))
        if 0 <= e.ival[0] and e.ival[1] <= d - 1:
            return e
        return self.clamp_index(e, d)

    def clamp_index(self, v, d):
        lo, hi = v.ival
        if lo >= 0 and self.chance(0.5):
            return Node(['(', v, ' %% %d)' % d], I32, (), (0, min(d - 1, hi)))
        if self.chance(0.3) and lo > -2**30 and hi < 2**30:
            return Node(['((', v, ' %% %d + %d) %% %d)' % (d, d, d)], I32, (), (0, d - 1))
        return Node(['min(max(', v, ', 0), %d)' % (d - 1)], I32, (), (max(0, min(lo, d - 1)), max(0, min(hi, d - 1))))

    def hinted(self, t):
        return self.hint is not None and t['name'] == self.hint['buf']

    def access(self, t, ctx, depth=2):
        """Read one element of tensor t (indices in bounds)."""
        if not t['shape']:
            n = Node([t['name']], t['elem'], (), t['ival'], t['exact'], 'tensor')
        else:
            parts = [t['name']]
            # fusion: read the buffer at the consumer's own leading indices
            lead = []
            if self.hinted(t) and self.chance(0.85):
                for v in self.hint['vars']:
                    if ctx.lookup(v) is None or ctx.lookup(v)['kind'] != 'idx':
                        break
                    lead.append(v)
                if lead and self.chance(0.3):
                    lead = lead[:self.r.randint(1, len(lead))]
            for q, d in enumerate(t['shape']):
                parts += ['[', lead[q] if q < len(lead) else self.gen_index(d, ctx, depth), ']']
            n = Node(parts, t['elem'], (), t['ival'], t['exact'], 'access')
        if t['elem'] == F32:
            n = self.cap(n, ctx)
        return n

    def guarded_access(self, t, ctx, alt):
        """`guard ? t[..v + c..] : alt` where only the guard keeps the index
        in bounds (the side not selected must not fault)."""
        r = self.r
        dims = list(t['shape'])
        slot = r.randrange(len(dims))
        d = dims[slot]
        vs = [e for e in ctx.visible_locals() if e['elem'] == I32 and not e['shape']
              and e['kind'] == 'idx' and e['ival'][0] >= 0 and e['ival'][1] < INT_MAX // 2]
        if not vs:
            return None
        e = self.pick(vs)
        lo, hi = e['ival']
        c = self.pick([-2, -1, -1, 1, 1, 2, 3])
        name = e['name']
        if c > 0:
            # index v + c; the guard keeps it below d
            if lo + c > d - 1:
                return None
            guard = self.pick(['%s + %d < %d' % (name, c, d), '%s < %d' % (name, d - c)])
            inner = ctx.narrowed(name, lo, d - 1 - c)
        else:
            if hi + c > d - 1 or hi + c < 0:
                return None
            guard = self.pick(['%s > %d' % (name, -c - 1), '%s >= %d' % (name, -c),
                               '%s + %d >= 0' % (name, c)])
            inner = ctx.narrowed(name, -c, hi)
        parts = [t['name']]
        for i, dd in enumerate(dims):
            if i == slot:
                op = ' + %d' % c if c > 0 else ' - %d' % -c
                parts += ['[', name, op, ']']
            else:
                parts += ['[', self.gen_index(dd, inner, 1), ']']
        acc = Node(parts, t['elem'], (), t['ival'], t['exact'], 'access')
        if t['elem'] == F32:
            acc = self.cap(acc, ctx)
        ival = (min(acc.ival[0], alt.ival[0]), max(acc.ival[1], alt.ival[1]))
        return Node(['(', guard, ' ? ', acc, ' : ', alt, ')'], t['elem'], (), ival,
                    acc.exact and alt.exact, 'guarded')

    # -- conditions
    def gen_cond(self, ctx):
        """An i32 0/1 condition; returns (node, var, true_iv, false_iv) where
        var (or None) is an index variable the condition narrows."""
        r = self.r
        vs = [e for e in ctx.visible_locals() if e['elem'] == I32 and not e['shape']
              and e['ival'][1] > e['ival'][0] and e['ival'][1] - e['ival'][0] < 100000]
        c = r.random()
        if vs and c < 0.45:
            e = self.pick(vs)
            lo, hi = e['ival']
            t = r.randint(lo + 1, hi)
            if self.chance(0.5):
                n = Node(['(%s < %s)' % (e['name'], ilit(t))], I32, (), (0, 1))
                return n, e['name'], (lo, t - 1), (t, hi)
            n = Node(['(%s >= %s)' % (e['name'], ilit(t))], I32, (), (0, 1))
            return n, e['name'], (t, hi), (lo, t - 1)
        return self.gen_bool(ctx), None, None, None

    def gen_bool(self, ctx):
        r = self.r
        c = r.random()
        if c < 0.5 or ctx.depth <= 0:
            if self.chance(0.55):
                a = self.gen_f32(ctx.child(), exact=True)
                b = self.gen_f32(ctx.child(depth=0), exact=True) if self.chance(0.5) else lit_f(self.pick([0.0, 0.25, -0.5]))
            else:
                a = self.gen_i32(ctx.child())
                b = self.gen_i32(ctx.child(depth=0))
            op = self.pick(['<', '<=', '>', '>=', '==', '!='])
            return Node(['(', a, ' %s ' % op, b, ')'], I32, (), (0, 1), True, 'cmp')
        if c < 0.62:
            a = self.gen_bool(ctx.child())
            return Node(['!', a], I32, (), (0, 1))
        if c < 0.75:
            g = self.short_circuit(ctx)
            if g:
                return g
        a = self.gen_bool(ctx.child())
        b = self.gen_bool(ctx.child())
        op = self.pick(['&&', '||'])
        return Node(['(', a, ' %s ' % op, b, ')'], I32, (), (0, 1))

    def short_circuit(self, ctx):
        """`v + c < d && t[v + c] > y` — the access is safe only because
        && (or ||) does not evaluate its right side."""
        ts = [t for t in ctx.tensors() if len(t['shape']) == 1 and t['elem'] == F32]
        vs = [e for e in ctx.visible_locals() if e['kind'] == 'idx' and 0 <= e['ival'][0]
              and e['ival'][1] < 100000]
        if not ts or not vs:
            return None
        t, e = self.pick(ts), self.pick(vs)
        d = t['shape'][0]
        c = self.r.randint(0, 3)
        if e['ival'][0] + c > d - 1:
            return None
        idx = '%s + %d' % (e['name'], c) if c else e['name']
        thr = flit(self.pick([0.0, 0.5, -0.25]))
        if self.chance(0.5):
            txt = '(%s < %d && %s[%s] > %s)' % (idx, d, t['name'], idx, thr)
        else:
            txt = '(%s >= %d || %s[%s] < %s)' % (idx, d, t['name'], idx, thr)
        return Node([txt], I32, (), (0, 1), True, 'shortcircuit')

    # -- scalars
    def gen_scalar(self, elem, ctx, exact=False):
        return self.gen_f32(ctx, exact) if elem == F32 else self.gen_i32(ctx)

    def leaf_f32(self, ctx, exact):
        r = self.r
        opts = []
        for e in ctx.visible_locals():
            if e['elem'] == F32 and not e['shape'] and (e['exact'] or not exact):
                opts += [('let', e)] * 3
            if e['elem'] == F32 and e['shape'] and (e['exact'] or not exact):
                opts += [('letrow', e)] * 2
            if e['elem'] == I32 and not e['shape'] and e['kind'] == 'idx':
                opts.append(('cast', e))
        for t in ctx.tensors():
            if t['elem'] == F32 and (t['exact'] or not exact):
                opts += [('acc', t)] * (12 if self.hinted(t) else 3)
        opts.append(('lit',))
        c = self.pick(opts)
        if c[0] == 'let':
            e = c[1]
            return self.cap(Node([e['name']], F32, (), e['ival'], e['exact'], 'var'), ctx)
        if c[0] == 'letrow':
            e = c[1]
            parts = [e['name']]
            for d in e['shape']:
                parts += ['[', self.gen_index(d, ctx, 1), ']']
            return self.cap(Node(parts, F32, (), e['ival'], e['exact'], 'access'), ctx)
        if c[0] == 'cast':
            e = c[1]
            lo, hi = e['ival']
            n = Node(['f32(', e['name'], ')'], F32, (), (float(lo), float(hi)), True, 'cast')
            return self.cap(n, ctx)
        if c[0] == 'acc':
            return self.access(c[1], ctx)
        v = self.pick([0.5, 0.25, 1.0, 2.0, 0.125, 0.75, 1.5, 3.0, -0.5, -1.0, 0.1, 0.3, 2.5e-1])
        v = max(-ctx.mag, min(ctx.mag, v))
        n = lit_f(v)
        spell = {0.5: ['.5', '5e-1', '5.0E-1'], 0.25: ['2.5e-1', '25e-2'], 2.0: ['2e0', '0.2e1'],
                 0.125: ['1.25E-1'], 1.5: ['15e-1']}
        if v in spell and self.chance(0.4):
            n.parts = [self.pick(spell[v])]
        return n

    def gen_f32(self, ctx, exact=False):
        r = self.r
        if ctx.depth <= 0 or self.chance(0.25):
            return self.leaf_f32(ctx, exact)
        c = r.random()
        sub = ctx.child()
        if c < 0.26:
            a = self.gen_f32(sub, exact)
            b = self.gen_f32(sub, exact)
            op = self.pick(['+', '-', '*', '*', '/'])
            if op == '/':
                b = self.denominator(b)
                qs = [x / y for x in a.ival for y in b.ival]
                iv = (min(qs), max(qs))
            elif op == '*':
                ps = [x * y for x in a.ival for y in b.ival]
                iv = (min(ps), max(ps))
            elif op == '+':
                iv = (a.ival[0] + b.ival[0], a.ival[1] + b.ival[1])
            else:
                iv = (a.ival[0] - b.ival[1], a.ival[1] - b.ival[0])
            n = Node(['(', a, ' %s ' % op, b, ')'], F32, (), iv, a.exact and b.exact)
            return self.cap(n, ctx)
        if c < 0.30:
            a = self.gen_f32(sub, exact)
            return Node(['(-', a, ')'], F32, (), (-a.ival[1], -a.ival[0]), a.exact)
        if c < 0.50:
            return self.builtin(sub, exact, ctx)
        if c < 0.58:
            nc, var, tiv, fiv = self.gen_cond(sub)
            if var:
                a = self.gen_f32(sub.narrowed(var, *tiv), exact)
                b = self.gen_f32(sub.narrowed(var, *fiv), exact)
            else:
                a = self.gen_f32(sub, exact)
                b = self.gen_f32(sub, exact)
            iv = (min(a.ival[0], b.ival[0]), max(a.ival[1], b.ival[1]))
            return Node(['(', nc, ' ? ', a, ' : ', b, ')'], F32, (), iv, a.exact and b.exact, 'select')
        if c < 0.63:
            ts = [t for t in ctx.tensors() if t['elem'] == F32 and t['shape'] and (t['exact'] or not exact)]
            if ts:
                alt = self.gen_f32(ctx.child(depth=0), exact)
                g = self.guarded_access(self.pick(ts), sub, alt)
                if g:
                    return g
            return self.leaf_f32(ctx, exact)
        if c < 0.68:
            e = self.gen_i32(sub)
            if e.ival[1] - e.ival[0] > 1e6:
                e = Node(['(', e, ' % 1000)'], I32, (), (-999, 999))
            return self.cap(Node(['f32(', e, ')'], F32, (), (float(e.ival[0]), float(e.ival[1])), True, 'cast'), ctx)
        if c < 0.84:
            n = self.gen_reduce(F32, (), sub, exact)
            if n:
                return self.cap(n, ctx)
            return self.leaf_f32(ctx, exact)
        if c < 0.91:
            return self.gen_block(F32, (), sub, exact, scalar=True)
        n = self.index_pattern(F32, sub, exact)
        return n if n else self.leaf_f32(ctx, exact)

    def denominator(self, b):
        lo, hi = b.ival
        if lo >= 0.5 or hi <= -0.5:
            return b
        if self.chance(0.5):
            return Node(['(abs(', b, ') + ', flit(self.pick([0.5, 1.0, 2.0])), ')'], F32, (),
                        (0.5, max(abs(lo), abs(hi)) + 2.0), b.exact, 'denom')
        return Node(['(', b, ' * ', b, ' + 1.0)'], F32, (), (1.0, max(lo * lo, hi * hi) + 1.0), b.exact, 'denom')

    def builtin(self, ctx, exact, outer):
        f = self.pick(['exp', 'log', 'sqrt', 'tanh', 'abs', 'max', 'min'])
        a = self.gen_f32(ctx, exact)
        lo, hi = a.ival
        if f == 'exp':
            if hi > 3.0 or lo < -20.0:
                a = Node(['tanh(', a, ')'], F32, (), (math.tanh(lo), math.tanh(hi)), a.exact)
                lo, hi = a.ival
            return self.cap(Node(['exp(', a, ')'], F32, (), (math.exp(lo), math.exp(hi)), a.exact), outer)
        if f == 'log':
            if lo < 0.25:
                return Node(['log(abs(', a, ') + 1.0)'], F32, (), (0.0, math.log(fmag(a.ival) + 1.0) + 1e-6), a.exact)
            return Node(['log(', a, ')'], F32, (), (math.log(lo) - 1e-6, math.log(hi) + 1e-6), a.exact)
        if f == 'sqrt':
            if a.exact and self.chance(0.5):
                return Node(['sqrt(abs(', a, '))'], F32, (), (0.0, math.sqrt(fmag(a.ival)) + 1e-6), a.exact)
            return Node(['sqrt(abs(', a, ') + 1.0)'], F32, (), (1.0, math.sqrt(fmag(a.ival) + 1.0) + 1e-6), a.exact)
        if f == 'tanh':
            return Node(['tanh(', a, ')'], F32, (), (math.tanh(lo), math.tanh(hi)), a.exact)
        if f == 'abs':
            m = fmag(a.ival)
            return Node(['abs(', a, ')'], F32, (), (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), m), a.exact)
        b = self.gen_f32(ctx, exact)
        if f == 'max':
            iv = (max(lo, b.ival[0]), max(hi, b.ival[1]))
        else:
            iv = (min(lo, b.ival[0]), min(hi, b.ival[1]))
        return Node(['%s(' % f, a, ', ', b, ')'], F32, (), iv, a.exact and b.exact)

    def leaf_i32(self, ctx):
        opts = []
        for e in ctx.visible_locals():
            if e['elem'] == I32 and not e['shape']:
                opts += [('var', e)] * 3
            if e['elem'] == I32 and e['shape']:
                opts.append(('letrow', e))
        for t in ctx.tensors():
            if t['elem'] == I32:
                opts += [('acc', t)] * (8 if self.hinted(t) else 2)
        opts.append(('lit',))
        c = self.pick(opts)
        if c[0] == 'var':
            return Node([c[1]['name']], I32, (), c[1]['ival'], True, 'var')
        if c[0] == 'letrow':
            e = c[1]
            parts = [e['name']]
            for d in e['shape']:
                parts += ['[', self.gen_index(d, ctx, 1), ']']
            return Node(parts, I32, (), e['ival'], True, 'access')
        if c[0] == 'acc':
            return self.access(c[1], ctx)
        return lit_i(self.pick([0, 1, 2, 3, 5, 7, -1, -4, 10, 100]))

    def gen_i32(self, ctx):
        r = self.r
        if ctx.depth <= 0 or self.chance(0.25):
            return self.leaf_i32(ctx)
        c = r.random()
        sub = ctx.child()
        if c < 0.35:
            a = self.gen_i32(sub)
            b = self.gen_i32(sub)
            op = self.pick(['+', '-', '*', '/', '%', '+', '*'])
            (al, ah), (bl, bh) = a.ival, b.ival
            if op in '/%':
                if bl <= 0 <= bh:
                    k = r.random()
                    if k < 0.4:
                        b = Node(['max(', b, ', 1)'], I32, (), (1, max(1, bh)), True, 'denom')
                    elif k < 0.7:
                        b = lit_i(self.pick([1, 2, 3, 7, -3, -1]))
                    else:
                        # the division is guarded: b == 0 is never divided by
                        q = Node(['(', a, ' %s ' % op, b, ')'], I32, (), (INT_MIN, INT_MAX))
                        iv = self.divide_ival(op, a.ival, (bl, bh))
                        q.ival = iv
                        n = Node(['(', b, ' != 0 ? ', q, ' : ', lit_i(0), ')'], I32, (),
                                 (min(iv[0], 0), max(iv[1], 0)), True, 'guarded')
                        return n
                iv = self.divide_ival(op, a.ival, b.ival)
            elif op == '+':
                iv = iclamp(al + bl, ah + bh)
            elif op == '-':
                iv = iclamp(al - bh, ah - bl)
            else:
                ps = [x * y for x in (al, ah) for y in (bl, bh)]
                iv = iclamp(min(ps), max(ps))
            return Node(['(', a, ' %s ' % op, b, ')'], I32, (), iv)
        if c < 0.40:
            a = self.gen_i32(sub)
            lo, hi = a.ival
            return Node(['(-', a, ')'], I32, (), iclamp(-hi, -lo) if lo > INT_MIN else (INT_MIN, INT_MAX))
        if c < 0.50:
            return self.gen_bool(sub)
        if c < 0.52:
            a = self.gen_i32(sub)
            return Node(['!', a], I32, (), (0, 1))
        if c < 0.60:
            a, b = self.gen_i32(sub), self.gen_i32(sub)
            f = self.pick(['max', 'min'])
            if f == 'max':
                iv = (max(a.ival[0], b.ival[0]), max(a.ival[1], b.ival[1]))
            else:
                iv = (min(a.ival[0], b.ival[0]), min(a.ival[1], b.ival[1]))
            return Node(['%s(' % f, a, ', ', b, ')'], I32, (), iv)
        if c < 0.68:
            nc, var, tiv, fiv = self.gen_cond(sub)
            if var:
                a = self.gen_i32(sub.narrowed(var, *tiv))
                b = self.gen_i32(sub.narrowed(var, *fiv))
            else:
                a, b = self.gen_i32(sub), self.gen_i32(sub)
            iv = (min(a.ival[0], b.ival[0]), max(a.ival[1], b.ival[1]))
            return Node(['(', nc, ' ? ', a, ' : ', b, ')'], I32, (), iv, True, 'select')
        if c < 0.74:
            # i32 of an exact f32, truncating toward zero (and saturating)
            f = self.gen_f32(sub, exact=True)
            s = self.pick([1.0, 4.0, 10.0, 1e10])
            lo, hi = f.ival[0] * s, f.ival[1] * s
            iv = (max(INT_MIN, math.trunc(lo) - 1), min(INT_MAX, math.trunc(hi) + 1))
            if s == 1.0:
                return Node(['i32(', f, ')'], I32, (), iv, True, 'cast')
            return Node(['i32(', f, ' * %s)' % flit(s)], I32, (), iv, True, 'cast')
        if c < 0.86:
            n = self.gen_reduce(I32, (), sub, True)
            return n if n else self.leaf_i32(ctx)
        if c < 0.92:
            return self.gen_block(I32, (), sub, True, scalar=True)
        n = self.index_pattern(I32, sub, True)
        return n if n else self.leaf_i32(ctx)

    @staticmethod
    def divide_ival(op, a, b):
        (al, ah), (bl, bh) = a, b
        if op == '%':
            m = max(abs(bl), abs(bh)) - 1
            lo = 0 if al >= 0 else -min(m, abs(al))
            hi = 0 if ah <= 0 else min(m, ah)
            return (lo, hi)
        if al == INT_MIN and bl <= -1 <= bh:
            return (INT_MIN, INT_MAX)
        qs = [ctrunc_div(x, y) for x in (al, ah) for y in (bl, bh) if y != 0]
        for y in (1, -1):
            if bl <= y <= bh:
                qs += [ctrunc_div(x, y) for x in (al, ah)]
        if al <= 0 <= ah or not qs:
            qs.append(0)
        return iclamp(min(qs), max(qs))

    def index_pattern(self, elem, ctx, exact):
        """`(map (j: D) { ... })[e]` or a row-valued reduce indexed."""
        d = self.small_dim(16)
        if self.avoid_tiny and d <= 8:
            d = self.r.randint(9, 16)
        if ctx.iters * d > BUDGET:
            return None
        row = self.gen_value(elem, (d,), ctx.child(), exact, allow=('map', 'reduce', 'groupby'))
        if row is None:
            return None
        ix = self.gen_index(d, ctx, 1)
        n = Node(['(', row, ')[', ix, ']'], elem, (), row.ival, row.exact, 'indexpat')
        return self.cap(n, ctx) if elem == F32 else n

    # -- patterns
    def index_list(self, ctx, kind, max_terms=None, allow_dynamic=True):
        """Index declarations of a pattern.  Returns (parts, entries, iters)
        or None if nothing fits the budget."""
        r = self.r
        count = self.pick([1, 1, 1, 2, 2, 3]) if kind != 'map' else 1
        parts, entries, total = [], [], 1
        inner = Ctx(ctx.g, ctx.local, ctx.iters, ctx.depth, ctx.mag)
        for i in range(count):
            name = self.fresh(self.pick(['i', 'j', 'k', 'n', 'r', 'q']))
            if self.chance(0.08):
                # reuse an outer index name: the new one hides it
                outer = [e['name'] for e in ctx.visible_locals() if e['kind'] == 'idx'
                         and e['name'] not in [x['name'] for x in entries]]
                if outer:
                    name = self.pick(outer)
            elif self.chance(0.04):
                glob = [t['name'] for t in ctx.tensors() if t['name'] not in [x['name'] for x in entries]]
                if glob:
                    name = self.pick(glob)
            room = BUDGET // max(1, ctx.iters * total)
            if max_terms:
                room = min(room, max_terms // total)
            if room < 1:
                break
            dyn = allow_dynamic and kind != 'map' and self.chance(0.35)
            ent = None
            if dyn:
                ent = self.dynamic_range(name, inner, room)
            if ent is None:
                n = self.small_dim(min(40, room))
                if n > room:
                    n = max(1, room)
                ent = ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': (0, n - 1)},
                       ['%s: %s' % (name, self.dim_text(n))], n)
            e, p, n = ent
            if parts:
                parts.append(', ')
            parts += p
            entries.append(e)
            inner.bind(e)
            total *= max(1, n)
        if not entries:
            return None
        return parts, entries, total

    def dynamic_range(self, name, ctx, room):
        """A dynamic `lo .. hi` range; returns (entry, parts, max trips)."""
        r = self.r
        opts = ['window', 'data', 'affine', 'empty']
        if self.csr and self.csr[4] <= room and ctx.lookup(self.csr[0]) is None:
            opts += ['csr'] * 3
        vs = [e for e in ctx.visible_locals() if e['elem'] == I32 and not e['shape']
              and e['kind'] == 'idx' and 0 <= e['ival'][0] and e['ival'][1] <= 40]
        c = self.pick(opts)
        if c == 'csr':
            p, rows, col, val, nnz = self.csr
            e = self.gen_index(rows, ctx, 1)
            e2 = Node(['(', e, ' + 1)'], I32, (), (e.ival[0] + 1, e.ival[1] + 1))
            parts = ['%s: %s[' % (name, p), e, '] .. %s[' % p, e2, ']']
            return ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': (0, nnz - 1), 'dyn': True}, parts, nnz)
        if c == 'window' and vs:
            v = self.pick(vs)
            d = self.small_dim(min(40, room))
            a, b = r.randint(0, 3), r.randint(1, 4)
            vn = v['name']
            lo = Node(['max(%s - %d, 0)' % (vn, a)], I32, (), (max(v['ival'][0] - a, 0), max(v['ival'][1] - a, 0)))
            hi = Node(['min(%s + %d, %s)' % (vn, b, self.dim_text(d))], I32, (), (min(v['ival'][0] + b, d), min(v['ival'][1] + b, d)))
            ival = (lo.ival[0], max(lo.ival[0], hi.ival[1] - 1))
            return ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': ival, 'dyn': True},
                    ['%s: ' % name, lo, ' .. ', hi], max(1, hi.ival[1] - lo.ival[0]))
        if c == 'affine' and vs:
            # triangular / shifted: v .. v + b, or 0 .. v + 1
            v = self.pick(vs)
            vn = v['name']
            if self.chance(0.5):
                b = r.randint(1, 4)
                ival = (v['ival'][0], v['ival'][1] + b - 1)
                return ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': ival, 'dyn': True},
                        ['%s: %s .. %s + %d' % (name, vn, vn, b)], b)
            n = v['ival'][1] + 1
            if n > room:
                return None
            return ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': (0, v['ival'][1]), 'dyn': True},
                    ['%s: 0 .. %s + 1' % (name, vn)], n)
        if c == 'data':
            ts = [t for t in ctx.tensors() if t['elem'] == I32 and t['ival'][0] >= -50 and t['ival'][1] <= min(room, 40)]
            if not ts:
                return None
            t = self.pick(ts)
            hi = self.access(t, ctx, 1)
            lo_v = r.randint(-2, 2)
            ival = (lo_v, max(lo_v, t['ival'][1] - 1))
            if ival[1] - ival[0] + 1 > room:
                return None
            return ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': ival, 'dyn': True},
                    ['%s: %s .. ' % (name, ilit(lo_v)), hi], ival[1] - ival[0] + 1)
        if c == 'empty':
            # hi <= lo: the identity
            a = r.randint(0, 5)
            return ({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': (a, a), 'dyn': True},
                    ['%s: %d .. %d' % (name, a, a - r.randint(0, 2))], 1)
        return None

    def where_clause(self, ctx, entries):
        """An optional `where`; may narrow one of the pattern's indices."""
        if not self.chance(0.6 if self.select_guard else 0.3):
            return [], ctx
        c = Ctx(ctx.g, ctx.local, ctx.iters, ctx.depth, ctx.mag)
        nc, var, tiv, _ = self.gen_cond(c)
        if var:
            c = c.narrowed(var, *tiv)
        return [' where ', nc], c

    def gen_reduce(self, elem, shape, ctx, exact):
        """A reduce whose value has type elem[shape]."""
        r = self.r
        ops = ['+', '+', '*', 'max', 'min']
        if elem == F32 and exact:
            ops = ['max', 'min']
        op = self.pick(ops)
        max_terms = MAX_TERMS if elem == F32 and op in '+*' else None
        il = self.index_list(ctx, 'reduce', max_terms)
        if il is None:
            return None
        parts, entries, n = il
        body = Ctx(ctx.g, ctx.local, ctx.iters * n, ctx.depth - 1, ctx.mag)
        for e in entries:
            body.bind(e)
        wh, body = self.where_clause(body, entries)
        if elem == F32 and op == '+':
            body.mag = max(ctx.mag / n, 0.05) if self.chance(0.7) else ctx.mag
        elif elem == F32 and op == '*':
            body.mag = min(ctx.mag, max(1.0, ctx.mag ** (1.0 / n)))
        blk = self.gen_block(elem, shape, body, exact)
        lo, hi = blk.ival
        if elem == F32 and op in '+*' and math.inf in (abs(lo), abs(hi)):
            op = 'max'      # rows holding an infinite identity: no inf - inf
        may_empty = bool(wh) or any(e.get('dyn') for e in entries)
        if elem == F32:
            if op == '+':
                iv = (min(0.0, lo * n), max(0.0, hi * n))
            elif op == '*':
                m = fmag(blk.ival)
                b = m ** n if m > 1 else 1.0
                iv = (-b, b)
            elif op == 'max':
                iv = (-math.inf if may_empty else lo, hi)
            else:
                iv = (lo, math.inf if may_empty else hi)
        else:
            if op == '+':
                iv = iclamp(min(0, lo * n), max(0, hi * n))
            elif op == '*':
                m = max(abs(lo), abs(hi))
                iv = iclamp(-(m ** n) if m > 1 else -1, m ** n if m > 1 else 1) if m <= 2**31 else (INT_MIN, INT_MAX)
                if n > 40:
                    iv = (INT_MIN, INT_MAX)
            elif op == 'max':
                iv = (INT_MIN if may_empty else lo, hi)
            else:
                iv = (lo, INT_MAX if may_empty else hi)
        ex = blk.exact and not (elem == F32 and op in '+*')
        if self.select_guard and wh and not shape and op in '+*':
            # the guard as a select of the identity (select_guard.c)
            ident = ('0.0' if op == '+' else '1.0') if elem == F32 else ('0' if op == '+' else '1')
            sel = ['(', wh[1], ' ? ', blk, ' : ', ident, ')'] if self.r.random() < 0.5 else \
                  ['(!(', wh[1], ') ? ', ident, ' : ', blk, ')']
            return Node(['reduce ('] + parts + [') %s { ' % op] + sel + [' }'], elem, shape, iv, ex, 'reduce')
        return Node(['reduce ('] + parts + [') %s' % op] + wh + [' ', blk], elem, shape, iv, ex, 'reduce')

    def gen_groupby(self, elem, shape, ctx, exact):
        """groupby ... into shape[0] with a body of shape[1:]."""
        ops = ['+', '+', 'max', 'min', '*']
        if elem == F32 and exact:
            ops = ['max', 'min']
        op = self.pick(ops)
        g = shape[0]
        max_terms = MAX_TERMS if elem == F32 and op in '+*' else None
        il = self.index_list(ctx, 'groupby', max_terms)
        if il is None:
            return None
        parts, entries, n = il
        body = Ctx(ctx.g, ctx.local, ctx.iters * n, ctx.depth - 1, ctx.mag)
        for e in entries:
            body.bind(e)
        key = self.gen_index(g, body, 2)
        wh, body = self.where_clause(body, entries)
        if elem == F32 and op == '+':
            body.mag = max(ctx.mag / n, 0.05)
        elif elem == F32 and op == '*':
            body.mag = min(ctx.mag, max(1.0, ctx.mag ** (1.0 / n)))
        blk = self.gen_block(elem, shape[1:], body, exact)
        lo, hi = blk.ival
        if elem == F32 and op in '+*' and math.inf in (abs(lo), abs(hi)):
            op = 'max'
        if elem == F32:
            if op == '+':
                iv = (min(0.0, lo * n), max(0.0, hi * n))
            elif op == '*':
                m = fmag(blk.ival)
                b = m ** n if m > 1 else 1.0
                iv = (-b, b)
            elif op == 'max':
                iv = (-math.inf, hi)
            else:
                iv = (lo, math.inf)
        else:
            if op == '+':
                iv = iclamp(min(0, lo * n), max(0, hi * n))
            elif op == '*':
                iv = (INT_MIN, INT_MAX)
            elif op == 'max':
                iv = (INT_MIN, hi)
            else:
                iv = (lo, INT_MAX)
        ex = blk.exact and not (elem == F32 and op in '+*')
        return Node(['groupby ('] + parts + [') %s key ' % op, key, ' into %s' % self.dim_text(g)] + wh + [' ', blk],
                    elem, shape, iv, ex, 'groupby')

    def gen_map(self, elem, shape, ctx, exact):
        r = self.r
        p = r.randint(1, len(shape))
        outer = shape[:p]
        n = 1
        for d in outer:
            n *= d
        if ctx.iters * n > BUDGET:
            return None
        parts, entries = [], []
        # fusion: the consumer's map; its leading indices matching the
        # buffer's dimensions are the ones its reads use
        claim = self.hint is not None and self.hint['vars'] is None and ctx.iters == 1
        if claim:
            self.hint['vars'] = []
        for d in outer:
            name = self.fresh(self.pick(['i', 'j', 'k', 'r', 'c']))
            if claim and len(self.hint['vars']) < len(self.hint['dims']) and \
                    self.hint['dims'][len(self.hint['vars'])] == d and len(self.hint['vars']) == len(entries):
                self.hint['vars'].append(name)
            if parts:
                parts.append(', ')
            parts.append('%s: %s' % (name, self.dim_text(d)))
            entries.append({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': (0, d - 1)})
        body = Ctx(ctx.g, ctx.local, ctx.iters * n, ctx.depth - 1, ctx.mag)
        for e in entries:
            body.bind(e)
        if self.interchange and not shape[p:] and body.depth > 0 and self.chance(0.6):
            # a short reduction per element (what interchange.c vectorises
            # along the map's index instead)
            red = self.gen_reduce(elem, (), body.child(), exact)
            if red is not None:
                lead = self.pick([['{ '], ['{ let a0 = 1; ']])
                blk = Node(lead + [red, ' }'], elem, (), red.ival, red.exact, 'block')
                return Node(['map ('] + parts + [') ', blk], elem, shape, blk.ival, blk.exact, 'map')
        blk = self.gen_block(elem, shape[p:], body, exact)
        return Node(['map ('] + parts + [') ', blk], elem, shape, blk.ival, blk.exact, 'map')

    def gen_value(self, elem, shape, ctx, exact=False, allow=None):
        """A value of type elem[shape] (shape non-empty): a pattern, a `?:`
        of two, a block, or a row bound by `let`."""
        if not shape:
            return self.gen_scalar(elem, ctx, exact)
        kinds = ['map'] * 5 + ['reduce', 'groupby', 'groupby', 'select', 'block', 'let']
        if allow:
            kinds = [k for k in kinds if k in allow]
        for _ in range(6):
            k = self.pick(kinds)
            n = None
            if k == 'map':
                n = self.gen_map(elem, shape, ctx, exact)
            elif k == 'reduce' and ctx.depth > 0:
                n = self.gen_reduce(elem, shape, ctx, exact)
            elif k == 'groupby' and ctx.depth > 0:
                n = self.gen_groupby(elem, shape, ctx, exact)
            elif k == 'select' and ctx.depth > 0:
                nc, var, tiv, fiv = self.gen_cond(ctx.child())
                ca = ctx.narrowed(var, *tiv) if var else ctx
                cb = ctx.narrowed(var, *fiv) if var else ctx
                a = self.gen_value(elem, shape, ca.child(), exact, ('map', 'reduce', 'groupby', 'let'))
                b = self.gen_value(elem, shape, cb.child(), exact, ('map', 'reduce', 'groupby', 'let'))
                if a is not None and b is not None:
                    iv = (min(a.ival[0], b.ival[0]), max(a.ival[1], b.ival[1]))
                    n = Node(['(', nc, ' ? ', a, ' : ', b, ')'], elem, shape, iv, a.exact and b.exact, 'select')
            elif k == 'block' and ctx.depth > 0:
                n = self.gen_block(elem, shape, ctx.child(), exact)
            elif k == 'let':
                ls = [e for e in ctx.visible_locals() if e['elem'] == elem and tuple(e['shape']) == tuple(shape)
                      and (e['exact'] or not exact) and e['kind'] == 'let' and fmag_ok(e, ctx)]
                if ls:
                    e = self.pick(ls)
                    n = Node([e['name']], elem, shape, e['ival'], e['exact'], 'var')
            if n is not None:
                return n
        # fall back to the simplest map
        names = []
        parts = []
        body = Ctx(ctx.g, ctx.local, ctx.iters, 0, ctx.mag)
        for d in shape:
            name = self.fresh('i')
            if parts:
                parts.append(', ')
            parts.append('%s: %s' % (name, self.dim_text(d)))
            names.append(name)
            body.bind({'name': name, 'kind': 'idx', 'elem': I32, 'shape': (), 'ival': (0, d - 1)})
        leaf = self.gen_scalar(elem, body, exact)
        return Node(['map ('] + parts + [') { ', leaf, ' }'], elem, shape, leaf.ival, leaf.exact, 'map')

    def gen_block(self, elem, shape, ctx, exact, scalar=False):
        """`{ let ...  result }`; lets are scalars or rows."""
        r = self.r
        nlets = self.pick([0, 0, 1, 1, 2, 3]) if ctx.depth > 0 else 0
        if scalar and nlets == 0:
            nlets = 1
        inner = Ctx(ctx.g, ctx.local, ctx.iters, ctx.depth, ctx.mag)
        items = []
        for _ in range(nlets):
            name = self.fresh(self.pick(['a', 'b', 's', 't', 'm', 'row', 'p']))
            le = self.pick([F32, F32, I32])
            if self.chance(0.3) and inner.depth > 0:
                lshape = tuple(self.small_dim(16) for _ in range(self.pick([1, 1, 2])))
                if self.avoid_tiny and math.prod(lshape) <= 8:
                    lshape = (self.r.randint(9, 16),) + lshape[1:]
                sz = 1
                for d in lshape:
                    sz *= d
                if ctx.iters * sz > BUDGET:
                    lshape = ()
            else:
                lshape = ()
            if lshape:
                v = self.gen_value(le, lshape, inner.child(), False)
            else:
                v = self.gen_scalar(le, inner.child(), False)
            items.append((name, v))
            inner.bind({'name': name, 'kind': 'let', 'elem': le, 'shape': lshape, 'ival': v.ival,
                        'exact': v.exact})
        if shape:
            res = self.gen_value(elem, shape, inner, exact)
        else:
            res = self.gen_scalar(elem, inner, exact)
        if not items and not scalar:
            return Node(['{ ', res, ' }'], elem, shape, res.ival, res.exact, 'block')
        parts = ['{ ']
        for name, v in items:
            parts += [Node(['let %s = ' % name, v, '; '], v.elem, v.shape, v.ival, v.exact, 'let')]
        parts += [res, ' }']
        return Node(parts, elem, shape, res.ival, res.exact, 'block')

    # -- program
    def make_defs(self):
        r = self.r
        ndefs = self.pick([2, 3, 3, 4]) if self.fusion else self.pick([1, 2, 2, 3, 3, 4])
        prev = None
        for i in range(ndefs):
            last = i == ndefs - 1
            elem = F32 if self.chance(0.7) else I32
            rank = self.pick([1, 1, 2, 2, 3]) if self.fusion else self.pick([0, 1, 1, 2, 2, 3])
            if self.nest:
                rank = self.pick([2, 2, 3])
            shape = tuple(self.small_dim(24 if rank < 3 else 8) for _ in range(rank))
            if self.nest and rank >= 1:
                # a short outer index and a longer one inside it (what par.c
                # replicates together under --par 8)
                shape = (self.pick([2, 4]),) + ((self.pick([4, 8, 12, 16]),) if rank >= 2 else ()) + shape[2:]
            kind = 'output' if last or self.chance(0.3 if self.fusion else 0.6) else 'buffer'
            name = self.fresh('Y' if kind == 'output' else 'B')
            ctx = Ctx(self, [], 1, self.pick([2, 3, 3, 4]), MAG)
            allow = None
            if self.fusion:
                # a map after a map-defined buffer, over its first dimension
                self.hint = None
                if prev is not None:
                    shape = (prev['shape'][0],) + shape[1:]
                    self.hint = {'buf': prev['name'], 'dims': prev['shape'], 'vars': None}
                allow = ('map',)
            if shape:
                node = self.gen_value(elem, shape, ctx, False, allow)
            else:
                # a scalar definition: mostly a reduction
                node = None
                if self.chance(0.7):
                    node = self.gen_reduce(elem, (), ctx, False)
                    if node is not None and elem == F32:
                        # raw identities (+-inf of an empty max/min) are fine as results
                        pass
                if node is None:
                    node = self.gen_scalar(elem, ctx, False)
            self.defs.append({'name': name, 'kind': kind, 'elem': elem, 'shape': shape, 'node': node})
            prev = {'name': name, 'shape': shape} if self.fusion and kind == 'buffer' and shape else None
            self.tensors.append({'name': name, 'elem': elem, 'shape': shape, 'ival': node.ival,
                                 'exact': node.exact, 'input': False})

    def generate(self):
        self.make_decls()
        self.make_defs()
        p = Program(self.seed, self.consts, self.decls, self.defs)
        p.const_text = dict(self.const_text)
        p.shuffle = self.chance(0.2)
        return p


def fmag_ok(e, ctx):
    return e['elem'] == I32 or fmag(e['ival']) <= ctx.mag


class Program:
    """A generated program: consts, input declarations, definitions (each
    with its Node tree).  render() gives the .pat text."""

    def __init__(self, seed, consts, decls, defs):
        self.seed = seed
        self.consts = list(consts)
        self.decls = list(decls)
        self.defs = defs
        self.const_text = {}
        self.shuffle = False

    def dims_text(self, shape):
        out = []
        for d in shape:
            names = [n for n, v in self.consts if v == d]
            out.append('[%s]' % (names[0] if names else d))
        return ''.join(out)

    def render(self):
        decl = []
        for n, v in self.consts:
            vt = self.const_text.get(n)
            decl.append('const %s = %s' % (n, vt[1] if vt and vt[0] == v else v))
        decl += self.decls
        for d in self.defs:
            decl.append('%s %s : %s%s' % (d['kind'].ljust(6), d['name'], d['elem'], self.dims_text(d['shape'])))
        if self.shuffle:
            # declarations may come in any order
            random.Random(self.seed).shuffle(decl)
        lines = ['# progfuzz seed %s' % self.seed] + decl
        for d in self.defs:
            lines.append('%s = %s' % (d['name'], d['node'].render()))
        return '\n'.join(lines) + '\n'

    def meta(self):
        return {'seed': self.seed,
                'outputs': {d['name']: {'elem': d['elem'], 'exact': d['node'].exact}
                            for d in self.defs if d['kind'] == 'output'}}


def generate(seed, avoid_tiny=False, fusion=False, select_guard=False, interchange=False, nest=False):
    """The program of seed.  avoid_tiny keeps every tensor materialised
    inside a loop (a row `let`, an indexed pattern) above 8 elements: it
    steers around a known rdumap bug (tiny unrolled tiles shared by the
    lanes) to look for others; the seeds then give other programs.
    fusion makes chains of map-defined buffers, each read by the next
    definition, a map, mostly at its own leading indices (what fuse.c
    fuses); select_guard writes more reductions' guards, and most scalar
    + and * ones as `c ? body : identity` (what select_guard.c turns back
    into guards); interchange makes most scalar map bodies a short
    reduction (what interchange.c vectorises along the map's index); nest
    gives definitions a short first dimension (2 or 4) and a longer second
    (what par.c replicates together under --par 8); the seeds then give
    other programs."""
    return Gen(seed, avoid_tiny, fusion, select_guard, interchange, nest).generate()


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 4
    p = generate(int(argv[1]), '--avoid-tiny' in argv, '--fusion' in argv, '--select-guard' in argv,
                 '--interchange' in argv, '--nest' in argv)
    if '--meta' in argv:
        print(json.dumps({'program': p.render(), **p.meta()}, indent=1))
    else:
        sys.stdout.write(p.render())
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
