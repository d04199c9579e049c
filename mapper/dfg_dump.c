/*
 * dfg_dump.c — the graph as DOT (`--dump-dfg FILE`) and the loop program as
 * text (`--dump-dfg -` prints both to standard output in text form).
 */
#include "mapper/dfg_internal.h"

static void dot_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

void dfg_dump_dot(FILE *out, const dfg *g)
{
    fprintf(out, "digraph dfg {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
    for (int u = 0; u < g->n_units; u++) {
        const dfg_unit *un = &g->units[u];
        fprintf(out, "  u%d [label=\"", u);
        fprintf(out, "%s\\n", dfg_unit_kind_name(un->kind));
        dot_escape(out, un->name);
        if (un->kind == DFG_VPCU)
            fprintf(out, "\\n%d stage%s%s", un->n_stages, un->n_stages == 1 ? "" : "s",
                    un->reduces ? " + reduce" : "");
        else if (un->kind == DFG_VPMU) {
            const dfg_mem *m = &g->mems[un->mem];
            char t[96];
            fprintf(out, "\\n%s x%d", pat_type_str(&m->type, t, sizeof t), m->depth);
        }
        const char *shape = un->kind == DFG_VPCU ? "box" : un->kind == DFG_VPMU ? "cylinder" : "hexagon";
        const char *color = un->kind == DFG_VPCU ? "#cfe2ff" : un->kind == DFG_VPMU ? "#d1e7dd" : "#fff3cd";
        fprintf(out, "\", shape=%s, style=filled, fillcolor=\"%s\"];\n", shape, color);
    }
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_stream *st = &g->streams[s];
        const char *style = st->kind == DFG_STREAM_VECTOR ? "bold" : st->kind == DFG_STREAM_SCALAR ? "solid" : "dotted";
        fprintf(out, "  u%d -> u%d [style=%s", st->src, st->dst, style);
        if (st->reg != DFG_NONE) {
            const char *nm = g->regs[st->reg].name;
            fprintf(out, ", label=\"r%d", st->reg);
            if (nm) {
                fputc(' ', out);
                dot_escape(out, nm);
            }
            fputc('"', out);
        }
        fprintf(out, "];\n");
    }
    fprintf(out, "}\n");
}

static void reg_str(FILE *out, const dfg *g, int r)
{
    if (r == DFG_NONE) {
        fputs("_", out);
        return;
    }
    fprintf(out, "r%d", r);
    if (g->regs[r].name)
        fprintf(out, "(%s)", g->regs[r].name);
}

static void dump_block(FILE *out, const dfg *g, const dfg_block *b, int indent)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            const dfg_loop *lp = b->s[k].loop;
            fprintf(out, "%*sloop L%d %s = [", indent, "", lp->id, lp->label ? lp->label : "");
            reg_str(out, g, lp->lo);
            fputs(", ", out);
            reg_str(out, g, lp->hi);
            fputc(')', out);
            if (lp->pred != DFG_NONE) {
                fputs(" if ", out);
                reg_str(out, g, lp->pred);
            }
            if (lp->scan != DFG_NONE) {
                fputs(" scan ", out);
                reg_str(out, g, lp->scan);
            }
            fprintf(out, "%s%s", lp->innermost ? " vector" : "", lp->metapipe ? " metapipe" : "");
            if (lp->par > 1)
                fprintf(out, " par %d", lp->par);
            fputs(" {\n", out);
            dump_block(out, g, &lp->body, indent + 2);
            fprintf(out, "%*s}", indent, "");
            for (int a = 0; a < lp->n_acc; a++) {
                fprintf(out, " r%d = %s-reduce ", lp->acc[a].reg, pat_redop_str(lp->acc[a].op));
                reg_str(out, g, lp->acc[a].val);
                if (lp->acc[a].pred != DFG_NONE) {
                    fputs(" where ", out);
                    reg_str(out, g, lp->acc[a].pred);
                }
            }
            fputc('\n', out);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        fprintf(out, "%*s#%d ", indent, "", op->id);
        if (op->dst != DFG_NONE) {
            reg_str(out, g, op->dst);
            fputs(" = ", out);
        }
        fprintf(out, "%s.%s", dfg_op_name(op->code), pat_elem_str(op->type));
        if (op->code == DFG_CONST) {
            if (op->type == PAT_F32)
                fprintf(out, " %.9g", (double)op->imm.f);
            else
                fprintf(out, " %d", op->imm.i);
        }
        if (op->mem != DFG_NONE) {
            fprintf(out, " %s", g->mems[op->mem].name);
            for (int q = 0; q < op->n_idx; q++) {
                fputc('[', out);
                reg_str(out, g, op->idx[q]);
                fputc(']', out);
            }
            if (op->code == DFG_RMW)
                fprintf(out, " %s=", pat_redop_str(op->redop));
        }
        if (op->code == DFG_CHECK)
            fprintf(out, " 0 <= . < %d", op->imm.i);
        int ops_[3] = {op->a, op->b, op->c};
        for (int q = 0; q < 3; q++)
            if (ops_[q] != DFG_NONE) {
                fputc(' ', out);
                reg_str(out, g, ops_[q]);
            }
        if (op->pred != DFG_NONE) {
            fputs(" if ", out);
            reg_str(out, g, op->pred);
        }
        if (op->unit != DFG_NONE)
            fprintf(out, "   @%s", g->units[op->unit].name);
        fputc('\n', out);
    }
}

void dfg_dump_text(FILE *out, const dfg *g)
{
    for (int m = 0; m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        if (mm->decl && mm->decl->kind == PAT_CONST)
            continue;
        char t[96];
        static const char *const kinds[] = {"input", "output", "buffer", "scratch"};
        const dfg_fusion *fu = NULL;
        for (int k = 0; k < g->n_fusion && mm->decl && !g->opts.no_fusion; k++)
            if (g->fusion[k].buffer == mm->decl && g->fusion[k].into)
                fu = &g->fusion[k];
        if (fu) {
            char p[96];
            fprintf(out, "mem buffer %s %s fused into %s by (", mm->name, pat_type_str(&mm->type, t, sizeof t),
                    fu->into->name);
            for (int j = 0; j < fu->depth; j++)
                fprintf(out, "%s%s", j ? ", " : "", fu->shared[j]);
            fprintf(out, "): no memory of its own, %s an iteration\n",
                    fu->part.rank ? pat_type_str(&fu->part, p, sizeof p) : "a register");
            continue;
        }
        if (mm->dram) {
            fprintf(out, "mem %s %s %s in DRAM (%lld KiB: larger than a PMU), accessed by its VAG\n",
                    kinds[mm->kind], mm->name, pat_type_str(&mm->type, t, sizeof t),
                    (long long)((mm->bytes + 1023) / 1024));
            continue;
        }
        fprintf(out, "mem %s %s %s depth %d, %d banks on", kinds[mm->kind], mm->name,
                pat_type_str(&mm->type, t, sizeof t), mm->depth, mm->banks);
        for (int q = 0; q < mm->type.rank; q++)
            if (mm->bank_dims & (1u << q))
                fprintf(out, " [%d]", q);
        if (mm->copies > 1)
            fprintf(out, ", %d %s", mm->copies, mm->partitioned ? "partitions" : "copies");
        if (mm->tile_of >= 0)
            fprintf(out, ", tile of %s", g->mems[mm->tile_of].name);
        fputs(mm->type.rank == 0 ? " scalar\n" : "\n", out);
    }
    for (int k = 0; k < g->n_defs; k++) {
        const dfg_def *gd = &g->defs[k];
        if (gd->n_tile) {
            fprintf(out, "tiling %s:", gd->target->name);
            for (int t = 0; t < gd->n_tile; t++)
                fprintf(out, "%s %s %d tiles of %d", t ? "," : "", gd->tile[t].var,
                        gd->tile[t].extent / gd->tile[t].size, gd->tile[t].size);
            fprintf(out, " (model: %.3g cycles, %.3g MB of DRAM traffic)\n", gd->tile_est_cycles,
                    gd->tile_est_traffic / 1e6);
        }
        fprintf(out, "def %s {\n", g->defs[k].target->name);
        dump_block(out, g, &g->defs[k].body, 2);
        fprintf(out, "}\n");
    }
    for (int u = 0; u < g->n_units; u++) {
        const dfg_unit *un = &g->units[u];
        fprintf(out, "unit %d %s %s", u, dfg_unit_kind_name(un->kind), un->name);
        if (un->kind == DFG_VPCU)
            fprintf(out, " stages %d%s", un->n_stages, un->reduces ? " reduce" : "");
        fprintf(out, " in %dv+%ds out %dv+%ds", un->vec_in, un->scal_in, un->vec_out, un->scal_out);
        if (un->shared_by)
            fprintf(out, " shared by %d replicas (runs replica 0's chunk, multicasts to all)", un->shared_by);
        fputc('\n', out);
    }
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_stream *st = &g->streams[s];
        fprintf(out, "stream %s %s -> %s", st->kind == DFG_STREAM_VECTOR ? "vector" : "scalar",
                g->units[st->src].name, g->units[st->dst].name);
        if (st->reg != DFG_NONE)
            fprintf(out, " r%d", st->reg);
        fprintf(out, " hops %d\n", st->hops);
    }
}
