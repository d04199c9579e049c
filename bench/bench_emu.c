/*
 * bench_emu.c — the simulator's speed: lane operations per second of CPU
 * time on an example, and the ratio to a naive -O2 C loop of the same
 * kernel on the same data (gemm, softmax, spmv).
 *
 * usage: bench_emu PROGRAM.pat KERNEL [FABRIC.cfg]
 *   KERNEL gemm | softmax | spmv: the native loop to compare with.
 * The program is lowered and formed into units for the fabric (default
 * the built-in SN10) without placement (zero hops), its inputs generated
 * with seed 1, then simulated once.  Prints CPU seconds, lane operations
 * (emu_result.lane_ops), their rate, and the slowdown against native C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "emu/emu.h"
#include "patterns/pat_data.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const pat_tensor *input(const pat_program *p, const pat_values *v, const char *name)
{
    for (int k = 0; k < p->n_decls; k++)
        if (!strcmp(p->decls[k]->name, name))
            return &v->t[k];
    return NULL;
}

/* The native kernels, as a C programmer would write them naively. */
static double native(const char *kernel, const pat_program *p, const pat_values *v, double *sink)
{
    double t0 = cpu_seconds(), s = 0;
    if (!strcmp(kernel, "gemm")) {
        const pat_tensor *A = input(p, v, "A"), *B = input(p, v, "B");
        int M = A->type.dims[0], K = A->type.dims[1], N = B->type.dims[1];
        float *C = malloc((size_t)M * (size_t)N * sizeof *C);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float acc = 0;
                for (int k = 0; k < K; k++)
                    acc += A->data.f[(size_t)i * K + k] * B->data.f[(size_t)k * N + j];
                C[(size_t)i * N + j] = acc;
            }
        for (int i = 0; i < M * N; i++)
            s += C[i];
        free(C);
    } else if (!strcmp(kernel, "softmax")) {
        const pat_tensor *X = input(p, v, "X");
        int R = X->type.dims[0], D = X->type.dims[1];
        float *Y = malloc((size_t)R * (size_t)D * sizeof *Y);
        for (int i = 0; i < R; i++) {
            const float *x = X->data.f + (size_t)i * D;
            float m = -INFINITY, sum = 0;
            for (int j = 0; j < D; j++)
                m = fmaxf(m, x[j]);
            for (int j = 0; j < D; j++)
                sum += expf(x[j] - m);
            for (int j = 0; j < D; j++)
                Y[(size_t)i * D + j] = expf(x[j] - m) / sum;
        }
        for (int i = 0; i < R * D; i++)
            s += Y[i];
        free(Y);
    } else if (!strcmp(kernel, "spmv")) {
        const pat_tensor *ptr = input(p, v, "ptr"), *col = input(p, v, "col"), *val = input(p, v, "val"),
                         *x = input(p, v, "x");
        int R = ptr->type.dims[0] - 1;
        float *y = malloc((size_t)R * sizeof *y);
        for (int r = 0; r < R; r++) {
            float acc = 0;
            for (int j = ptr->data.i[r]; j < ptr->data.i[r + 1]; j++)
                acc += val->data.f[j] * x->data.f[col->data.i[j]];
            y[r] = acc;
        }
        for (int r = 0; r < R; r++)
            s += y[r];
        free(y);
    }
    *sink = s;
    return cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_emu PROGRAM.pat gemm|softmax|spmv [FABRIC.cfg]\n");
        return 2;
    }
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    fab_fabric fab;
    const pat_program *p = pat_load_file(argv[1], &a, &d);
    int rc = 1;
    if (!p || (argc > 3 ? fab_load_file(argv[3], &fab, &d) : fab_load_default(&fab, &d)) != 0)
        goto out;
    dfg g;
    dfg_opts o = {.metapipe = true, .lanes = fab.lanes, .par = 1};
    bool not_fit;
    if (dfg_lower(&g, &a, p, &fab, &o, &d) != 0 || dfg_build_units(&g, &d) != 0 || dfg_check(&g, &not_fit, &d) != 0)
        goto out;
    pat_values in, out;
    if (pat_values_init(&in, p) != 0 || pat_load_inputs(p, NULL, false, 1, &in, &d) != 0)
        goto out;
    emu_result res;
    double t0 = cpu_seconds();
    int erc = emu_run(&g, &in, &out, &res, &d);
    double t_emu = cpu_seconds() - t0;
    if (erc == 0) {
        double sink;
        double t_nat = native(argv[2], p, &in, &sink);
        printf("%s on %s: %lld cycles simulated in %.3f s CPU, %lld lane ops: %.1f M lane-ops/s; "
               "naive -O2 C %.4f s: simulation %.0fx slower (checksum %.3g)\n",
               argv[1], fab.name, (long long)res.cycles, t_emu, (long long)res.lane_ops,
               (double)res.lane_ops / t_emu / 1e6, t_nat, t_nat > 0 ? t_emu / t_nat : 0.0, sink);
        pat_values_free(&out);
        rc = 0;
    }
    emu_result_free(&res);
    pat_values_free(&in);
out:
    diag_print(stderr, &d);
    diag_free(&d);
    arena_destroy(&a);
    return rc;
}
