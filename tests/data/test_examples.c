/*
 * test_examples.c — every program in examples/ parses, checks and runs in
 * the reference interpreter on generated data, and its outputs are sane.
 *
 * Usage (from meson): test_examples EXAMPLES_DIR.  The list of examples is
 * spelled out here, so a missing or renamed example fails too.  Beyond "no
 * diagnostics and every f32 output finite", the cheap invariants of several
 * examples are checked against an independent recomputation in double from
 * the same generated inputs (the interpreter's own arithmetic is not
 * trusted to check itself); the numpy cross-check (numpy_check.py) compares
 * every output in full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "patterns/pat.h"
#include "patterns/pat_data.h"

static const char *examples_dir = "examples";

/* The interpreted program and its values, for the checks below. */
typedef struct run {
    arena a;
    pat_program *p;
    pat_values v;
} run;

static void run_example(run *r, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.pat", examples_dir, name);
    diag_list d;
    diag_init(&d);
    arena_init(&r->a);
    r->p = pat_load_file(path, &r->a, &d);
    if (r->p) {
        assert_int_equal(pat_values_init(&r->v, r->p), 0);
        if (pat_load_inputs(r->p, NULL, false, 1, &r->v, &d) == 0)
            pat_interpret(r->p, &r->v, &d);
    }
    if (!r->p || diag_has_errors(&d)) {
        diag_print(stderr, &d);
        fail_msg("%s failed", path);
    }
    /* Blocked inner loops change nothing: the same program one iteration
     * at a time gives the same bits in every output and buffer. */
    pat_values one;
    assert_int_equal(pat_values_init(&one, r->p), 0);
    pat_interp_opts oo = {.one_at_a_time = true};
    if (pat_load_inputs(r->p, NULL, false, 1, &one, &d) != 0 || pat_interpret_opts(r->p, &one, &oo, NULL, &d) != 0) {
        diag_print(stderr, &d);
        fail_msg("%s failed one iteration at a time", path);
    }
    for (int i = 0; i < r->p->n_decls; i++)
        if (r->p->decls[i]->kind == PAT_OUTPUT || r->p->decls[i]->kind == PAT_BUFFER)
            if (memcmp(one.t[i].data.p, r->v.t[i].data.p, (size_t)one.t[i].count * 4) != 0)
                fail_msg("%s: '%s' differs between blocked and one-at-a-time loops", name, r->p->decls[i]->name);
    pat_values_free(&one);
    diag_free(&d);
    /* Every output exists with its declared shape; f32 outputs are finite. */
    for (int i = 0; i < r->p->n_decls; i++) {
        const pat_decl *decl = r->p->decls[i];
        if (decl->kind != PAT_OUTPUT)
            continue;
        const pat_tensor *t = &r->v.t[decl->id];
        assert_non_null(t->data.p);
        assert_int_equal(t->count, pat_type_count(&decl->type));
        if (decl->type.elem == PAT_F32)
            for (int64_t k = 0; k < t->count; k++)
                if (!isfinite(t->data.f[k]))
                    fail_msg("%s: %s[%lld] = %g", name, decl->name, (long long)k, t->data.f[k]);
    }
}

static void run_free(run *r)
{
    pat_values_free(&r->v);
    arena_destroy(&r->a);
}

static const pat_tensor *value(run *r, const char *name)
{
    const pat_decl *decl = pat_find_decl(r->p, name);
    assert_non_null(decl);
    return &r->v.t[decl->id];
}

static void assert_close(double got, double want)
{
    if (!(fabs(got - want) <= 1e-5 + 1e-4 * fabs(want)))
        fail_msg("got %.9g, want %.9g", got, want);
}

/* ------------------------------------------------------------------ */

static void gemm_matches_sampled_dot_products(void **state)
{
    (void)state;
    run r;
    run_example(&r, "gemm");
    const float *A = value(&r, "A")->data.f, *B = value(&r, "B")->data.f;
    const float *C = value(&r, "C")->data.f;
    for (int s = 0; s < 64; s++) {
        int i = (s * 37) % 256, j = (s * 101 + 7) % 256;
        double want = 0;
        for (int k = 0; k < 256; k++)
            want += (double)A[i * 256 + k] * B[k * 256 + j];
        if (fabs(C[i * 256 + j] - want) > 1e-4 * 16)
            fail_msg("C[%d][%d] = %g, want %g", i, j, C[i * 256 + j], want);
    }
    run_free(&r);
}

static void softmax_rows_sum_to_one(void **state)
{
    (void)state;
    run r;
    run_example(&r, "softmax");
    const float *Y = value(&r, "Y")->data.f, *X = value(&r, "X")->data.f;
    for (int i = 0; i < 512; i++) {
        double s = 0, m = -INFINITY, z = 0;
        for (int j = 0; j < 128; j++)
            m = fmax(m, X[i * 128 + j]);
        for (int j = 0; j < 128; j++)
            z += exp(X[i * 128 + j] - m);
        for (int j = 0; j < 128; j++) {
            s += Y[i * 128 + j];
            assert_close(Y[i * 128 + j], exp(X[i * 128 + j] - m) / z);
        }
        assert_close(s, 1.0);
    }
    run_free(&r);
}

static void spmv_matches_csr_product(void **state)
{
    (void)state;
    run r;
    run_example(&r, "spmv");
    const int32_t *ptr = value(&r, "ptr")->data.i, *col = value(&r, "col")->data.i;
    const float *val = value(&r, "val")->data.f, *x = value(&r, "x")->data.f;
    const float *y = value(&r, "y")->data.f;
    assert_int_equal(ptr[0], 0);
    assert_int_equal(ptr[1024], 16384);
    for (int row = 0; row < 1024; row++) {
        double want = 0;
        for (int j = ptr[row]; j < ptr[row + 1]; j++)
            want += (double)val[j] * x[col[j]];
        assert_close(y[row], want);
    }
    run_free(&r);
}

static void histogram_conserves_weight(void **state)
{
    (void)state;
    run r;
    run_example(&r, "histogram");
    const int32_t *keys = value(&r, "keys")->data.i;
    const float *w = value(&r, "w")->data.f, *H = value(&r, "H")->data.f;
    double want[256] = {0};
    for (int i = 0; i < 65536; i++)
        want[keys[i]] += w[i];
    for (int b = 0; b < 256; b++)
        assert_true(fabs(H[b] - want[b]) <= 1e-3);
    run_free(&r);
}

static void tpch_q6_matches_filtered_sum(void **state)
{
    (void)state;
    run r;
    run_example(&r, "tpch_q6");
    const int32_t *date = value(&r, "shipdate")->data.i, *disc = value(&r, "discount")->data.i;
    const int32_t *qty = value(&r, "quantity")->data.i;
    const float *price = value(&r, "price")->data.f;
    double want = 0;
    int rows = 0;
    for (int i = 0; i < 65536; i++)
        if (date[i] >= 731 && date[i] < 1096 && disc[i] >= 5 && disc[i] <= 7 && qty[i] < 24) {
            want += (double)price[i] * ((float)disc[i] * 0.01f);
            rows++;
        }
    assert_in_range(rows, 600, 1800); /* about 1.8 % of the rows pass */
    assert_close(value(&r, "revenue")->data.f[0], want);
    run_free(&r);
}

static void kmeans_assigns_to_nearest_and_counts_every_vector(void **state)
{
    (void)state;
    run r;
    run_example(&r, "kmeans");
    const int32_t *P = value(&r, "P")->data.i, *Cent = value(&r, "Cent")->data.i;
    const int32_t *assign = value(&r, "assign")->data.i, *count = value(&r, "count")->data.i;
    const float *newC = value(&r, "newC")->data.f;
    int total = 0, used = 0;
    for (int k = 0; k < 32; k++) {
        total += count[k];
        used += count[k] > 0;
    }
    assert_int_equal(total, 4096);
    assert_true(used > 1);
    double sums[32][16] = {{0}};
    for (int n = 0; n < 4096; n++) {
        int best = -1;
        long bestd = 0;
        for (int k = 0; k < 32; k++) {
            long dist = 0;
            for (int d = 0; d < 16; d++) {
                long t = P[n * 16 + d] - Cent[k * 16 + d];
                dist += t * t;
            }
            if (best < 0 || dist < bestd) {
                best = k;
                bestd = dist;
            }
        }
        assert_int_equal(assign[n], best);
        for (int d = 0; d < 16; d++)
            sums[best][d] += P[n * 16 + d];
    }
    for (int k = 0; k < 32; k++)
        for (int d = 0; d < 16; d++)
            assert_close(newC[k * 16 + d], count[k] ? sums[k][d] / count[k] : Cent[k * 16 + d]);
    run_free(&r);
}

static void blocksparse_layout_is_a_flat_butterfly(void **state)
{
    (void)state;
    run r;
    run_example(&r, "blocksparse");
    const int32_t *layout = value(&r, "layout")->data.i;
    for (int a = 0; a < 16; a++)
        for (int b = 0; b < 16; b++) {
            int x = a ^ b;
            assert_int_equal(layout[a * 16 + b], (x & (x - 1)) == 0);
        }
    /* Y = X (W masked) + (X U) Vt, sampled. */
    const float *X = value(&r, "X")->data.f, *W = value(&r, "W")->data.f;
    const float *U = value(&r, "U")->data.f, *Vt = value(&r, "Vt")->data.f;
    const float *Y = value(&r, "Y")->data.f;
    for (int s = 0; s < 32; s++) {
        int m = (s * 53) % 128, n = (s * 29 + 3) % 256;
        double want = 0;
        for (int k = 0; k < 256; k++) {
            int x = (k / 16) ^ (n / 16);
            if ((x & (x - 1)) == 0)
                want += (double)X[m * 256 + k] * W[k * 256 + n];
        }
        for (int q = 0; q < 16; q++) {
            double xu = 0;
            for (int k = 0; k < 256; k++)
                xu += (double)X[m * 256 + k] * U[k * 16 + q];
            want += xu * 0.0625 * Vt[q * 256 + n];
        }
        want *= 0.0625;
        if (fabs(Y[m * 256 + n] - want) > 1e-4)
            fail_msg("Y[%d][%d] = %g, want %g", m, n, Y[m * 256 + n], want);
    }
    run_free(&r);
}

static void embedding_bag_sums_weighted_rows(void **state)
{
    (void)state;
    run r;
    run_example(&r, "embedding_bag");
    const float *table = value(&r, "table")->data.f, *psw = value(&r, "psw")->data.f;
    const int32_t *idx = value(&r, "idx")->data.i, *off = value(&r, "offsets")->data.i;
    const float *pooled = value(&r, "pooled")->data.f;
    for (int b = 0; b < 512; b++)
        for (int d = 0; d < 16; d++) {
            double want = 0;
            for (int j = off[b]; j < off[b + 1]; j++)
                want += (double)table[idx[j] * 16 + d] * psw[j];
            assert_close(pooled[b * 16 + d], want);
        }
    run_free(&r);
}

/* The rest: they run, and their outputs are finite (checked in run_example). */
static void the_other_examples_run(void **state)
{
    (void)state;
    static const char *names[] = {"mlp", "layernorm", "attention", "conv2d", "blackscholes",
                                  "logreg"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        run r;
        run_example(&r, names[i]);
        run_free(&r);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        examples_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gemm_matches_sampled_dot_products),
        cmocka_unit_test(softmax_rows_sum_to_one),
        cmocka_unit_test(spmv_matches_csr_product),
        cmocka_unit_test(histogram_conserves_weight),
        cmocka_unit_test(tpch_q6_matches_filtered_sum),
        cmocka_unit_test(kmeans_assigns_to_nearest_and_counts_every_vector),
        cmocka_unit_test(blocksparse_layout_is_a_flat_butterfly),
        cmocka_unit_test(embedding_bag_sums_weighted_rows),
        cmocka_unit_test(the_other_examples_run),
    };
    return cmocka_run_group_tests_name("examples", tests, NULL, NULL);
}
