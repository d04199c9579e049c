/*
 * pcu.c — what a PCU stage does to a vector: one lane operation on every
 * active lane, and the cross-lane reduction tree.
 *
 * Arithmetic follows the language contract exactly as the reference
 * interpreter does (binary32 with the C library's float functions,
 * wrapping i32, C division; f32 -> i32 truncates toward zero and
 * saturates, NaN to 0).  Only the order of reductions differs: the tree
 * combines lane l with lane l + stride for stride 1, 2, 4, ... and then
 * folds the result into the accumulator, as the hardware's tree does.
 *
 * Operands are slots of the context's register file, read per lane (a
 * value of the vector level) or broadcast from lane 0 (a value of an
 * outer level).  A lane is active when it is inside the trip count and
 * its predicate holds; an inactive lane writes 0 and faults nowhere.
 * Useful work (FLOPs, integer operations) is counted on lanes where the
 * operation's guard holds.
 */
#include "emu/emu_internal.h"

#include <math.h>
#include <string.h>

uint32_t pcu_identity(pat_redop op, pat_elem t)
{
    if (t == PAT_F32) {
        float v = op == PAT_RED_ADD ? 0.0f : op == PAT_RED_MUL ? 1.0f : op == PAT_RED_MAX ? -INFINITY : INFINITY;
        return emu_from_f(v);
    }
    int32_t v = op == PAT_RED_ADD ? 0 : op == PAT_RED_MUL ? 1 : op == PAT_RED_MAX ? INT32_MIN : INT32_MAX;
    return (uint32_t)v;
}

uint32_t pcu_combine(pat_redop op, pat_elem t, uint32_t a, uint32_t b)
{
    if (t == PAT_F32) {
        float x = emu_as_f(a), y = emu_as_f(b);
        switch (op) {
        case PAT_RED_ADD: return emu_from_f(x + y);
        case PAT_RED_MUL: return emu_from_f(x * y);
        case PAT_RED_MAX: return emu_from_f(fmaxf(x, y));
        case PAT_RED_MIN: return emu_from_f(fminf(x, y));
        }
    }
    int32_t x = (int32_t)a, y = (int32_t)b;
    switch (op) {
    case PAT_RED_ADD: return a + b;
    case PAT_RED_MUL: return a * b;
    case PAT_RED_MAX: return (uint32_t)(y > x ? y : x);
    case PAT_RED_MIN: return (uint32_t)(y < x ? y : x);
    }
    return a;
}

static bool is_work(dfg_opcode c)
{
    switch (c) {
    case DFG_ADD: case DFG_SUB: case DFG_MUL: case DFG_DIV: case DFG_MOD: case DFG_NEG:
    case DFG_EXP: case DFG_LOG: case DFG_SQRT: case DFG_TANH: case DFG_ABS:
    case DFG_MAX: case DFG_MIN:
        return true;
    default:
        return false;
    }
}

static inline const uint32_t *slot(const emu_ctx *c, int s, int lanes)
{
    return c->reg + (size_t)s * (size_t)lanes;
}

void pcu_lane(emu_sim *S, emu_ctx *c, const emu_mu *m, int n, bool masked)
{
    const dfg_op *op = m->op;
    int L = S->lanes;
    uint32_t *dst = c->reg + (size_t)m->dst * (size_t)L;
    static const uint32_t zero[1] = {0};
    const uint32_t *pa = m->a >= 0 ? slot(c, m->a, L) : zero;
    const uint32_t *pb = m->b >= 0 ? slot(c, m->b, L) : zero;
    const uint32_t *pc = m->c >= 0 ? slot(c, m->c, L) : zero;
    const uint32_t *pp = m->pred >= 0 ? slot(c, m->pred, L) : NULL;
    const uint32_t *pg = m->guard >= 0 ? slot(c, m->guard, L) : NULL;
    size_t sa = m->sa, sb = m->sb, sc = m->sc, sp = m->sp, sg = m->sg;
    bool f = op->type == PAT_F32;
    bool fa = op->a != DFG_NONE && S->g->regs[op->a].type == PAT_F32;
    if (masked) {
        memset(dst, 0, (size_t)L * sizeof *dst);
        return;
    }
    int64_t useful = 0;
    if (f && !pp && !pg && sa == 1 && (op->code == DFG_ADD || op->code == DFG_SUB || op->code == DFG_MUL)) {
        /* the common case, vectorisable: f32 arithmetic on every lane */
        float *d = (float *)dst;
        const float *fa_ = (const float *)pa, *fb_ = (const float *)pb;
        size_t sbb = sb;
        switch (op->code) {
        case DFG_ADD: for (int l = 0; l < n; l++) d[l] = fa_[l] + fb_[(size_t)l * sbb]; break;
        case DFG_SUB: for (int l = 0; l < n; l++) d[l] = fa_[l] - fb_[(size_t)l * sbb]; break;
        default: for (int l = 0; l < n; l++) d[l] = fa_[l] * fb_[(size_t)l * sbb]; break;
        }
        S->res->lane_ops += n;
        S->res->flops += n;
        return;
    }
    bool idiv = !f && (op->code == DFG_DIV || op->code == DFG_MOD);
    if (!idiv && op->code != DFG_SELECT && !dfg_op_is_lane(op->code) && op->code != DFG_CONST &&
        op->code != DFG_COPY) {
        sim_fault(S, c->id, op, "cannot execute %s", dfg_op_name(op->code));
        return;
    }
    for (int l = 0; l < n; l++) {
        uint32_t a = pa[(size_t)l * sa], b = pb[(size_t)l * sb];
        useful += !pg || pg[(size_t)l * sg] != 0;
        uint32_t r = 0;
        if (idiv) {
            /* an inactive lane faults nowhere; an active one on zero is an error */
            if (pp && pp[(size_t)l * sp] == 0) {
                dst[l] = 0;
                continue;
            }
            if (b == 0) {
                sim_fault(S, c->id, op, "i32 division by zero");
                return;
            }
        }
        r = emu_lane_value(op, fa, a, b, pc[(size_t)l * sc]);
        dst[l] = r;
    }
    S->res->lane_ops += n;
    if (is_work(op->code)) {
        if (f)
            S->res->flops += useful;
        else
            S->res->int_ops += useful;
    }
}

void pcu_acc_init(emu_ctx *c, const emu_acc *a)
{
    (void)c;
    (void)a;
}

void pcu_acc_step(emu_sim *S, emu_ctx *c, const emu_acc *a, int n, bool masked)
{
    int L = S->lanes;
    const dfg_acc *ac = a->src;
    uint32_t *acc = c->reg + (size_t)a->reg * (size_t)L;
    const uint32_t *val = c->reg + (size_t)a->val * (size_t)L;
    const uint32_t *pred = a->pred >= 0 ? c->reg + (size_t)a->pred * (size_t)L : NULL;
    if (masked)
        return;
    uint32_t id = pcu_identity(ac->op, ac->type);
    if (!a->vector) {
        /* A scalar (outer-loop) reduction: one combine per iteration. */
        if (pred && pred[0] == 0)
            return;
        acc[0] = pcu_combine(ac->op, ac->type, acc[0], val[0]);
        if (ac->type == PAT_F32)
            S->res->flops++;
        else
            S->res->int_ops++;
        return;
    }
    uint32_t tree[EMU_MAX_LANES];
    int64_t on_lanes = 0;
    S->res->lane_ops += n;
    for (int l = 0; l < L; l++) {
        bool on = l < n && (!pred || pred[(size_t)l * a->spred] != 0);
        tree[l] = on ? val[(size_t)l * a->sval] : id;
        on_lanes += on;
    }
    if (ac->type == PAT_F32 && ac->op == PAT_RED_ADD) {
        float *t = (float *)tree;
        for (int stride = 1; stride < L; stride *= 2)
            for (int l = 0; l + stride < L; l += 2 * stride)
                t[l] = t[l] + t[l + stride];
    } else
        for (int stride = 1; stride < L; stride *= 2)
            for (int l = 0; l + stride < L; l += 2 * stride)
                tree[l] = pcu_combine(ac->op, ac->type, tree[l], tree[l + stride]);
    acc[0] = pcu_combine(ac->op, ac->type, acc[0], tree[0]);
    if (ac->type == PAT_F32)
        S->res->flops += on_lanes;
    else
        S->res->int_ops += on_lanes;
}
