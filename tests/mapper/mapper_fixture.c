/*
 * mapper_fixture.c — see mapper_fixture.h.
 */
#include "tests/mapper/mapper_fixture.h"

#include <math.h>
#include <string.h>

#include "emu/emu.h"

const char *fixture_fabric_text =
    "[fabric]\nname = fixture\nrows = 8\ncols = 8\nclock_mhz = 1000\n"
    "[pcu]\nlanes = 16\nstages = 6\n"
    "[pmu]\nkib = 64\nbanks = 16\n"
    "[network]\nvector_links = 4\nscalar_links = 4\n"
    "[dram]\nagcus = 8\ngbps = 32\n";

bool fixture_no_tiling;
bool fixture_no_fusion;

int fixture_map(fixture *fx, const char *src, const char *fabric_text, bool metapipe)
{
    return fixture_map_par(fx, src, fabric_text, metapipe, 1);
}

int fixture_map_par(fixture *fx, const char *src, const char *fabric_text, bool metapipe, int par)
{
    memset(fx, 0, sizeof *fx);
    arena_init(&fx->a);
    diag_init(&fx->d);
    if (fab_load_string("fixture.cfg", fabric_text ? fabric_text : fixture_fabric_text, &fx->fab, &fx->d) != 0)
        return 0;
    fx->prog = pat_load_string("test.pat", src, &fx->a, &fx->d);
    if (!fx->prog)
        return 0;
    fx->stage = 1;
    dfg_opts o = {.metapipe = metapipe, .lanes = fx->fab.lanes, .par = par, .no_tiling = fixture_no_tiling,
                  .no_fusion = fixture_no_fusion};
    if (dfg_lower(&fx->g, &fx->a, fx->prog, &fx->fab, &o, &fx->d) != 0)
        return fx->stage;
    fx->stage = 2;
    if (dfg_build_units(&fx->g, &fx->d) != 0)
        return fx->stage;
    fx->stage = 3;
    if (dfg_check(&fx->g, &fx->not_fit, &fx->d) != 0)
        return fx->stage;
    fx->stage = 4;
    return fx->stage;
}

void fixture_free(fixture *fx)
{
    diag_free(&fx->d);
    arena_destroy(&fx->a);
}

long fixture_compare(fixture *fx, long long *cycles)
{
    pat_values ref, got;
    if (pat_values_init(&ref, fx->prog) != 0)
        return -1;
    if (pat_load_inputs(fx->prog, NULL, false, 7, &ref, &fx->d) != 0 || pat_interpret(fx->prog, &ref, &fx->d) != 0) {
        pat_values_free(&ref);
        return -1;
    }
    emu_result res;
    if (emu_run(&fx->g, &ref, &got, &res, &fx->d) != 0) {
        emu_result_free(&res);
        pat_values_free(&ref);
        return -1;
    }
    if (cycles)
        *cycles = (long long)res.cycles;
    long bad = 0;
    for (int k = 0; k < fx->prog->n_decls; k++) {
        const pat_decl *dc = fx->prog->decls[k];
        if (dc->kind != PAT_OUTPUT)
            continue;
        const pat_tensor *w = &ref.t[k], *g = &got.t[k];
        for (int64_t i = 0; i < w->count; i++) {
            if (dc->type.elem == PAT_I32) {
                bad += w->data.i[i] != g->data.i[i];
                continue;
            }
            double a = g->data.f[i], b = w->data.f[i];
            if (isnan(a) || isnan(b))
                bad += !(isnan(a) && isnan(b));
            else if (isinf(a) || isinf(b))
                bad += a != b;
            else
                bad += fabs(a - b) > 1e-5 + 1e-4 * fabs(b);
        }
    }
    emu_result_free(&res);
    pat_values_free(&ref);
    pat_values_free(&got);
    return bad;
}
