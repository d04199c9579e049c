/*
 * bench_ref.c — the reference interpreter against a naive C loop of the
 * same kernel (issue 9: at most 5x slower on gemm, softmax and spmv).
 *
 * usage: bench_ref KERNEL SIZE...    (KERNEL: gemm M | softmax R D | spmv R NNZ)
 *
 * The program is the example's text with the sizes substituted; its inputs
 * come from the generator; the interpreter (bounds included) is timed from
 * the filled inputs to the filled outputs.  The C loop is what a person
 * would write at -O2 (this file is built with the project's flags): the
 * same loop order and the same float operations, so the same results.  Each
 * side runs three times and the best time counts.  Prints both times and
 * the ratio; exits 1 when the ratio passes the limit given by --max-ratio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patterns/pat.h"
#include "patterns/pat_data.h"

static double now(void)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Keeps the compiler from dropping the C loop's results. */
static volatile float sink;

static const float *input(const pat_program *p, const pat_values *v, const char *name)
{
    return v->t[pat_find_decl(p, name)->id].data.f;
}

__attribute__((noinline)) static void c_gemm(const pat_program *p, const pat_values *v, int m, float *c)
{
    const float *a = input(p, v, "A"), *b = input(p, v, "B");
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            float s = 0;
            for (int k = 0; k < m; k++)
                s += a[(long)i * m + k] * b[(long)k * m + j];
            c[(long)i * m + j] = s;
        }
}

__attribute__((noinline)) static void c_softmax(const pat_program *p, const pat_values *v, int r, int d, float *y)
{
    const float *x = input(p, v, "X");
    for (int i = 0; i < r; i++) {
        const float *row = x + (long)i * d;
        float m = -INFINITY, s = 0;
        for (int j = 0; j < d; j++)
            m = fmaxf(m, row[j]);
        for (int j = 0; j < d; j++)
            s += expf(row[j] - m);
        for (int j = 0; j < d; j++)
            y[(long)i * d + j] = expf(row[j] - m) / s;
    }
}

__attribute__((noinline)) static void c_spmv(const pat_program *p, const pat_values *v, int r, float *y)
{
    const int32_t *ptr = v->t[pat_find_decl(p, "ptr")->id].data.i;
    const int32_t *col = v->t[pat_find_decl(p, "col")->id].data.i;
    const float *val = input(p, v, "val"), *x = input(p, v, "x");
    for (int i = 0; i < r; i++) {
        float s = 0;
        for (int j = ptr[i]; j < ptr[i + 1]; j++)
            s += val[j] * x[col[j]];
        y[i] = s;
    }
}

int main(int argc, char **argv)
{
    double max_ratio = 0;
    if (argc >= 3 && !strcmp(argv[argc - 2], "--max-ratio")) {
        max_ratio = atof(argv[argc - 1]);
        argc -= 2;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: bench_ref gemm M | softmax R D | spmv R NNZ [--max-ratio X]\n");
        return 4;
    }
    const char *kernel = argv[1];
    int s1 = atoi(argv[2]), s2 = argc > 3 ? atoi(argv[3]) : 0;
    char src[1024];
    if (!strcmp(kernel, "gemm"))
        snprintf(src, sizeof src,
                 "const M = %d\ninput A : f32[M][M]\ninput B : f32[M][M]\noutput C : f32[M][M]\n"
                 "C = map (i: M, j: M) { reduce (k: M) + { A[i][k] * B[k][j] } }\n", s1);
    else if (!strcmp(kernel, "softmax"))
        snprintf(src, sizeof src,
                 "const R = %d\nconst D = %d\ninput X : f32[R][D]\noutput Y : f32[R][D]\n"
                 "Y = map (i: R) {\n  let m = reduce (j: D) max { X[i][j] }\n"
                 "  let s = reduce (j: D) + { exp(X[i][j] - m) }\n  map (j: D) { exp(X[i][j] - m) / s }\n}\n",
                 s1, s2);
    else if (!strcmp(kernel, "spmv"))
        snprintf(src, sizeof src,
                 "const R = %d\nconst NNZ = %d\ninput ptr : i32[R + 1] in 0 .. NNZ sorted\n"
                 "input col : i32[NNZ] in 0 .. R\ninput val : f32[NNZ]\ninput x : f32[R]\noutput y : f32[R]\n"
                 "y = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + { val[j] * x[col[j]] } }\n",
                 s1, s2);
    else {
        fprintf(stderr, "bench_ref: unknown kernel '%s'\n", kernel);
        return 4;
    }
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    pat_program *p = pat_load_string(kernel, src, &a, &d);
    pat_values v;
    if (!p || pat_values_init(&v, p) != 0 || pat_load_inputs(p, NULL, false, 1, &v, &d) != 0) {
        diag_print(stderr, &d);
        return 1;
    }
    const pat_decl *out = p->decls[p->n_decls - 1];
    int64_t n = pat_type_count(&out->type);
    float *c = malloc((size_t)n * sizeof *c);
    double t_interp = INFINITY, t_c = INFINITY;
    /* BENCH_REF_REPS=N: more runs of each side (for a profiler) */
    int reps = getenv("BENCH_REF_REPS") ? atoi(getenv("BENCH_REF_REPS")) : 3;
    for (int rep = 0; rep < (reps > 0 ? reps : 3); rep++) {
        pat_bounds rb = {0};
        double t0 = now();
        if (pat_interpret_opts(p, &v, NULL, &rb, &d) != 0) {
            diag_print(stderr, &d);
            return 1;
        }
        double t1 = now();
        pat_bounds_free(&rb);
        t_interp = fmin(t_interp, t1 - t0);
        if (getenv("BENCH_REF_VERBOSE"))
            fprintf(stderr, "interpreter run %d: %.4f s\n", rep, t1 - t0);
        t0 = now();
        if (!strcmp(kernel, "gemm"))
            c_gemm(p, &v, s1, c);
        else if (!strcmp(kernel, "softmax"))
            c_softmax(p, &v, s1, s2, c);
        else
            c_spmv(p, &v, s1, c);
        t1 = now();
        sink = c[n - 1];
        t_c = fmin(t_c, t1 - t0);
    }
    /* the same loops in the same order: the same bits */
    const float *ref = v.t[out->id].data.f;
    int64_t differ = 0;
    for (int64_t i = 0; i < n; i++)
        differ += memcmp(&ref[i], &c[i], sizeof *c) != 0;
    double ratio = t_interp / t_c;
    char size[64];
    if (argc > 3)
        snprintf(size, sizeof size, "%s x %s", argv[2], argv[3]);
    else
        snprintf(size, sizeof size, "%s^3", argv[2]);
    printf("%-8s %-12s interpreter %.6f s, naive C %.6f s: %.2fx; %lld of %lld elements differ\n", kernel, size,
           t_interp, t_c, ratio, (long long)differ, (long long)n);
    free(c);
    pat_values_free(&v);
    diag_free(&d);
    arena_destroy(&a);
    return differ || (max_ratio > 0 && ratio > max_ratio) ? 1 : 0;
}
