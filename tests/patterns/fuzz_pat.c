/*
 * fuzz_pat.c — libFuzzer target for the front end: any byte string is
 * lexed, parsed and checked; when it checks, it is dumped and, if small
 * enough, interpreted on zeroed inputs.  Nothing may crash, leak or trip a
 * sanitizer, whatever the input.  Built only with -Dfuzz=true and clang:
 *
 *   CC=clang meson setup /tmp/build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
 *   meson compile -C /tmp/build-fuzz fuzz_pat
 *   /tmp/build-fuzz/tests/patterns/fuzz_pat -max_len=4096 tests/golden/cases
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/pat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A rough count of node evaluations: static extents multiply, a dynamic
 * range counts hi - lo when both are literals and 64 otherwise.  Programs
 * with big iteration spaces are legitimate but slow under the fuzzer's
 * instrumentation, so they are checked and dumped but not run. */
static double work(const pat_expr *e)
{
    if (!e)
        return 0;
    double w = 1;
    switch (e->kind) {
    case PAT_E_INT: case PAT_E_FLOAT: case PAT_E_TENSOR: case PAT_E_VAR:
        return 1;
    case PAT_E_ACCESS:
        w += work(e->u.access.base);
        for (int k = 0; k < e->u.access.n; k++)
            w += work(e->u.access.idx[k]);
        return w;
    case PAT_E_UNARY:
        return 1 + work(e->u.unary.arg);
    case PAT_E_BINARY:
        return 1 + work(e->u.binary.lhs) + work(e->u.binary.rhs);
    case PAT_E_SELECT:
        return 1 + work(e->u.select.cond) + work(e->u.select.then) + work(e->u.select.els);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            w += work(e->u.call.args[k]);
        return w;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            w += work(e->u.block.values[k]);
        return w + work(e->u.block.result);
    case PAT_E_MAP: case PAT_E_REDUCE: case PAT_E_GROUPBY: {
        const pat_pattern *pt = &e->u.pat;
        double n = 1, inner = work(pt->body) + work(pt->where) + work(pt->key);
        for (int k = 0; k < pt->n_idx; k++) {
            const pat_index *ix = &pt->idx[k];
            if (!ix->lo) {
                n *= ix->extent;
                continue;
            }
            inner += work(ix->lo) + work(ix->hi);
            if (ix->lo->kind == PAT_E_INT && ix->hi->kind == PAT_E_INT)
                n *= ix->hi->u.ival > ix->lo->u.ival ? (double)ix->hi->u.ival - ix->lo->u.ival : 0;
            else
                n *= 64;
        }
        return 1 + n * inner + (double)pat_type_count(&e->type);
    }
    }
    return w;
}

/* Interpret only programs whose tensors and loops stay small. */
static bool small_enough(const pat_program *p)
{
    int64_t total = 0;
    for (int i = 0; i < p->n_decls; i++)
        if (p->decls[i]->kind != PAT_CONST)
            total += pat_type_count(&p->decls[i]->type);
    double w = 0;
    for (int i = 0; i < p->n_defs; i++)
        w += work(p->defs[i]->value);
    return total <= 1 << 16 && w <= 2e5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    pat_program *p = pat_load_string("fuzz.pat", text, &a, &d);
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        diag_print(sink, &d);
        if (p)
            pat_dump(sink, p);
        fclose(sink);
    }
    /* Loops are bounded by extents and data; with zeroed inputs dynamic
     * ranges are empty, so the run time follows the static shapes. */
    if (p && small_enough(p)) {
        pat_values v;
        if (pat_values_init(&v, p) == 0) {
            bool ok = true;
            for (int i = 0; i < p->n_decls && ok; i++)
                if (p->decls[i]->kind == PAT_INPUT)
                    ok = pat_tensor_alloc(&v.t[i], &p->decls[i]->type) == 0;
            if (ok)
                pat_interpret(p, &v, &d);
            pat_values_free(&v);
        }
    }
    diag_free(&d);
    arena_destroy(&a);
    free(text);
    return 0;
}
