/*
 * test_mapper.c — the dataflow graph: its structure after lowering, unit
 * formation by stages and ports, the checker's invariants, the fit
 * messages in the fabric's terms, and the mutation test that proves a
 * wrong lowering is caught by verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/mapper/mapper_fixture.h"

static const char *gemm_src =
    "const M = 16\nconst K = 40\nconst N = 8\n"
    "input A : f32[M][K]\ninput B : f32[K][N]\noutput C : f32[M][N]\n"
    "C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }\n";

static bool diag_mentions(const diag_list *d, const char *text)
{
    for (int k = 0; k < d->n; k++)
        if (strstr(d->items[k].msg, text))
            return true;
    return false;
}

static int count_units(const dfg *g, dfg_unit_kind kind)
{
    int n = 0;
    for (int u = 0; u < g->n_units; u++)
        n += g->units[u].kind == kind;
    return n;
}

static void gemm_lowers_to_one_reducing_pipeline(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    const dfg *g = &fx.g;
    assert_int_equal(g->n_loops, 3);
    assert_true(g->loops[2]->innermost);
    assert_false(g->loops[0]->innermost);
    assert_int_equal(g->loops[2]->n_acc, 1);
    assert_int_equal(g->loops[2]->trip, 40);
    assert_int_equal(count_units(g, DFG_VPCU), 1);
    assert_int_equal(count_units(g, DFG_VPMU), 3);
    assert_int_equal(count_units(g, DFG_VAG), 3);
    /* one VPCU: the multiply and the reduction */
    const dfg_unit *pcu = &g->units[g->loops[2]->vpcu];
    assert_int_equal(pcu->n_stages, 2);
    assert_true(pcu->reduces);
    assert_int_equal(pcu->vec_in, 2);   /* A and B rows */
    assert_int_equal(pcu->scal_out, 1); /* the sum, to C */
    /* streams: 2 DRAM loads, 1 store, 2 reads, 1 result */
    assert_int_equal(g->n_streams, 6);
    int vec = 0;
    for (int s = 0; s < g->n_streams; s++)
        vec += g->streams[s].kind == DFG_STREAM_VECTOR;
    assert_int_equal(vec, 5);
    fixture_free(&fx);
}

static void long_pipelines_are_cut_by_stages(void **state)
{
    (void)state;
    /* 13 lane operations in one loop, on PCUs of 4 stages: 4 PCUs. */
    const char *src = "const N = 64\ninput x : f32[N]\noutput y : f32[N]\n"
                      "y = map (i: N) { x[i]*2.0+1.0-x[i]*3.0+exp(x[i])*x[i]-1.5*x[i]+abs(x[i])*x[i]+0.5 }\n";
    const char *fab = "[fabric]\nname=t\nrows=8\ncols=8\nclock_mhz=1000\n[pcu]\nlanes=16\nstages=4\n"
                      "[pmu]\nkib=64\nbanks=16\n[network]\nvector_links=4\nscalar_links=4\n[dram]\nagcus=4\ngbps=10\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, fab, true), 4);
    int lane = 0;
    for (int k = 0; k < fx.g.n_ops; k++)
        lane += dfg_op_is_lane(fx.g.ops[k]->code);
    int pcus = count_units(&fx.g, DFG_VPCU);
    assert_true(pcus >= (lane + 3) / 4);
    for (int u = 0; u < fx.g.n_units; u++)
        if (fx.g.units[u].kind == DFG_VPCU)
            assert_true(fx.g.units[u].n_stages <= 4);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void an_operation_wider_than_the_ports_does_not_fit(void **state)
{
    (void)state;
    /* One vector input port: a product of two different vector loads
     * cannot be placed on any PCU. */
    const char *src = "const N = 32\ninput a : f32[N]\ninput b : f32[N]\noutput y : f32[N]\n"
                      "y = map (i: N) { a[i] * b[i] }\n";
    const char *fab = "[fabric]\nname=t\nrows=8\ncols=8\nclock_mhz=1000\n[pcu]\nlanes=16\nstages=4\nvector_in=1\n"
                      "[pmu]\nkib=64\nbanks=16\n[network]\nvector_links=4\nscalar_links=4\n[dram]\nagcus=4\ngbps=10\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, fab, true), 2);
    assert_true(diag_mentions(&fx.d, "cannot be cut to fit a PCU"));
    assert_true(diag_mentions(&fx.d, "2 vector"));
    fixture_free(&fx);
}

static void counter_chain_bounds_take_scalar_ports(void **state)
{
    (void)state;
    /* A CSR row loop's bounds arrive as two scalar streams; with two scalar
     * ports, a scale read from a scalar input no longer fits.  The
     * partitioner must say so itself (not leave a unit the checker then
     * finds over its ports). */
    const char *src = "input ptr : i32[9] in 0 .. 20 sorted\ninput v : f32[20]\ninput a : f32\noutput y : f32[8]\n"
                      "y = map (r: 8) { let s = a * f32(r); reduce (j: ptr[r] .. ptr[r + 1]) + { v[j] * s } }\n";
    const char *fab = "[fabric]\nname=t\nrows=8\ncols=8\nclock_mhz=1000\n[pcu]\nlanes=16\nstages=4\nscalar_in=2\n"
                      "[pmu]\nkib=64\nbanks=16\n[network]\nvector_links=4\nscalar_links=4\n[dram]\nagcus=8\ngbps=10\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, fab, true), 2);
    assert_true(diag_mentions(&fx.d, "dynamic bounds and guards of its loops"));
    fixture_free(&fx);
    /* with four scalar ports it fits, and every unit is within its ports */
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void a_tensor_larger_than_a_pmu_does_not_fit_without_tiling(void **state)
{
    (void)state;
    /* 128 x 256 f32 = 128 KiB against 64 KiB PMUs */
    const char *src = "input A : f32[128][256]\noutput s : f32\n"
                      "s = reduce (i: 128, j: 256) + { A[i][j] }\n";
    fixture fx;
    fixture_no_tiling = true;
    int stage = fixture_map(&fx, src, NULL, true);
    fixture_no_tiling = false;
    assert_int_equal(stage, 3);
    assert_true(fx.not_fit);
    assert_true(diag_mentions(&fx.d, "tile 'A' (f32[128][256]) of 128 KiB exceeds a 64 KiB PMU"));
    fixture_free(&fx);
}

/* With tiling (the default) the same tensor stays in DRAM: its VAG runs
 * the loads, and the sum is streamed straight from DRAM. */
static void a_tensor_larger_than_a_pmu_stays_in_dram(void **state)
{
    (void)state;
    const char *src = "input A : f32[128][256]\noutput s : f32\n"
                      "s = reduce (i: 128, j: 256) + { A[i][j] }\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    const dfg_mem *a = &fx.g.mems[0];  /* A: the first declaration */
    assert_true(a->dram);
    assert_int_equal(a->vpmu, DFG_NONE);
    int load = dfg_find_op(&fx.g, "s", DFG_LOAD);
    assert_int_equal(fx.g.ops[load]->unit, a->vag);
    assert_int_equal(fx.g.defs[0].n_tile, 0);  /* a reduce is not tiled: nothing is reused */
    long long cycles = 0;
    assert_int_equal(fixture_compare(&fx, &cycles), 0);
    /* 128 KiB at 32 GB/s (32 bytes a cycle): the stream takes 4096 cycles at least */
    assert_true(cycles >= 4096);
    fixture_free(&fx);
}

/* gemm 64^3 on PMUs of 8 KiB: A, B and C (16 KiB each) stay in DRAM; the
 * map is strip-mined over i and j into tiles of 16 that fit a PMU twice,
 * loaded, computed and stored in a meta-pipeline, and verifies. */
static const char *gemm64_src = "const M = 64\nconst K = 64\nconst N = 64\n"
                                "input A : f32[M][K]\ninput B : f32[K][N]\noutput C : f32[M][N]\n"
                                "C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }\n";
static const char *small_pmu_fabric =
    "[fabric]\nname = small\nrows = 8\ncols = 8\nclock_mhz = 1000\n"
    "[pcu]\nlanes = 16\nstages = 6\n"
    "[pmu]\nkib = 8\nbanks = 16\n"
    "[network]\nvector_links = 4\nscalar_links = 4\n"
    "[dram]\nagcus = 8\ngbps = 32\n";

static int mem_named(const dfg *g, const char *name)
{
    for (int m = 0; m < g->n_mems; m++)
        if (!strcmp(g->mems[m].name, name))
            return m;
    return -1;
}

static void gemm_is_tiled_through_dram(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm64_src, small_pmu_fabric, true), 4);
    /* i and j are strip-mined and the reduction over k is split across
     * tiles: every tile fits a PMU twice, the partial sums three times; the
     * sizes are the model's choice (docs/mapping.md) */
    const dfg_def *d = &fx.g.defs[0];
    assert_int_equal(d->n_tile, 3);
    assert_string_equal(d->tile[0].var, "i");
    assert_string_equal(d->tile[1].var, "j");
    assert_string_equal(d->tile[2].var, "k");
    int ti = d->tile[0].size, tj = d->tile[1].size, tk = d->tile[2].size;
    assert_int_equal(ti, 32);
    assert_int_equal(tj, 16);
    assert_int_equal(tk, 32);
    assert_true(d->tile_est_cycles > 0 && d->tile_est_traffic > 0);
    int at = mem_named(&fx.g, "A.tile"), bt = mem_named(&fx.g, "B.tile"), ct = mem_named(&fx.g, "C.tile");
    int acc = mem_named(&fx.g, "C.acc");
    assert_true(at >= 0 && bt >= 0 && ct >= 0 && acc >= 0);
    /* A's tile follows i and k, B's k and j, C's and the partial sums i and j */
    assert_int_equal(fx.g.mems[at].type.dims[0], ti);
    assert_int_equal(fx.g.mems[at].type.dims[1], tk);
    assert_int_equal(fx.g.mems[bt].type.dims[0], tk);
    assert_int_equal(fx.g.mems[bt].type.dims[1], tj);
    assert_int_equal(fx.g.mems[ct].type.dims[0] * fx.g.mems[ct].type.dims[1], ti * tj);
    assert_int_equal(fx.g.mems[acc].type.dims[0] * fx.g.mems[acc].type.dims[1], ti * tj);
    /* double-buffered: loaded one stage before it is read; the partial
     * sums are filled, accumulated and read in three stages */
    assert_int_equal(fx.g.mems[at].depth, 2);
    assert_int_equal(fx.g.mems[bt].depth, 2);
    assert_int_equal(fx.g.mems[ct].depth, 2);
    assert_int_equal(fx.g.mems[acc].depth, 3);
    int64_t pmu = 8 * 1024;
    for (int m = 0; m < fx.g.n_mems; m++)
        if (fx.g.mems[m].vpmu != DFG_NONE)
            assert_true(fx.g.mems[m].bytes * fx.g.mems[m].depth <= pmu);
    assert_true(fx.g.mems[mem_named(&fx.g, "A")].dram);
    assert_true(fx.g.mems[mem_named(&fx.g, "B")].dram);
    assert_true(fx.g.mems[mem_named(&fx.g, "C")].dram);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

/* Without the need to split (a reduction short enough for whole rows),
 * the reduction reads whole rows of its tiles: gemm 64^3 on 64 KiB PMUs
 * keeps K whole. */
static void a_short_reduction_is_not_split(void **state)
{
    (void)state;
    fixture fx;
    const char *src = "const M = 256\nconst K = 64\nconst N = 256\n"
                      "input A : f32[M][K]\ninput B : f32[K][N]\noutput C : f32[M][N]\n"
                      "C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }\n";
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    const dfg_def *d = &fx.g.defs[0];
    assert_true(d->n_tile >= 1);
    for (int t = 0; t < d->n_tile; t++)
        assert_string_not_equal(d->tile[t].var, "k");
    assert_int_equal(mem_named(&fx.g, "C.acc"), -1);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

/* A wrong tiling is a wrong output: the tile of B rotated one iteration
 * early (its loader overwrites the copy being read) and a corrupted
 * multiply are both caught. */
static void a_wrong_tiled_mapping_fails_verification(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm64_src, small_pmu_fabric, true), 4);
    assert_int_equal(dfg_mutate(&fx.g, "buffer:B.tile", &fx.d), 0);
    assert_true(fixture_compare(&fx, NULL) > 0);
    fixture_free(&fx);
    assert_int_equal(fixture_map(&fx, gemm64_src, small_pmu_fabric, true), 4);
    int mul = dfg_find_op(&fx.g, "C", DFG_MUL);
    /* the first multiply is a tile base (i.tile * 16); corrupt the product */
    for (int k = 0; k < fx.g.n_ops; k++)
        if (fx.g.ops[k]->code == DFG_MUL && fx.g.ops[k]->type == PAT_F32)
            mul = k;
    assert_int_equal(dfg_mutate_op(&fx.g, mul, &fx.d), 0);
    assert_true(fixture_compare(&fx, NULL) > 0);
    fixture_free(&fx);
}

/* The memory of declaration `name`. */
static const dfg_mem *decl_mem(const fixture *fx, const char *name)
{
    for (int m = 0; m < fx->g.n_mems; m++)
        if (fx->g.mems[m].decl && !strcmp(fx->g.mems[m].decl->name, name))
            return &fx->g.mems[m];
    return NULL;
}

/* The fusion record of buffer `name`. */
static const dfg_fusion *fusion_of(const fixture *fx, const char *name)
{
    for (int k = 0; k < fx->g.n_fusion; k++)
        if (!strcmp(fx->g.fusion[k].buffer->name, name))
            return &fx->g.fusion[k];
    return NULL;
}

static void an_element_wise_chain_fuses_into_registers(void **state)
{
    (void)state;
    const char *src = "const N = 64\ninput x : f32[N]\nbuffer a : f32[N]\nbuffer b : i32[N]\noutput y : f32[N]\n"
                      "a = map (i: N) { exp(x[i]) }\nb = map (i: N) { i32(a[i] * 4.0) }\n"
                      "y = map (i: N) { f32(b[i]) + a[i] * 0.5 }\n";
    fixture fx;
    /* a is read by y as well as b: it stays; b fuses into y */
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    assert_int_equal(fx.g.n_defs, 2);
    const dfg_fusion *fa = fusion_of(&fx, "a"), *fb = fusion_of(&fx, "b");
    assert_non_null(fa);
    assert_null(fa->into);
    assert_non_null(strstr(fa->why, "'y' reads it as well as 'b'"));
    assert_non_null(fb);
    assert_string_equal(fb->into->name, "y");
    assert_int_equal(fb->depth, 1);
    assert_int_equal(fb->part.rank, 0);
    assert_int_equal(decl_mem(&fx, "b")->vpmu, DFG_NONE);
    assert_true(decl_mem(&fx, "a")->vpmu != DFG_NONE);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    int pmus = fx.g.n_pmus;
    fixture_free(&fx);
    fixture_no_fusion = true;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    fixture_no_fusion = false;
    assert_int_equal(fx.g.n_defs, 3);
    assert_int_equal(fx.g.n_fusion, 0);
    assert_true(decl_mem(&fx, "b")->vpmu != DFG_NONE);
    assert_int_equal(fx.g.n_pmus, pmus + 1);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void a_row_fusion_double_buffers_its_tile(void **state)
{
    (void)state;
    const char *src = "input X : f32[16][32]\ninput W1 : f32[32][32]\ninput W2 : f32[32][16]\n"
                      "buffer H : f32[16][32]\noutput Y : f32[16][16]\n"
                      "H = map (b: 16, h: 32) { max(reduce (i: 32) + { X[b][i] * W1[i][h] }, 0.0) }\n"
                      "Y = map (b: 16, o: 16) { reduce (h: 32) + { H[b][h] * W2[h][o] } }\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    const dfg_fusion *fh = fusion_of(&fx, "H");
    assert_non_null(fh);
    assert_string_equal(fh->into->name, "Y");
    assert_int_equal(fh->depth, 1);
    assert_string_equal(fh->shared[0], "b");
    assert_int_equal(fh->part.rank, 1);
    assert_int_equal(fh->part.dims[0], 32);
    assert_int_equal(decl_mem(&fx, "H")->vpmu, DFG_NONE);
    /* H's row lives in a scratch tile that the meta-pipeline over b
     * double-buffers: written in one stage, read in the next */
    const dfg_mem *tile = NULL;
    for (int m = 0; m < fx.g.n_mems; m++)
        if (fx.g.mems[m].kind == DFG_MEM_SCRATCH && !strncmp(fx.g.mems[m].name, "Y.H@", 4))
            tile = &fx.g.mems[m];
    assert_non_null(tile);
    assert_int_equal(tile->type.rank, 1);
    assert_int_equal(tile->depth, 2);
    long long fused = 0, unfused = 0;
    assert_int_equal(fixture_compare(&fx, &fused), 0);
    /* rotated early, the tile is overwritten before it is read: caught */
    char spec[128];
    snprintf(spec, sizeof spec, "buffer:%s", tile->name);
    assert_int_equal(dfg_mutate(&fx.g, spec, &fx.d), 0);
    assert_true(fixture_compare(&fx, NULL) > 0);
    fixture_free(&fx);
    fixture_no_fusion = true;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    fixture_no_fusion = false;
    assert_true(decl_mem(&fx, "H")->vpmu != DFG_NONE);
    assert_int_equal(fixture_compare(&fx, &unfused), 0);
    /* producer and consumer overlap row by row */
    assert_true(fused < unfused);
    fixture_free(&fx);
}

static void a_reduction_is_split_across_replicas(void **state)
{
    (void)state;
    const char *src = "input x : f32[1024]\ninput k : i32[1024] in 0 .. 4\noutput s : f32\noutput h : f32[4]\n"
                      "s = reduce (i: 65536) + where k[i % 1024] != 0 { x[i % 1024] * 2.0 } / 3.0\n"
                      "h = groupby (i: 1024) + key k[i] into 4 { x[i] }\n";
    fixture fx;
    long long one = 0, four = 0;
    assert_int_equal(fixture_map_par(&fx, src, NULL, true, 1), 4);
    assert_int_equal(fx.g.split.n_split, 0);
    assert_int_equal(fixture_compare(&fx, &one), 0);
    fixture_free(&fx);
    assert_int_equal(fixture_map_par(&fx, src, NULL, true, 4), 4);
    /* s's reduction: four partials, each replica a chunk of 16384 */
    assert_int_equal(fx.g.split.n_split, 1);
    assert_string_equal(fx.g.split.what[0], "reduction over i");
    assert_non_null(fx.g.defs[0].par_loop);
    assert_string_equal(fx.g.defs[0].par_loop->label, "split");
    assert_int_equal(fx.g.defs[0].par_loop->par, 4);
    assert_int_equal(fx.g.defs[0].par_loop->chunk[2], 1);
    /* the partials: one PMU that every replica writes its row of and the
     * combination reads (not a private copy per replica) */
    const dfg_mem *part = NULL;
    for (int m = 0; m < fx.g.n_mems; m++)
        if (!strncmp(fx.g.mems[m].name, "s.part@", 7))
            part = &fx.g.mems[m];
    assert_non_null(part);
    assert_int_equal(part->type.dims[0], 4);
    assert_int_equal(part->copies, 1);
    /* the group-by is not split, and says why */
    assert_null(fx.g.defs[1].par_loop);
    assert_non_null(strstr(fx.g.split.why[1], "group-by"));
    assert_int_equal(fixture_compare(&fx, &four), 0);
    assert_true(four * 2 < one);  /* 4636 -> 1576 cycles */
    /* a dropped replica leaves its chunk out of the sum: caught */
    assert_int_equal(dfg_mutate(&fx.g, "replica:2", &fx.d), 0);
    assert_true(fixture_compare(&fx, NULL) > 0);
    fixture_free(&fx);
}

static void more_pipelines_than_pcus_does_not_fit(void **state)
{
    (void)state;
    /* 2 x 2 units: 2 PCUs; five definitions need five VPCUs. */
    const char *src = "const N = 8\ninput x : f32[N]\nbuffer a : f32[N]\nbuffer b : f32[N]\nbuffer c : f32[N]\n"
                      "buffer e : f32[N]\noutput y : f32[N]\n"
                      "a = map (i: N) { x[i] * 2.0 }\nb = map (i: N) { a[i] * 2.0 }\n"
                      "c = map (i: N) { b[i] * 2.0 }\ne = map (i: N) { c[i] * 2.0 }\n"
                      "y = map (i: N) { e[i] * 2.0 }\n";
    const char *fab = "[fabric]\nname=t\nrows=2\ncols=2\nclock_mhz=1000\n[pcu]\nlanes=4\nstages=4\n"
                      "[pmu]\nkib=64\nbanks=4\n[network]\nvector_links=4\nscalar_links=4\n[dram]\nagcus=4\ngbps=10\n";
    fixture fx;
    fixture_no_fusion = true;
    assert_int_equal(fixture_map(&fx, src, fab, true), 3);
    fixture_no_fusion = false;
    assert_true(fx.not_fit);
    assert_true(diag_mentions(&fx.d, "needs 5 PCUs, the fabric has 2"));
    assert_true(diag_mentions(&fx.d, "needs 6 PMUs, the fabric has 2"));
    fixture_free(&fx);
    /* Fused, the chain is one pipeline between x and y (its five
     * multiplies cut over two 4-stage PCUs): it fits. */
    assert_int_equal(fixture_map(&fx, src, fab, true), 4);
    assert_int_equal(fx.g.n_defs, 1);
    assert_int_equal(fx.g.n_pcus, 2);
    assert_int_equal(fx.g.n_pmus, 2);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void checker_finds_a_type_error(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    int mul = dfg_find_op(&fx.g, "C", DFG_MUL);
    assert_true(mul >= 0);
    fx.g.regs[fx.g.ops[mul]->a].type = PAT_I32;
    bool not_fit;
    assert_int_equal(dfg_check(&fx.g, &not_fit, &fx.d), -1);
    assert_false(not_fit);
    assert_true(diag_mentions(&fx.d, "expected f32"));
    fixture_free(&fx);
}

static void checker_finds_a_use_outside_its_loop(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    /* Store C[i][j] reads the sum; make it read the product from inside
     * the k loop instead: a value used outside the loop that defines it. */
    int mul = dfg_find_op(&fx.g, "C", DFG_MUL);
    int store = dfg_find_op(&fx.g, "C", DFG_STORE);
    fx.g.ops[store]->a = fx.g.ops[mul]->dst;
    bool not_fit;
    assert_int_equal(dfg_check(&fx.g, &not_fit, &fx.d), -1);
    assert_true(diag_mentions(&fx.d, "outside the loop that defines it"));
    fixture_free(&fx);
}

static void checker_finds_a_use_before_definition(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    int mul = dfg_find_op(&fx.g, "C", DFG_MUL);
    fx.g.ops[mul]->a = fx.g.ops[mul]->dst;
    bool not_fit;
    assert_int_equal(dfg_check(&fx.g, &not_fit, &fx.d), -1);
    assert_true(diag_mentions(&fx.d, "before it is defined"));
    fixture_free(&fx);
}

/* The mutation test: the emulator executes the graph, so corrupting one
 * lane operation of a correct lowering must fail verification. */
static void a_corrupted_lane_op_fails_verification(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    int mul = dfg_find_op(&fx.g, "C", DFG_MUL);
    assert_int_equal(dfg_mutate_op(&fx.g, mul, &fx.d), 0);
    assert_int_equal(fx.g.ops[mul]->code, DFG_ADD);
    assert_int_equal(fixture_compare(&fx, NULL), 16 * 8);
    fixture_free(&fx);
}

static void a_corrupted_address_fails_verification(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    /* Read B[k][i mod 8] instead of B[k][j]: swap an index register. */
    int load_b = -1;
    for (int k = 0; k < fx.g.n_ops; k++)
        if (fx.g.ops[k]->code == DFG_LOAD && !strcmp(fx.g.mems[fx.g.ops[k]->mem].name, "B"))
            load_b = k;
    assert_true(load_b >= 0);
    int load_a = dfg_find_op(&fx.g, "C", DFG_LOAD);
    fx.g.ops[load_b]->idx[1] = fx.g.ops[load_a]->idx[0] == fx.g.ops[load_b]->idx[1] ? fx.g.ops[load_b]->idx[1]
                                                                                    : fx.g.ops[load_a]->idx[0];
    long bad = fixture_compare(&fx, NULL);
    /* i runs to 16 but B has 8 columns: the emulator reports the fault */
    assert_true(bad > 0 || (bad == -1 && diag_mentions(&fx.d, "out of bounds")));
    fixture_free(&fx);
}

static void mutating_a_missing_op_is_an_error(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    assert_int_equal(dfg_mutate_op(&fx.g, 100000, &fx.d), -1);
    assert_true(diag_mentions(&fx.d, "there is no operation"));
    fixture_free(&fx);
}

static void guards_independent_of_the_loop_are_hoisted(void **state)
{
    (void)state;
    /* keep[i] does not depend on k: it predicates the k loop (skipped
     * rows); A[i][k] > 0 does: it masks lanes through the accumulator. */
    const char *src = "input A : f32[8][64]\ninput keep : i32[8] in 0 .. 2\noutput s : f32[8]\noutput t : f32[8]\n"
                      "s = map (i: 8) { reduce (k: 64) + where keep[i] == 1 { A[i][k] } }\n"
                      "t = map (i: 8) { reduce (k: 64) + where A[i][k] > 0.0 { A[i][k] } }\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    const dfg_loop *ks = fx.g.loops[1], *kt = fx.g.loops[3];
    assert_true(ks->innermost && kt->innermost);
    assert_int_not_equal(ks->pred, DFG_NONE);
    assert_int_equal(ks->acc[0].pred, DFG_NONE);
    assert_int_equal(kt->pred, DFG_NONE);
    assert_int_not_equal(kt->acc[0].pred, DFG_NONE);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void par_replicates_pipelines_and_splits_tensors(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map_par(&fx, gemm_src, NULL, true, 4), 4);
    const dfg *g = &fx.g;
    assert_int_equal(g->n_par_loops, 1);
    assert_int_equal(g->loops[0]->par, 4);
    assert_int_equal(count_units(g, DFG_VPCU), 4);
    /* A and C are indexed by row i: partitioned; B is read whole: copied */
    const dfg_mem *A = &g->mems[pat_find_decl(fx.prog, "A")->id];
    const dfg_mem *B = &g->mems[pat_find_decl(fx.prog, "B")->id];
    const dfg_mem *C = &g->mems[pat_find_decl(fx.prog, "C")->id];
    assert_int_equal(A->copies, 4);
    assert_true(A->partitioned);
    assert_int_equal(A->copy_bytes, 4 * 40 * 4);
    assert_int_equal(B->copies, 4);
    assert_false(B->partitioned);
    assert_int_equal(B->copy_bytes, B->bytes);
    assert_true(C->partitioned);
    assert_int_equal(count_units(g, DFG_VPMU), 12);
    /* two loads, and one store per partition of C */
    assert_int_equal(count_units(g, DFG_VAG), 2 + 4);
    long long serial = 0, parallel = 0;
    assert_int_equal(fixture_compare(&fx, &parallel), 0);
    fixture_free(&fx);
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    assert_int_equal(fixture_compare(&fx, &serial), 0);
    fixture_free(&fx);
    assert_true(parallel < serial);
}

static void placement_weighs_what_each_stream_carries(void **state)
{
    (void)state;
    /* gemm 16 x 40 x 8 in 4 replicas on 16 lanes: a replica's PCU reads
     * a vector of A's row (40 = 3 vectors) for each of its 4 rows and 8
     * columns: 96 entries; the fill of A's partition of 4 rows is 10
     * vectors, of B's whole copy 20; each replica writes 4 x 8 scalars to
     * C.  Each weight adds an eighth of the busiest (96 / 8 = 12). */
    fixture fx;
    assert_int_equal(fixture_map_par(&fx, gemm_src, NULL, true, 4), 4);
    const dfg *g = &fx.g;
    double *w = calloc((size_t)g->n_streams, sizeof *w);
    assert_non_null(w);
    dfg_stream_weights(g, w);
    int A = pat_find_decl(fx.prog, "A")->id, B = pat_find_decl(fx.prog, "B")->id, C = pat_find_decl(fx.prog, "C")->id;
    int seen = 0;
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_unit *src = &g->units[g->streams[s].src], *dst = &g->units[g->streams[s].dst];
        if (src->kind == DFG_VPMU && src->mem == A && dst->kind == DFG_VPCU) {
            assert_true(w[s] == 96 + 12);
            seen |= 1;
        } else if (src->kind == DFG_VAG && dst->kind == DFG_VPMU && dst->mem == A) {
            assert_true(w[s] == 10 + 12);
            seen |= 2;
        } else if (src->kind == DFG_VAG && dst->kind == DFG_VPMU && dst->mem == B) {
            assert_true(w[s] == 20 + 12);
            seen |= 4;
        } else if (src->kind == DFG_VPCU && dst->kind == DFG_VPMU && dst->mem == C) {
            assert_true(w[s] == 32 + 12);
            seen |= 8;
        }
    }
    assert_int_equal(seen, 15);
    free(w);
    fixture_free(&fx);
}

static void an_address_two_memories_share_is_computed_in_each(void **state)
{
    (void)state;
    /* i + 1 indexes both a and b: each PMU's address pipeline computes it
     * (two adds, one in each), and no stream carries it from a PCU */
    const char *src = "input a : f32[40]\ninput b : f32[40]\noutput y : f32[32]\n"
                      "y = map (i: 32) { let j = i + 1  a[j] * b[j] }\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    const dfg *g = &fx.g;
    int adds = 0;
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k]->code == DFG_ADD) {
            adds++;
            assert_int_equal(g->units[g->ops[k]->unit].kind, DFG_VPMU);
            assert_int_equal(g->ops[k]->id, k);
        }
    assert_int_equal(adds, 2);
    int a = pat_find_decl(fx.prog, "a")->id, b = pat_find_decl(fx.prog, "b")->id;
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_unit *dst = &g->units[g->streams[s].dst];
        assert_false(g->units[g->streams[s].src].kind == DFG_VPCU && (dst->mem == a || dst->mem == b));
    }
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void a_short_outer_loop_is_replicated_with_the_loop_inside_it(void **state)
{
    (void)state;
    /* f has 4 iterations, fewer than 8 replicas: f and y are replicated
     * together, each replica one f and half of y (4 rows); X and Y,
     * indexed at [f][y], are split by the rows of their first two
     * dimensions as one (32 rows of 16), 4 rows a PMU; w, indexed at [f]
     * only, is copied */
    const char *src = "input X : f32[4][8][16]\ninput w : f32[4]\noutput Y : f32[4][8][16]\n"
                      "Y = map (f: 4, y: 8, x: 16) { X[f][y][x] * w[f] + 1.0 }\n";
    fixture fx;
    assert_int_equal(fixture_map_par(&fx, src, NULL, true, 8), 4);
    const dfg *g = &fx.g;
    assert_int_equal(g->n_par_loops, 1);
    const dfg_loop *lf = g->defs[0].par_loop, *ly = g->defs[0].par_inner;
    assert_non_null(lf);
    assert_non_null(ly);
    assert_int_equal(lf->par, 8);
    assert_int_equal(ly->par, 2);
    /* replica 5: f = 2, y in [4, 8) */
    assert_int_equal(lf->chunk[10], 2);
    assert_int_equal(lf->chunk[11], 3);
    assert_int_equal(ly->chunk[10], 4);
    assert_int_equal(ly->chunk[11], 8);
    const dfg_mem *X = &g->mems[pat_find_decl(fx.prog, "X")->id];
    const dfg_mem *Y = &g->mems[pat_find_decl(fx.prog, "Y")->id];
    const dfg_mem *w = &g->mems[pat_find_decl(fx.prog, "w")->id];
    assert_true(Y->partitioned && X->partitioned);
    assert_int_equal(Y->part_dims, 2);
    assert_int_equal(dfg_part_type(Y)->dims[0], 32);
    assert_int_equal(Y->part_row[5], 20);
    assert_int_equal(Y->copy_bytes, 4 * 16 * 4);
    assert_false(w->partitioned);
    assert_int_equal(w->copies, 8);
    assert_int_equal(count_units(g, DFG_VPCU), 8);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void par_leaves_dependent_loops_alone(void **state)
{
    (void)state;
    /* A reduction and a scatter carry values across iterations: not split
     * (a reduction of fewer than 2 iterations a replica is not split by
     * rsplit.c either).
     * The group-by's identity fill is a map whose work is all in the PMU
     * (no pipeline to replicate): not split either, nor counted. */
    const char *src = "input x : f32[64]\ninput k : i32[64] in 0 .. 8\noutput s : f32\noutput h : f32[8]\n"
                      "s = reduce (i: 6) + { x[i] }\nh = groupby (i: 64) + key k[i] into 8 { x[i] }\n";
    fixture fx;
    assert_int_equal(fixture_map_par(&fx, src, NULL, true, 4), 4);
    for (int l = 0; l < fx.g.n_loops; l++) {
        const dfg_loop *lp = fx.g.loops[l];
        bool scatters = false;
        for (int q = 0; q < lp->body.n; q++)
            scatters |= !lp->body.s[q].is_loop && lp->body.s[q].op->code == DFG_RMW;
        if (lp->n_acc || scatters)
            assert_int_equal(lp->par, 1);
        assert_int_equal(lp->par, 1);
    }
    assert_int_equal(fx.g.n_par_loops, 0);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void unrolled_copies_share_one_load(void **state)
{
    (void)state;
    /* Found by the differential tests: the 8 unrolled copies of the inner
     * map read c[0] eight times, opening 8 vector streams from one PMU
     * (unroutable on 2 tracks).  One load serves them all. */
    const char *src = "input c : i32[6] in 0 .. 3\noutput Y : i32[8][8]\nY = map (r: 8) { map (q: 8) { c[0] } }\n";
    fixture fx;
    assert_int_equal(fixture_map(&fx, src, NULL, true), 4);
    int loads = 0;
    for (int k = 0; k < fx.g.n_ops; k++)
        loads += fx.g.ops[k]->code == DFG_LOAD;
    assert_int_equal(loads, 1);
    const dfg_mem *c = &fx.g.mems[pat_find_decl(fx.prog, "c")->id];
    assert_int_equal(fx.g.units[c->vpmu].vec_out, 1);
    assert_int_equal(fixture_compare(&fx, NULL), 0);
    fixture_free(&fx);
}

static void dumps_name_every_unit(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_map(&fx, gemm_src, NULL, true), 4);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    dfg_dump_dot(f, &fx.g);
    fclose(f);
    assert_non_null(strstr(buf, "digraph dfg"));
    for (int u = 0; u < fx.g.n_units; u++)
        assert_non_null(strstr(buf, fx.g.units[u].name));
    free(buf);
    f = open_memstream(&buf, &len);
    dfg_dump_text(f, &fx.g);
    fclose(f);
    assert_non_null(strstr(buf, "loop L2 k"));
    assert_non_null(strstr(buf, "+-reduce"));
    free(buf);
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gemm_lowers_to_one_reducing_pipeline),
        cmocka_unit_test(a_tensor_larger_than_a_pmu_stays_in_dram),
        cmocka_unit_test(gemm_is_tiled_through_dram),
        cmocka_unit_test(a_short_reduction_is_not_split),
        cmocka_unit_test(a_wrong_tiled_mapping_fails_verification),
        cmocka_unit_test(long_pipelines_are_cut_by_stages),
        cmocka_unit_test(an_operation_wider_than_the_ports_does_not_fit),
        cmocka_unit_test(counter_chain_bounds_take_scalar_ports),
        cmocka_unit_test(a_tensor_larger_than_a_pmu_does_not_fit_without_tiling),
        cmocka_unit_test(more_pipelines_than_pcus_does_not_fit),
        cmocka_unit_test(an_element_wise_chain_fuses_into_registers),
        cmocka_unit_test(a_row_fusion_double_buffers_its_tile),
        cmocka_unit_test(a_reduction_is_split_across_replicas),
        cmocka_unit_test(checker_finds_a_type_error),
        cmocka_unit_test(checker_finds_a_use_outside_its_loop),
        cmocka_unit_test(checker_finds_a_use_before_definition),
        cmocka_unit_test(a_corrupted_lane_op_fails_verification),
        cmocka_unit_test(a_corrupted_address_fails_verification),
        cmocka_unit_test(mutating_a_missing_op_is_an_error),
        cmocka_unit_test(guards_independent_of_the_loop_are_hoisted),
        cmocka_unit_test(par_replicates_pipelines_and_splits_tensors),
        cmocka_unit_test(placement_weighs_what_each_stream_carries),
        cmocka_unit_test(an_address_two_memories_share_is_computed_in_each),
        cmocka_unit_test(a_short_outer_loop_is_replicated_with_the_loop_inside_it),
        cmocka_unit_test(par_leaves_dependent_loops_alone),
        cmocka_unit_test(unrolled_copies_share_one_load),
        cmocka_unit_test(dumps_name_every_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
