/*
 * test_emu.c — the emulator executes every construct of the language as
 * the reference does (through the lowered graph), reports run-time errors
 * instead of crashing, and counts cycles by its stated model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emu/emu.h"
#include "tests/mapper/mapper_fixture.h"

static long run(const char *src, long long *cycles, bool metapipe)
{
    fixture fx;
    int st = fixture_map(&fx, src, NULL, metapipe);
    if (st != 4) {
        diag_print(stderr, &fx.d);
        fixture_free(&fx);
        return -100 - st;
    }
    long bad = fixture_compare(&fx, cycles);
    if (bad != 0)
        diag_print(stderr, &fx.d);
    fixture_free(&fx);
    return bad;
}

#define AGREES(src) assert_int_equal(run((src), NULL, true), 0)

static void arithmetic_and_casts(void **state)
{
    (void)state;
    AGREES("const N = 100\ninput x : f32[N]\ninput k : i32[N] in -50 .. 50\noutput y : f32[N]\noutput z : i32[N]\n"
           "y = map (i: N) { -x[i] * 3.5 + f32(k[i]) / 7.0 - sqrt(abs(x[i])) + exp(x[i]) - log(2.0 + x[i]) + tanh(x[i]) }\n"
           "z = map (i: N) { k[i] / 7 + k[i] % 5 - i32(x[i] * 10.0) + max(k[i], 3) * min(k[i], -2) }\n");
}

static void integer_wrap_and_comparisons(void **state)
{
    (void)state;
    AGREES("const N = 64\ninput a : i32[N] in -2147483647 .. 2147483647\ninput x : f32[N]\noutput y : i32[N]\n"
           "y = map (i: N) { a[i] * 65537 + (a[i] < 0) + (x[i] >= 0.0) * 2 + (a[i] == a[i]) - (x[i] != x[i]) + !(a[i] > 5) }\n");
}

static void short_circuit_protects_out_of_bounds(void **state)
{
    (void)state;
    AGREES("const N = 40\ninput x : f32[N]\noutput y : f32[N]\noutput z : i32[N]\n"
           "y = map (i: N) { i > 0 ? x[i - 1] : 0.0 }\n"
           "z = map (i: N) { (i < N - 1 && x[i + 1] > 0.0) + (i == 0 || x[i - 1] < 0.0) * 2 }\n");
}

static void where_guard_and_dynamic_ranges(void **state)
{
    (void)state;
    AGREES("const R = 33\nconst NNZ = 300\nconst C = 50\n"
           "input ptr : i32[R + 1] in 0 .. NNZ sorted\ninput col : i32[NNZ] in 0 .. C\ninput val : f32[NNZ]\ninput x : f32[C]\n"
           "output y : f32[R]\noutput pos : f32[R]\n"
           "y = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + { val[j] * x[col[j]] } }\n"
           "pos = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + where val[j] > 0.0 { val[j] } }\n");
}

static void empty_ranges_give_identities(void **state)
{
    (void)state;
    AGREES("input x : f32[8]\ninput n : i32[8] in 0 .. 3\n"
           "output s : f32[8]\noutput p : f32[8]\noutput mx : f32[8]\noutput mn : i32[8]\n"
           "s = map (i: 8) { reduce (j: 2 .. n[i]) + { x[j] } }\n"
           "p = map (i: 8) { reduce (j: 2 .. n[i]) * { x[j] } }\n"
           "mx = map (i: 8) { reduce (j: 2 .. n[i]) max { x[j] } }\n"
           "mn = map (i: 8) { reduce (j: 2 .. n[i]) min { n[j] } }\n");
}

static void groupby_scatter_and_guard(void **state)
{
    (void)state;
    AGREES("const N = 500\nconst B = 17\ninput keys : i32[N] in 0 .. B\ninput w : f32[N]\n"
           "output H : f32[B]\noutput cnt : i32[B]\noutput big : f32[B][2]\n"
           "H = groupby (i: N) + key keys[i] into B { w[i] }\n"
           "cnt = groupby (i: N) + key keys[i] into B where w[i] > 0.0 { 1 }\n"
           "big = groupby (i: N) max key keys[i] into B { map (c: 2) { c == 0 ? w[i] : -w[i] } }\n");
}

static void row_valued_reductions_and_tensor_lets(void **state)
{
    (void)state;
    AGREES("const R = 12\nconst D = 20\ninput X : f32[R][D]\noutput colsum : f32[D]\noutput Y : f32[R][D]\n"
           "colsum = reduce (r: R) + { map (d: D) { X[r][d] } }\n"
           "Y = map (i: R) {\n  let e = map (j: D) { exp(X[i][j]) }\n  let s = reduce (j: D) + { e[j] }\n"
           "  map (j: D) { e[j] / s }\n}\n");
}

static void nested_reductions_and_scalar_outputs(void **state)
{
    (void)state;
    AGREES("const N = 30\ninput A : f32[N][N]\ninput v : i32[N]\noutput t : f32\noutput m : i32\n"
           "t = reduce (i: N) + { reduce (j: N) max { A[i][j] } * 0.5 }\n"
           "m = reduce (i: N) max { v[i] % 7 }\n");
}

static void buffers_chain_definitions(void **state)
{
    (void)state;
    AGREES("const N = 50\ninput x : f32[N]\nbuffer h : f32[N]\noutput y : f32[N]\noutput s : f32\n"
           "h = map (i: N) { max(x[i], 0.0) }\ny = map (i: N) { h[i] * 2.0 + h[N - 1 - i] }\n"
           "s = reduce (i: N) + { y[i] }\n");
}

static void nan_in_max_and_min_follows_the_reference(void **state)
{
    (void)state;
    /* fmaxf/fminf semantics: a NaN operand is ignored, in the function and
     * in reductions alike. */
    AGREES("const N = 40\ninput x : f32[N]\noutput y : f32[N]\noutput m : f32\noutput n : f32\n"
           "y = map (i: N) { max(0.0 / 0.0, x[i]) + min(x[i], 0.0 / 0.0) }\n"
           "m = reduce (i: N) max { i % 3 == 0 ? 0.0 / 0.0 : x[i] }\n"
           "n = reduce (i: N) min { i % 5 == 1 ? 0.0 / 0.0 : x[i] }\n");
}

static void indexed_patterns_stay_private_to_their_iteration(void **state)
{
    (void)state;
    /* Found by the differential tests: a small map indexed at once is
     * materialised into a scratch; unrolled into a lane-parallel loop, all
     * lanes shared one scratch word. */
    AGREES("const M = 8\noutput Y : i32[M]\nY = map (r: M) { (map (k: 1) { r })[0] }\n");
    AGREES("output Y : i32[4]\nY = map (k: 4) { (map (i: 6) { k + i })[5] }\n");
    AGREES("const Q = 4\noutput H : f32[Q]\noutput Y : f32[5][Q]\n"
           "H = groupby (q: Q + 1) max key 0 into Q { 0.0 }\n"
           "Y = map (i: 5, c: Q) { let p = map (j: 4) { H[c] + f32(j) }; p[2] }\n");
}

static void runtime_errors_are_reported_not_crashes(void **state)
{
    (void)state;
    /* Run on data the reference would refuse, the simulated hardware
     * faults too and says where, as an internal error of the mapping (in
     * rdumap the reference runs first and reports the user's error). */
    fixture fx;
    const char *src = "input x : f32[10]\ninput k : i32[4] in 0 .. 20\noutput y : f32[4]\n"
                      "y = map (i: 4) { x[k[i]] }\n";
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    pat_values vals, out;
    assert_int_equal(pat_values_init(&vals, fx.prog), 0);
    assert_int_equal(pat_load_inputs(fx.prog, NULL, false, 7, &vals, &fx.d), 0);
    for (int i = 0; i < 4; i++)
        vals.t[1].data.i[i] = i == 2 ? 15 : i;
    emu_result res;
    assert_int_equal(emu_run(&fx.g, &vals, &out, &res, &fx.d), -1);
    assert_null(out.t);
    bool found = false;
    for (int k = 0; k < fx.d.n; k++)
        found |= strstr(fx.d.items[k].msg, "index 15 out of bounds for dimension 0 of 'x' (size 10)") != NULL;
    assert_true(found);
    emu_result_free(&res);
    pat_values_free(&vals);
    fixture_free(&fx);
}

static void vector_issues_follow_the_trip_counts(void **state)
{
    (void)state;
    /* 16 lanes: a 40-long innermost loop is 3 vectors, 8 times over. */
    fixture fx;
    const char *src = "input A : f32[8][40]\noutput s : f32[8]\ns = map (i: 8) { reduce (k: 40) + { A[i][k] } }\n";
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    pat_values vals, out;
    assert_int_equal(pat_values_init(&vals, fx.prog), 0);
    assert_int_equal(pat_load_inputs(fx.prog, NULL, false, 7, &vals, &fx.d), 0);
    emu_result res;
    assert_int_equal(emu_run(&fx.g, &vals, &out, &res, &fx.d), 0);
    assert_int_equal(res.vectors, 8 * 3);
    assert_int_equal(res.flops, 8 * 40);
    assert_int_equal(res.dram_bytes, (8 * 40 + 8) * 4);
    /* a perfect nest pays the pipeline latency once, not per row */
    assert_true(res.def_end[0] - res.def_start[0] < 8 * 3 + 30);
    emu_result_free(&res);
    pat_values_free(&vals);
    pat_values_free(&out);
    fixture_free(&fx);
}

static void bank_conflicts_cost_cycles(void **state)
{
    (void)state;
    /* Lanes read x[16*k] (all in one bank) versus x[k] (all distinct). */
    long long strided = 0, dense = 0;
    assert_int_equal(run("input x : f32[4096]\noutput s : f32\ns = reduce (k: 256) + { x[16 * k] }\n", &strided, true), 0);
    assert_int_equal(run("input x : f32[4096]\noutput s : f32\ns = reduce (k: 256) + { x[k] }\n", &dense, true), 0);
    assert_true(strided > dense + 200);
}

static emu_result emulate(const char *src, const emu_opts *o)
{
    fixture fx;
    emu_result res = {0};
    if (fixture_map(&fx, src, NULL, true) == 4) {
        pat_values vals, out;
        if (pat_values_init(&vals, fx.prog) == 0 && pat_load_inputs(fx.prog, NULL, false, 7, &vals, &fx.d) == 0 &&
            emu_run_opts(&fx.g, &vals, &out, o, &res, &fx.d) == 0)
            pat_values_free(&out);
        pat_values_free(&vals);
    }
    fixture_free(&fx);
    return res;
}

static void banking_follows_the_accesses(void **state)
{
    (void)state;
    /* A is read along rows by r and along columns by c: diagonal banking
     * serves both without a conflict; a column-strided 1-D read cannot
     * avoid them. */
    const char *both = "input A : f32[64][64]\noutput r : f32[64]\noutput c : f32[64]\n"
                       "r = map (i: 64) { reduce (j: 64) + { A[i][j] } }\n"
                       "c = map (j: 64) { reduce (i: 64) + { A[i][j] } }\n";
    emu_opts o = {0};
    emu_result a = emulate(both, &o);
    assert_true(a.vectors > 0);
    assert_int_equal(a.conflict_cycles, 0);
    emu_result_free(&a);
    fixture fx;
    assert_int_equal(fixture_map(&fx, both, NULL, true), 4);
    assert_int_equal(fx.g.mems[0].bank_dims, 3u);
    fixture_free(&fx);
}

static void metapipelining_overlaps_stages(void **state)
{
    (void)state;
    const char *softmax = "const R = 64\nconst D = 64\ninput X : f32[R][D]\noutput Y : f32[R][D]\n"
                          "Y = map (i: R) {\n  let m = reduce (j: D) max { X[i][j] }\n"
                          "  let s = reduce (j: D) + { exp(X[i][j] - m) }\n  map (j: D) { exp(X[i][j] - m) / s }\n}\n";
    long long piped = 0, serial = 0;
    assert_int_equal(run(softmax, &piped, true), 0);
    assert_int_equal(run(softmax, &serial, false), 0);
    assert_true(piped < serial);
}

static void dense_runs_skipped_loops_masked(void **state)
{
    (void)state;
    /* Half the rows are guarded out; their inner loop is skipped unless dense. */
    const char *src = "input A : f32[32][64]\ninput keep : i32[32] in 0 .. 2\noutput s : f32[32]\n"
                      "s = map (i: 32) { keep[i] == 1 ? reduce (k: 64) + { A[i][k] } : 0.0 }\n";
    emu_opts sparse = {0}, dense = {.dense = true};
    emu_result a = emulate(src, &sparse), b = emulate(src, &dense);
    assert_true(a.cycles > 0);
    assert_true(b.vectors == 32 * 4);
    assert_true(a.vectors < b.vectors);
    assert_true(b.cycles > a.cycles);
    /* useful work is the same: masked lanes do not count */
    assert_int_equal(a.flops, b.flops);
    emu_result_free(&a);
    emu_result_free(&b);
}

static void the_kernel_baseline_goes_through_dram(void **state)
{
    (void)state;
    const char *src = "input x : f32[1024]\nbuffer h : f32[1024]\noutput y : f32[1024]\n"
                      "h = map (i: 1024) { x[i] * 2.0 }\ny = map (i: 1024) { h[i] + 1.0 }\n";
    emu_opts spatial = {0}, kernel = {.kernel_baseline = true};
    emu_result a = emulate(src, &spatial);
    /* kernel by kernel is one kernel per definition: unfused, as the
     * command line lowers it */
    fixture_no_fusion = true;
    emu_result b = emulate(src, &kernel);
    fixture_no_fusion = false;
    /* x and h read, h and y written: 4 tensors of 4 KiB through DRAM */
    assert_int_equal(b.dram_bytes, 4 * 4096);
    assert_int_equal(a.dram_bytes, 2 * 4096);
    /* one reconfiguration between the two kernels, at the default 10000 cycles */
    assert_int_equal(b.reconfig_cycles, 10000);
    assert_true(b.cycles > a.cycles + 10000);
    emu_result_free(&a);
    emu_result_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arithmetic_and_casts),
        cmocka_unit_test(integer_wrap_and_comparisons),
        cmocka_unit_test(short_circuit_protects_out_of_bounds),
        cmocka_unit_test(where_guard_and_dynamic_ranges),
        cmocka_unit_test(empty_ranges_give_identities),
        cmocka_unit_test(groupby_scatter_and_guard),
        cmocka_unit_test(row_valued_reductions_and_tensor_lets),
        cmocka_unit_test(nested_reductions_and_scalar_outputs),
        cmocka_unit_test(buffers_chain_definitions),
        cmocka_unit_test(nan_in_max_and_min_follows_the_reference),
        cmocka_unit_test(indexed_patterns_stay_private_to_their_iteration),
        cmocka_unit_test(runtime_errors_are_reported_not_crashes),
        cmocka_unit_test(vector_issues_follow_the_trip_counts),
        cmocka_unit_test(bank_conflicts_cost_cycles),
        cmocka_unit_test(metapipelining_overlaps_stages),
        cmocka_unit_test(dense_runs_skipped_loops_masked),
        cmocka_unit_test(banking_follows_the_accesses),
        cmocka_unit_test(the_kernel_baseline_goes_through_dram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
