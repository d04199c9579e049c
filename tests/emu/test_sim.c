/*
 * test_sim.c — the cycle-level simulator, one mechanism at a time.
 *
 * Each test changes one thing (a fabric parameter, a buffer depth, an
 * access pattern) and expects the effect the model predicts; and each
 * class of mapping fault (--mutate) must make verification fail, because
 * values travel only through the simulated streams and memories.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emu/emu.h"
#include "tests/mapper/mapper_fixture.h"

/* The fixture fabric with one key changed. */
static char *fabric_with(const char *key, const char *value)
{
    static char buf[1024];
    const char *base = fixture_fabric_text;
    const char *at = key ? strstr(base, key) : NULL;
    if (!at) {
        /* a key the fixture leaves at its default: append it to its section */
        snprintf(buf, sizeof buf, "%s", base);
        if (key) {
            char *sec = strstr(buf, !strcmp(key, "fifo_depth") ? "[pmu]" : !strcmp(key, "hop_cycles") ? "[dram]" : "");
            char tail[1024];
            snprintf(tail, sizeof tail, "%s", sec);
            snprintf(sec, sizeof buf - (size_t)(sec - buf), "%s = %s\n%s", key, value, tail);
        }
        return buf;
    }
    const char *eol = strchr(at, '\n');
    snprintf(buf, sizeof buf, "%.*s%s = %s%s", (int)(at - base), base, key, value, eol);
    return buf;
}

typedef struct run_out {
    int rc;              /* emu_run's return */
    long bad;            /* output elements that differ from the reference */
    emu_result res;
} run_out;

/* Map src (with fabric text ft, --par par), let tweak change the graph,
 * simulate, and compare every output with the reference. */
static run_out simulate(const char *src, const char *ft, int par, bool metapipe, void (*tweak)(dfg *g, void *arg),
                        void *arg, const emu_opts *o)
{
    run_out r = {.rc = -9};
    fixture fx;
    if (fixture_map_par(&fx, src, ft, metapipe, par) != 4) {
        diag_print(stderr, &fx.d);
        fixture_free(&fx);
        return r;
    }
    if (tweak)
        tweak(&fx.g, arg);
    pat_values ref, got;
    assert_int_equal(pat_values_init(&ref, fx.prog), 0);
    assert_int_equal(pat_load_inputs(fx.prog, NULL, false, 7, &ref, &fx.d), 0);
    assert_int_equal(pat_interpret(fx.prog, &ref, &fx.d), 0);
    r.rc = emu_run_opts(&fx.g, &ref, &got, o, &r.res, &fx.d);
    if (r.rc == 0) {
        for (int k = 0; k < fx.prog->n_decls; k++) {
            const pat_decl *dc = fx.prog->decls[k];
            if (dc->kind != PAT_OUTPUT)
                continue;
            for (int64_t i = 0; i < ref.t[k].count; i++) {
                if (dc->type.elem == PAT_I32)
                    r.bad += ref.t[k].data.i[i] != got.t[k].data.i[i];
                else {
                    double a = got.t[k].data.f[i], b = ref.t[k].data.f[i];
                    r.bad += !(fabs(a - b) <= 1e-5 + 1e-4 * fabs(b));
                }
            }
        }
        pat_values_free(&got);
    } else
        diag_print(stderr, &fx.d);
    pat_values_free(&ref);
    fixture_free(&fx);
    return r;
}

static void set_hops(dfg *g, void *arg)
{
    for (int s = 0; s < g->n_streams; s++)
        g->streams[s].hops = *(int *)arg;
}

/* ------------------------------------------------------------------ */
/* One mechanism at a time                                             */

static void hop_latency_adds_the_predicted_cycles(void **state)
{
    (void)state;
    /* One vector through load -> PMU x -> PCU -> PMU y -> store: four
     * streams on the critical path, each crossed once. */
    const char *src = "input x : f32[16]\noutput y : f32[16]\ny = map (i: 16) { x[i] * 2.0 + 1.0 }\n";
    int hops = 3;
    run_out one = simulate(src, fabric_with("hop_cycles", "1"), 1, true, set_hops, &hops, NULL);
    run_out two = simulate(src, fabric_with("hop_cycles", "2"), 1, true, set_hops, &hops, NULL);
    assert_int_equal(one.rc, 0);
    assert_int_equal(two.rc, 0);
    assert_int_equal(one.bad, 0);
    assert_int_equal(two.bad, 0);
    /* 4 streams x 3 hops x 1 more cycle per hop */
    assert_int_equal(two.res.cycles - one.res.cycles, 4 * 3);
    emu_result_free(&one.res);
    emu_result_free(&two.res);
}

static void a_slow_consumer_back_pressures_its_producer(void **state)
{
    (void)state;
    /* b[16*i % 256] puts every lane in one bank: the PCU gets one vector
     * per 16 cycles from b, while a could send one a cycle.  With FIFOs
     * deeper than the 16 vectors a sends, a never waits; with 4 entries it
     * waits once they are full. */
    const char *src = "input a : f32[256]\ninput b : f32[256]\noutput y : f32[256]\n"
                      "y = map (i: 256) { a[i] + b[(16 * i) % 256] }\n";
    run_out deep = simulate(src, fabric_with("fifo_depth", "64"), 1, true, NULL, NULL, NULL);
    run_out shallow = simulate(src, fabric_with("fifo_depth", "4"), 1, true, NULL, NULL, NULL);
    assert_int_equal(deep.rc, 0);
    assert_int_equal(shallow.rc, 0);
    assert_int_equal(deep.bad + shallow.bad, 0);
    /* unit order: find PMU a by its accesses (16 reads plus its fill) */
    int64_t bp_deep = -1, bp_shallow = -1;
    for (int u = 0; u < deep.res.n_units; u++)
        if (deep.res.unit[u].accesses == 16 + 16 && deep.res.unit[u].conflicts == 0) {
            bp_deep = deep.res.unit[u].backpressured;
            bp_shallow = shallow.res.unit[u].backpressured;
            break;
        }
    assert_int_equal(bp_deep, 0);
    /* 16 vectors at one per 16 cycles: a waits for most of the run */
    assert_true(bp_shallow > 100);
    assert_int_equal(shallow.res.conflict_cycles, 16 * 15);
    emu_result_free(&deep.res);
    emu_result_free(&shallow.res);
}

static void halving_dram_bandwidth_nearly_doubles_a_memory_bound_kernel(void **state)
{
    (void)state;
    const char *src = "input x : f32[8192]\noutput y : f32[8192]\ny = map (i: 8192) { x[i] * 2.0 }\n";
    run_out full = simulate(src, fabric_with("gbps", "2"), 1, true, NULL, NULL, NULL);
    run_out half = simulate(src, fabric_with("gbps", "1"), 1, true, NULL, NULL, NULL);
    assert_int_equal(full.rc, 0);
    assert_int_equal(half.rc, 0);
    double ratio = (double)half.res.cycles / (double)full.res.cycles;
    assert_true(ratio > 1.85 && ratio <= 2.0);
    /* 32 KiB in, 32 KiB out */
    assert_int_equal(full.res.dram_bytes, 2 * 8192 * 4);
    emu_result_free(&full.res);
    emu_result_free(&half.res);
}

/* A tensor larger than a PMU (128 KiB against the fixture's 64 KiB) stays
 * in DRAM and its VAG streams it: every 16-lane vector of consecutive f32
 * is one 64-byte burst, so the sum reads exactly the tensor's bytes and
 * takes bytes / (32 bytes a cycle) plus the latency; a stride of 16
 * elements touches a burst per lane, 16 times the bytes for the same
 * number of elements. */
static void a_dram_resident_tensor_costs_the_bursts_it_touches(void **state)
{
    (void)state;
    const char *dense = "input x : f32[32768]\noutput y : f32\ny = reduce (i: 32768) + { x[i] }\n";
    const char *strided = "input x : f32[32768]\noutput y : f32\ny = reduce (i: 2048) + { x[i * 16] }\n";
    run_out d = simulate(dense, NULL, 1, true, NULL, NULL, NULL);
    run_out s = simulate(strided, NULL, 1, true, NULL, NULL, NULL);
    assert_int_equal(d.rc + s.rc, 0);
    assert_int_equal(d.bad + s.bad, 0);
    assert_int_equal(d.res.dram_read_bytes, 32768 * 4);
    assert_true(d.res.cycles >= 4096 + 100);
    assert_true(d.res.cycles <= 4096 * 105 / 100 + 100 + 50);
    assert_int_equal(s.res.dram_read_bytes, 2048 * 64);
    assert_true(s.res.cycles >= 4096 + 100);
    emu_result_free(&d.res);
    emu_result_free(&s.res);
}

/* The tile model counts the DRAM traffic of the tiling it chose: every
 * tile load and store.  gemm 64^3 with its tensors in DRAM
 * (4 KiB PMUs) tiled with a split reduction, moves exactly the bytes the model
 * estimated (each tile row is whole bursts); on PMUs of 12 KiB the tiles
 * are larger and the traffic smaller, in the model and in the simulation. */
static void grab_model(dfg *g, void *arg)
{
    ((double *)arg)[0] = g->defs[0].tile_est_traffic;
    ((double *)arg)[1] = g->defs[0].n_tile;
}

static void the_tile_model_counts_the_simulated_dram_traffic(void **state)
{
    (void)state;
    const char *src = "const M = 64\nconst K = 64\nconst N = 64\n"
                      "input A : f32[M][K]\ninput B : f32[K][N]\noutput C : f32[M][N]\n"
                      "C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }\n";
    char small[1024], large[1024];
    snprintf(small, sizeof small, "%s", fabric_with("kib", "4"));
    snprintf(large, sizeof large, "%s", fabric_with("kib", "12"));
    double ms[2] = {0}, ml[2] = {0};
    run_out s = simulate(src, small, 1, true, grab_model, ms, NULL);
    run_out l = simulate(src, large, 1, true, grab_model, ml, NULL);
    assert_int_equal(s.rc + l.rc, 0);
    assert_int_equal(s.bad + l.bad, 0);
    assert_true(ms[1] >= 2 && ml[1] >= 1);
    assert_true(ms[0] > 0 && ml[0] > 0);
    assert_int_equal((int64_t)ms[0], s.res.dram_bytes);
    assert_int_equal((int64_t)ml[0], l.res.dram_bytes);
    assert_true(l.res.dram_bytes < s.res.dram_bytes);
    emu_result_free(&s.res);
    emu_result_free(&l.res);
}

static void a_conflicting_pattern_costs_its_extra_bank_cycles(void **state)
{
    (void)state;
    /* 16 lanes, 16 banks: x[16*k] puts the 16 words of a vector in one
     * bank, 16 cycles instead of 1; 256 iterations are 16 vectors. */
    run_out strided = simulate("input x : f32[4096]\noutput s : f32\ns = reduce (k: 256) + { x[16 * k] }\n", NULL, 1,
                               true, NULL, NULL, NULL);
    run_out dense = simulate("input x : f32[4096]\noutput s : f32\ns = reduce (k: 256) + { x[k] }\n", NULL, 1, true,
                             NULL, NULL, NULL);
    assert_int_equal(strided.rc, 0);
    assert_int_equal(dense.rc, 0);
    assert_int_equal(strided.res.conflict_cycles, 16 * 15);
    assert_int_equal(dense.res.conflict_cycles, 0);
    assert_true(strided.res.cycles - dense.res.cycles >= 16 * 15 - 4);
    emu_result_free(&strided.res);
    emu_result_free(&dense.res);
}

static const char *tile_pipe = "const R = 64\nconst D = 64\ninput X : f32[R][D]\noutput Y : f32[R][D]\n"
                               "Y = map (i: R) { let t = map (j: D) { X[i][j] * 2.0 }; map (j: D) { t[j] + 1.0 } }\n";

static int scratch_mem(const dfg *g)
{
    for (int m = 0; m < g->n_mems; m++)
        if (g->mems[m].kind == DFG_MEM_SCRATCH)
            return m;
    return -1;
}

static void set_depth(dfg *g, void *arg)
{
    int m = scratch_mem(g);
    assert_true(m >= 0);
    assert_int_equal(g->mems[m].depth, 2);
    g->mems[m].depth = *(int *)arg;
}

static void a_buffer_depth_of_one_serialises_a_metapipeline(void **state)
{
    (void)state;
    int two = 2, one = 1;
    run_out piped = simulate(tile_pipe, NULL, 1, true, set_depth, &two, NULL);
    run_out single = simulate(tile_pipe, NULL, 1, true, set_depth, &one, NULL);
    run_out serial = simulate(tile_pipe, NULL, 1, false, NULL, NULL, NULL);
    assert_int_equal(piped.rc + single.rc + serial.rc, 0);
    assert_int_equal(piped.bad + single.bad + serial.bad, 0);
    /* one copy: the writer waits for the reader every row, as without
     * the meta-pipeline; two copies overlap them */
    assert_true(single.res.cycles > piped.res.cycles + 64);
    assert_true(llabs(single.res.cycles - serial.res.cycles) * 10 < serial.res.cycles);
    emu_result_free(&piped.res);
    emu_result_free(&single.res);
    emu_result_free(&serial.res);
}

static void a_fully_masked_vector_is_not_issued(void **state)
{
    (void)state;
    /* where j <= i: the counter chain knows the guard before issue, so the
     * vectors above the diagonal are skipped (unless dense). */
    const char *src = "input A : f32[64][64]\noutput s : f32[64]\n"
                      "s = map (i: 64) { reduce (j: 64) + where j <= i { A[i][j] } }\n";
    emu_opts dense = {.dense = true};
    run_out sparse = simulate(src, NULL, 1, true, NULL, NULL, NULL);
    run_out full = simulate(src, NULL, 1, true, NULL, NULL, &dense);
    assert_int_equal(sparse.rc + full.rc, 0);
    assert_int_equal(sparse.bad + full.bad, 0);
    /* 64 rows x 4 vectors; row i needs vectors 0 .. i/16 */
    assert_int_equal(full.res.vectors, 64 * 4);
    assert_int_equal(sparse.res.vectors, 16 * (1 + 2 + 3 + 4));
    assert_int_equal(sparse.res.skipped_vectors, 64 * 4 - 16 * (1 + 2 + 3 + 4));
    assert_true(sparse.res.cycles < full.res.cycles);
    assert_int_equal(sparse.res.flops, full.res.flops);
    emu_result_free(&sparse.res);
    emu_result_free(&full.res);
}

/* The block mask of a_block_guard_is_scanned: (kb + n) % 3 == 0 keeps 21
 * of the 8 x 8 blocks. */
static const char *scan_src =
    "input X : f32[4][128]\ninput W : f32[128][8]\nbuffer mask : i32[8][8]\noutput y : f32[4][8]\n"
    "mask = map (a: 8, b: 8) { (a + b) % 3 == 0 }\n"
    "y = map (m: 4, n: 8) { reduce (kb: 8) + where mask[kb][n] != 0 {\n"
    "  reduce (kk: 16) + { X[m][kb * 16 + kk] * W[kb * 16 + kk][n] } } }\n";

static void flip_op(dfg *g, void *arg)
{
    const dfg_opcode *from_to = arg;
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k]->code == from_to[0])
            g->ops[k]->code = from_to[1];
}

static void a_block_guard_is_scanned(void **state)
{
    (void)state;
    /* A guard over blocks whose body is a loop: the mask of every block is
     * computed a lane each, before the loop, and the counter chain visits
     * only the blocks that are kept (unless dense, which runs all 64 per
     * row, masked). */
    emu_opts dense = {.dense = true};
    run_out sparse = simulate(scan_src, NULL, 1, true, NULL, NULL, NULL);
    run_out full = simulate(scan_src, NULL, 1, true, NULL, NULL, &dense);
    assert_int_equal(sparse.rc + full.rc, 0);
    assert_int_equal(sparse.bad + full.bad, 0);
    assert_int_equal(sparse.res.skipped_iterations, 4 * (64 - 21));
    assert_int_equal(full.res.skipped_iterations, 0);
    /* one vector per kept block, one mask vector per (m, n), and the
     * eight rows of the mask's own definition */
    assert_int_equal(sparse.res.vectors, 4 * 21 + 4 * 8 + 8);
    assert_int_equal(full.res.vectors, 4 * 64 + 4 * 8 + 8);
    assert_true(sparse.res.cycles < full.res.cycles);
    assert_int_equal(sparse.res.flops, full.res.flops);
    /* a mask built wrong (each guard's bit tested instead of set) drops
     * kept blocks: verification sees it */
    dfg_opcode wrong[2] = {DFG_SHL, DFG_BIT};
    run_out bad = simulate(scan_src, NULL, 1, true, flip_op, wrong, NULL);
    assert_int_equal(bad.rc, 0);
    assert_true(bad.bad > 0);
    emu_result_free(&sparse.res);
    emu_result_free(&full.res);
    emu_result_free(&bad.res);
}

static void an_index_guard_becomes_a_loop_bound(void **state)
{
    (void)state;
    /* where j <= i on a loop whose body is a loop: the bound narrows the
     * j loop to 0 .. i, so row i runs i + 1 inner loops (--dense: all 32,
     * masked); same FLOPs.  And a data-dependent bound (j < len[r]) on a
     * vector loop issues only the vectors below it. */
    const char *tri = "input A : f32[32][32]\ninput B : f32[32][32][16]\noutput s : f32[32]\n"
                      "s = map (i: 32) { reduce (j: 32) + where j <= i { reduce (k: 16) + { A[i][j] * B[i][j][k] } } }\n";
    emu_opts dense = {.dense = true};
    run_out sparse = simulate(tri, NULL, 1, true, NULL, NULL, NULL);
    run_out full = simulate(tri, NULL, 1, true, NULL, NULL, &dense);
    assert_int_equal(sparse.rc + full.rc, 0);
    assert_int_equal(sparse.bad + full.bad, 0);
    /* one k vector per (i, j) on the fixture's 16 lanes: the rows' upper
     * triangles are the difference */
    assert_int_equal(full.res.vectors - sparse.res.vectors, 32 * 32 - 32 * 33 / 2);
    assert_true(sparse.res.cycles < full.res.cycles);
    assert_int_equal(sparse.res.flops, full.res.flops);
    const char *len = "input A : f32[8][256]\ninput len : i32[8] in 0 .. 256\noutput s : f32[8]\n"
                      "s = map (r: 8) { reduce (j: 256) + where j < len[r] { A[r][j] * 2.0 } }\n";
    run_out lsparse = simulate(len, NULL, 1, true, NULL, NULL, NULL);
    run_out lfull = simulate(len, NULL, 1, true, NULL, NULL, &dense);
    assert_int_equal(lsparse.rc + lfull.rc, 0);
    assert_int_equal(lsparse.bad + lfull.bad, 0);
    assert_true(lsparse.res.vectors < lfull.res.vectors);
    assert_int_equal(lsparse.res.flops, lfull.res.flops);
    emu_result_free(&sparse.res);
    emu_result_free(&full.res);
    emu_result_free(&lsparse.res);
    emu_result_free(&lfull.res);
}

static void a_select_of_the_identity_is_a_guard(void **state)
{
    (void)state;
    /* `c ? e : 0.0` in a + reduction is `where c { e }`: the same vectors
     * as the where form (the triangle's fully masked ones skipped, a data
     * bound's never issued), and the same values; the other side (`0.0 :
     * e`) negates the condition; a select of another value stays one. */
    const char *sel = "input A : f32[32][256]\noutput s : f32[32]\n"
                      "s = map (i: 32) { reduce (j: 256) + { j <= i * 8 ? A[i][j] * 2.0 : 0.0 } }\n";
    const char *whr = "input A : f32[32][256]\noutput s : f32[32]\n"
                      "s = map (i: 32) { reduce (j: 256) + where j <= i * 8 { A[i][j] * 2.0 } }\n";
    const char *neg = "input A : f32[32][256]\noutput s : f32[32]\n"
                      "s = map (i: 32) { reduce (j: 256) + { j > i * 8 ? 0.0 : A[i][j] * 2.0 } }\n";
    const char *other = "input A : f32[32][256]\noutput s : f32[32]\n"
                        "s = map (i: 32) { reduce (j: 256) + { j <= i * 8 ? A[i][j] * 2.0 : 1.0 } }\n";
    const char *len = "input A : f32[8][256]\ninput len : i32[8] in 0 .. 256\noutput s : f32[8]\n"
                      "s = map (r: 8) { reduce (j: 256) + { j < len[r] ? A[r][j] : 0.0 } }\n";
    emu_opts dense = {.dense = true};
    run_out a = simulate(sel, NULL, 1, true, NULL, NULL, NULL);
    run_out b = simulate(whr, NULL, 1, true, NULL, NULL, NULL);
    run_out c = simulate(neg, NULL, 1, true, NULL, NULL, NULL);
    run_out o = simulate(other, NULL, 1, true, NULL, NULL, NULL);
    run_out l = simulate(len, NULL, 1, true, NULL, NULL, NULL);
    run_out ld = simulate(len, NULL, 1, true, NULL, NULL, &dense);
    assert_int_equal(a.rc + b.rc + c.rc + o.rc + l.rc + ld.rc, 0);
    assert_int_equal(a.bad + b.bad + c.bad + o.bad + l.bad + ld.bad, 0);
    assert_int_equal(a.res.vectors, b.res.vectors);
    assert_int_equal(c.res.vectors, b.res.vectors);
    assert_true(a.res.vectors < o.res.vectors);
    assert_int_equal(o.res.vectors, 32 * 256 / 16);
    assert_true(l.res.vectors < ld.res.vectors);
    emu_result_free(&a.res);
    emu_result_free(&b.res);
    emu_result_free(&c.res);
    emu_result_free(&o.res);
    emu_result_free(&l.res);
    emu_result_free(&ld.res);
}

static void a_short_reduction_is_vectorised_along_the_map(void **state)
{
    (void)state;
    /* A 1-D convolution: the reduction over 3 taps fills 3 of 16 lanes;
     * interchanged, every tap is one vector along x.  The same values
     * (exactly: the same additions in the same order for each element). */
    const char *src = "input X : f32[128][66]\ninput K : f32[128][3]\noutput Y : f32[128][64]\n"
                      "Y = map (r: 128, x: 64) { max(reduce (t: 3) + { X[r][x + t] * K[r][t] } * 0.5, 0.0) }\n";
    run_out a = simulate(src, NULL, 1, true, NULL, NULL, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.bad, 0);
    /* per row: 4 vectors of 16 filling the row with 0, 3 taps x 4, and
     * the 4 of the final map (as written: 64 x's of one 3-lane vector) */
    assert_int_equal(a.res.vectors, 128 * (4 + 3 * 4 + 4));
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    assert_int_equal(fx.g.n_interchanged, 1);
    assert_non_null(strstr(fx.g.interchanged[0], "Y: along x (64) inside reduce (t)"));
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
    /* a long reduction stays as written (it fills the lanes already), and
     * so does a short one in a small map (8 rows: 416 issues saved) */
    const char *dot = "input A : f32[8][64]\ninput B : f32[64][16]\noutput C : f32[8][16]\n"
                      "C = map (i: 8, j: 16) { reduce (k: 64) + { A[i][k] * B[k][j] } }\n";
    assert_int_equal(fixture_map(&fx, dot, NULL, true), 4);
    assert_int_equal(fx.g.n_interchanged, 0);
    fixture_free(&fx);
    const char *small = "input X : f32[8][66]\ninput K : f32[8][3]\noutput Y : f32[8][64]\n"
                        "Y = map (r: 8, x: 64) { reduce (t: 3) + { X[r][x + t] * K[r][t] } }\n";
    assert_int_equal(fixture_map(&fx, small, NULL, true), 4);
    assert_int_equal(fx.g.n_interchanged, 0);
    fixture_free(&fx);
    emu_result_free(&a.res);
}

static void reads_of_a_read_only_tensor_do_not_wait_for_each_other(void **state)
{
    (void)state;
    /* x is read three times per vector, each read under the predicate of
     * the conjuncts before it, computed by another PCU: in one PMU context
     * the third read of a vector would wait for the round trip of the
     * second, and the next vector's first read for both.  Nothing writes
     * x, so each read is a context of its own: the same cycles as reading
     * three different tensors (one PMU each), give or take the banks they
     * share. */
    const char *one = "input x : f32[4096]\ninput y : f32[4096]\noutput s : f32\n"
                      "s = reduce (i: 4096) + where x[i] > 0.1 && y[i] > 0.2 && x[i] < 0.9 { x[i] * y[i] }\n";
    const char *three = "input x : f32[4096]\ninput x2 : f32[4096]\ninput x3 : f32[4096]\ninput y : f32[4096]\n"
                        "output s : f32\n"
                        "s = reduce (i: 4096) + where x[i] > 0.1 && y[i] > 0.2 && x2[i] < 0.9 { x3[i] * y[i] }\n";
    int hops = 4;
    run_out a = simulate(one, NULL, 1, true, set_hops, &hops, NULL);
    run_out b = simulate(three, NULL, 1, true, set_hops, &hops, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(a.bad + b.bad, 0);
    /* 256 vectors; serialised, each would cost a round trip of 2 x 4 hops
     * and more: thousands of cycles */
    assert_true(a.res.cycles < b.res.cycles + 256);
    emu_result_free(&a.res);
    emu_result_free(&b.res);
}

static void the_estimate_agrees_on_a_dense_kernel(void **state)
{
    (void)state;
    /* One definition, dense vectors, no contention: the formula and the
     * simulation differ only by the pipeline fill and the DRAM bursts. */
    fixture fx;
    const char *src = "input x : f32[8192]\noutput y : f32[8192]\ny = map (i: 8192) { x[i] * 2.0 + 1.0 }\n";
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    pat_values ref, got;
    assert_int_equal(pat_values_init(&ref, fx.prog), 0);
    assert_int_equal(pat_load_inputs(fx.prog, NULL, false, 7, &ref, &fx.d), 0);
    int64_t est = 0;
    assert_int_equal(emu_estimate(&fx.g, &ref, &est, &fx.d), 0);
    emu_result res;
    assert_int_equal(emu_run(&fx.g, &ref, &got, &res, &fx.d), 0);
    double rel = fabs((double)(res.cycles - est)) / (double)est;
    assert_true(rel < 0.03);
    emu_result_free(&res);
    pat_values_free(&got);
    pat_values_free(&ref);
    fixture_free(&fx);
}

/* ------------------------------------------------------------------ */
/* Every class of mapping fault is caught                              */

typedef struct mut {
    const char *spec;
    int rc;
} mut;

static void mutate(dfg *g, void *arg)
{
    mut *m = arg;
    diag_list d;
    diag_init(&d);
    m->rc = dfg_mutate(g, m->spec, &d);
    if (m->rc)
        diag_print(stderr, &d);
    diag_free(&d);
}

static bool caught(const char *src, int par, const char *spec)
{
    mut m = {spec, -1};
    run_out r = simulate(src, NULL, par, true, mutate, &m, NULL);
    assert_int_equal(m.rc, 0);
    bool c = r.rc != 0 || r.bad > 0;
    emu_result_free(&r.res);
    return c;
}

static const char *gemm = "input A : f32[16][16]\ninput B : f32[16][16]\noutput C : f32[16][16]\n"
                          "C = map (i: 16, j: 16) { reduce (k: 16) + { A[i][k] * B[k][j] } }\n";
static const char *rows = "input X : f32[32][16]\noutput Y : f32[32][16]\n"
                          "Y = map (i: 32) { map (j: 16) { X[i][j] * 2.0 + 1.0 } }\n";

static void every_mutation_class_is_caught(void **state)
{
    (void)state;
    /* the unmutated designs verify */
    run_out ok1 = simulate(gemm, NULL, 1, true, NULL, NULL, NULL);
    run_out ok2 = simulate(rows, NULL, 2, true, NULL, NULL, NULL);
    run_out ok3 = simulate(tile_pipe, NULL, 1, true, NULL, NULL, NULL);
    assert_int_equal(ok1.rc + ok2.rc + ok3.rc, 0);
    assert_int_equal(ok1.bad + ok2.bad + ok3.bad, 0);
    emu_result_free(&ok1.res);
    emu_result_free(&ok2.res);
    emu_result_free(&ok3.res);
    /* an operation, a stream endpoint (PMU A -> PCU re-pointed at PMU B),
     * a partition bound, a dropped replica, an N-buffer rotated early */
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm, NULL, true), 4);
    int stream = -1;
    for (int s = 0; s < fx.g.n_streams && stream < 0; s++)
        if (fx.g.units[fx.g.streams[s].src].kind == DFG_VPMU && fx.g.units[fx.g.streams[s].dst].kind == DFG_VPCU)
            stream = s;
    int mul = dfg_find_op(&fx.g, "C", DFG_MUL);
    fixture_free(&fx);
    char spec[64];
    snprintf(spec, sizeof spec, "op:%d", mul);
    assert_true(caught(gemm, 1, spec));
    snprintf(spec, sizeof spec, "stream:%d", stream);
    assert_true(caught(gemm, 1, spec));
    assert_true(caught(rows, 2, "partition:Y"));
    assert_true(caught(rows, 2, "replica:1"));
    /* the same on a nest replicated over two indices (4 x 2, par.c):
     * partitions of rows of [f][y] as one, chunks of both loops */
    const char *nest = "input X : f32[4][8][16]\noutput Y : f32[4][8][16]\n"
                       "Y = map (f: 4, y: 8, x: 16) { X[f][y][x] * 2.0 + 1.0 }\n";
    run_out ok4 = simulate(nest, NULL, 8, true, NULL, NULL, NULL);
    assert_int_equal(ok4.rc, 0);
    assert_int_equal(ok4.bad, 0);
    emu_result_free(&ok4.res);
    assert_true(caught(nest, 8, "partition:Y"));
    assert_true(caught(nest, 8, "replica:3"));
    char tile[128] = "";
    assert_int_equal(fixture_map(&fx, tile_pipe, NULL, true), 4);
    snprintf(tile, sizeof tile, "buffer:%s", fx.g.mems[scratch_mem(&fx.g)].name);
    fixture_free(&fx);
    assert_true(caught(tile_pipe, 1, tile));
}

static void rewire(dfg *g, void *arg)
{
    (void)arg;
    /* The vector stream of x into the PCU now comes from PMU s, which
     * sends one value per row, not one per vector: the PCU starves. */
    int xs = -1, su = -1, sreg = -1;
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_stream *st = &g->streams[s];
        const dfg_unit *src = &g->units[st->src];
        if (src->kind != DFG_VPMU || g->units[st->dst].kind != DFG_VPCU)
            continue;
        if (st->kind == DFG_STREAM_VECTOR)
            xs = s;
        else {
            su = st->src;
            sreg = st->src_reg;
        }
    }
    assert_true(xs >= 0 && su >= 0);
    g->streams[xs].src = su;
    g->streams[xs].src_reg = sreg;
}

static void a_deadlock_names_who_waits_for_what(void **state)
{
    (void)state;
    const char *src = "input x : f32[4][64]\ninput s : f32[4]\noutput y : f32[4]\n"
                      "y = map (i: 4) { let v = s[i]  reduce (j: 64) + { x[i][j] * v } }\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    rewire(&fx.g, NULL);
    pat_values ref, got;
    assert_int_equal(pat_values_init(&ref, fx.prog), 0);
    assert_int_equal(pat_load_inputs(fx.prog, NULL, false, 7, &ref, &fx.d), 0);
    emu_result res;
    assert_int_equal(emu_run(&fx.g, &ref, &got, &res, &fx.d), -1);
    assert_null(got.t);
    bool dead = false, names = false;
    for (int k = 0; k < fx.d.n; k++) {
        dead |= strstr(fx.d.items[k].msg, "deadlock") != NULL;
        names |= strstr(fx.d.items[k].msg, "VPCU 'y.i.j' waits for an input on stream") != NULL;
    }
    assert_true(dead);
    assert_true(names);
    emu_result_free(&res);
    pat_values_free(&ref);
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hop_latency_adds_the_predicted_cycles),
        cmocka_unit_test(a_slow_consumer_back_pressures_its_producer),
        cmocka_unit_test(halving_dram_bandwidth_nearly_doubles_a_memory_bound_kernel),
        cmocka_unit_test(a_conflicting_pattern_costs_its_extra_bank_cycles),
        cmocka_unit_test(a_dram_resident_tensor_costs_the_bursts_it_touches),
        cmocka_unit_test(the_tile_model_counts_the_simulated_dram_traffic),
        cmocka_unit_test(a_buffer_depth_of_one_serialises_a_metapipeline),
        cmocka_unit_test(a_fully_masked_vector_is_not_issued),
        cmocka_unit_test(a_block_guard_is_scanned),
        cmocka_unit_test(an_index_guard_becomes_a_loop_bound),
        cmocka_unit_test(a_select_of_the_identity_is_a_guard),
        cmocka_unit_test(a_short_reduction_is_vectorised_along_the_map),
        cmocka_unit_test(reads_of_a_read_only_tensor_do_not_wait_for_each_other),
        cmocka_unit_test(the_estimate_agrees_on_a_dense_kernel),
        cmocka_unit_test(every_mutation_class_is_caught),
        cmocka_unit_test(a_deadlock_names_who_waits_for_what),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
