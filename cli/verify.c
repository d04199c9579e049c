/*
 * verify.c — the expected outputs and the comparison with them: the
 * tolerance of the contract with the reordering bound R of every element
 * (../shared/spec/pat-language.md §6, docs/reference.md), --reference DIR,
 * --save-inputs DIR, and the JSON written for a refused program.
 *
 * An f32 element passes when |got - want| <= 1e-5 + 1e-4 |want| + R.
 * Around that rule:
 *  - NaN matches only NaN;
 *  - R = +inf ("unbounded": a guard, a select, an index or an i32 that
 *    depends on a reordered sum, or a sum that may overflow in some order)
 *    accepts any value; such elements are counted and reported;
 *  - inf against a finite reference passes when the reference plus its
 *    bound reaches FLT_MAX with the same sign: some order overflows.  The
 *    report counts these and names them as overflow.
 * The worst |got - want| / (1e-5 + 1e-4 |want| + R) of each output is
 * reported: below 1 passes, and how close to 1 says how much margin there was.
 */
#include "cli/cli.h"
#include "util/alloc.h"

#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patterns/pat_data.h"

int cli_verify(cli_job *job, const pat_values *want, const pat_values *got)
{
    const pat_program *p = job->prog;
    const pat_bounds *rb = job->bounds && job->bounds->n == p->n_decls ? job->bounds : NULL;
    job->verdict = xcalloc((size_t)p->n_decls + 1, sizeof *job->verdict);
    if (!job->verdict)
        return -1;
    job->n_verdicts = 0;
    job->verified = true;
    for (int k = 0; k < p->n_decls; k++) {
        const pat_decl *dc = p->decls[k];
        if (dc->kind != PAT_OUTPUT)
            continue;
        cli_verdict *v = &job->verdict[job->n_verdicts++];
        v->name = dc->name;
        v->elem_i32 = dc->type.elem == PAT_I32;
        v->first_bad = -1;
        const pat_tensor *w = &want->t[k], *g = &got->t[k];
        if (!g->data.p || g->count != w->count) {
            v->passed = false;
            v->mismatches = w->count;
            job->verified = false;
            continue;
        }
        const double *r = rb ? rb->r[k] : NULL;
        for (int64_t i = 0; i < w->count; i++) {
            double a, b, bound = r ? r[i] : 0.0;
            bool ok;
            if (bound > v->max_bound && !isinf(bound) && bound != PAT_BOUND_OVERFLOW)
                v->max_bound = bound;
            if (dc->type.elem == PAT_I32) {
                /* exact, whatever the bound: an i32 that depends on a
                 * reordered sum is counted, so a mismatch can be explained */
                a = g->data.i[i];
                b = w->data.i[i];
                ok = g->data.i[i] == w->data.i[i];
                if (bound > 0)
                    v->unbounded++;
            } else {
                a = g->data.f[i];
                b = w->data.f[i];
                if (isnan(a) && isnan(b))
                    ok = true;
                else if (bound == PAT_BOUND_OVERFLOW) {
                    /* a sum that overflows in some orders: inf or not */
                    ok = true;
                    v->overflows++;
                } else if (isinf(bound)) {
                    ok = true;
                    v->unbounded++;
                } else if (isnan(a) || isnan(b))
                    ok = false;
                else if (isinf(a) || isinf(b)) {
                    ok = a == b;
                    /* a finite reference whose bound reaches the largest
                     * float: the mapped order overflowed */
                    if (!ok && isinf(a) && !isinf(b) && (a > 0) == (b > 0) &&
                        fabs(b) + 1e-5 + 1e-4 * fabs(b) + bound >= FLT_MAX) {
                        ok = true;
                        v->overflows++;
                    }
                } else {
                    double tol = 1e-5 + 1e-4 * fabs(b) + bound;
                    ok = fabs(a - b) <= tol;
                    if (fabs(a - b) / tol > v->worst_ratio)
                        v->worst_ratio = fabs(a - b) / tol;
                }
            }
            if (!isnan(a) && !isnan(b) && !isinf(a) && !isinf(b)) {
                double err = fabs(a - b);
                if (err > v->max_abs_err)
                    v->max_abs_err = err;
                if (b != 0 && err / fabs(b) > v->max_rel_err)
                    v->max_rel_err = err / fabs(b);
            }
            if (!ok) {
                if (v->first_bad < 0) {
                    v->first_bad = i;
                    v->bad_got = a;
                    v->bad_want = b;
                    v->bad_bound = bound;
                }
                v->mismatches++;
            }
        }
        v->passed = v->mismatches == 0;
        if (!v->passed)
            job->verified = false;
    }
    return 0;
}

void cli_verify_text(FILE *out, const cli_verdict *v)
{
    fprintf(out, "verify       %-10s max abs err %.3g, max rel err %.3g, worst err/bound %.3g", v->name,
            v->max_abs_err, v->max_rel_err, v->worst_ratio);
    if (v->max_bound > 0)
        fprintf(out, " (R up to %.3g)", v->max_bound);
    fprintf(out, ": %s", v->passed ? "pass" : "FAIL");
    if (!v->passed) {
        fprintf(out, " (%lld elements differ, first at flat index %lld: got %.9g, want %.9g, R %.3g",
                (long long)v->mismatches, (long long)v->first_bad, v->bad_got, v->bad_want, v->bad_bound);
        if (isinf(v->bad_want) && !isinf(v->bad_got) && !isnan(v->bad_got))
            fprintf(out, "; the reference overflowed to inf, the mapped order stayed finite "
                         "though no order should");
        else if (isinf(v->bad_got) && !isinf(v->bad_want) && !isnan(v->bad_want))
            fprintf(out, "; the mapped order overflowed to inf, but no order of the reference's sums reaches "
                         "FLT_MAX");
        fputc(')', out);
    }
    fputc('\n', out);
    if (v->overflows)
        fprintf(out, "             %lld element%s of %s can overflow to inf in one order of a sum and not in "
                "another (inf against finite is overflow, not a wrong mapping): accepted\n",
                (long long)v->overflows, v->overflows == 1 ? "" : "s", v->name);
    if (v->unbounded)
        fprintf(out, "             %lld element%s of %s depend on the order of a sum beyond any bound (a guard, "
                "select, index or i32 on a reordered value, or a value computed from an overflow): %s\n",
                (long long)v->unbounded, v->unbounded == 1 ? "" : "s", v->name,
                v->elem_i32 ? "compared exactly" : "any value accepted");
}

json_t *cli_verify_json(const cli_verdict *v)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:b, s:I, s:I, s:I}", "max_abs_err", v->max_abs_err, "max_rel_err",
                     v->max_rel_err, "worst_ratio", v->worst_ratio, "max_bound", v->max_bound, "passed",
                     v->passed, "mismatches", (json_int_t)v->mismatches, "overflows",
                     (json_int_t)v->overflows, "unbounded", (json_int_t)v->unbounded);
}

/* ---------------------------------------------------------------- */
/* Expected outputs from files, inputs to files                      */

/* "DIR/NAME.npy" in malloc'd memory. */
static char *npy_path(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *s = xmalloc(n);
    if (s)
        snprintf(s, n, "%s/%s%s", dir, name, suffix);
    return s;
}

int cli_load_reference(const pat_program *p, const char *dir, pat_values *ref, pat_bounds *rb, diag_list *d)
{
    rb->n = p->n_decls;
    rb->r = xcalloc((size_t)p->n_decls + 1, sizeof *rb->r);
    if (!rb->r)
        return diag_error(d, diag_at_file(dir), "out of memory"), EXIT_INPUT;
    for (int k = 0; k < p->n_decls; k++) {
        const pat_decl *dc = p->decls[k];
        if (dc->kind != PAT_OUTPUT)
            continue;
        char *path = npy_path(dir, dc->name, ".npy");
        if (!path)
            return diag_error(d, diag_at_file(dir), "out of memory"), EXIT_INPUT;
        if (access(path, R_OK) != 0) {
            diag_error(d, diag_at_file(dir), "--reference: cannot read '%s' for output '%s': %s", path, dc->name,
                       strerror(errno));
            free(path);
            return EXIT_USAGE;
        }
        pat_tensor_free(&ref->t[k]);
        int rc = pat_npy_read(path, dc, &ref->t[k], d);
        free(path);
        if (rc != 0)
            return EXIT_INPUT;
        /* The bound, when the producer of the reference computed one:
         * DIR/NAME.R.npy, f32 of the output's shape; else R = 0. */
        path = npy_path(dir, dc->name, ".R.npy");
        if (!path)
            return diag_error(d, diag_at_file(dir), "out of memory"), EXIT_INPUT;
        if (access(path, F_OK) == 0) {
            pat_decl rd = *dc;
            rd.type.elem = PAT_F32;
            pat_tensor t;
            rc = pat_npy_read(path, &rd, &t, d);
            if (rc == 0) {
                rb->r[k] = xmalloc((size_t)(t.count ? t.count : 1) * sizeof *rb->r[k]);
                if (!rb->r[k])
                    rc = diag_error(d, diag_at_file(dir), "out of memory");
                for (int64_t i = 0; rc == 0 && i < t.count; i++) {
                    float x = t.data.f[i];
                    if (!(x >= 0)) {
                        rc = diag_error(d, diag_at_file(dir), "'%s': element %lld is %g; a bound is 0 or more",
                                        dc->name, (long long)i, (double)x);
                        break;
                    }
                    rb->r[k][i] = x;
                }
                pat_tensor_free(&t);
            }
            if (rc != 0) {
                free(path);
                return EXIT_INPUT;
            }
        }
        free(path);
    }
    return EXIT_OK;
}

int cli_save_inputs(const pat_program *p, const char *dir, const pat_values *vals, diag_list *d)
{
    for (int k = 0; k < p->n_decls; k++) {
        const pat_decl *dc = p->decls[k];
        if (dc->kind != PAT_INPUT)
            continue;
        char *path = npy_path(dir, dc->name, ".npy");
        if (!path)
            return diag_error(d, diag_at_file(dir), "out of memory");
        int rc = pat_npy_write(path, &vals->t[k], d);
        free(path);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Refusals                                                          */

char *cli_refusal_reason(const diag_list *d)
{
    size_t n = 1;
    for (int k = 0; k < d->n; k++)
        if (d->items[k].sev == DIAG_ERROR)
            n += strlen(d->items[k].msg) + (d->items[k].loc.file ? strlen(d->items[k].loc.file) : 6) + 40;
    char *s = xmalloc(n), *at = s;
    if (!s)
        return NULL;
    *s = '\0';
    for (int k = 0; k < d->n; k++) {
        const diag *g = &d->items[k];
        if (g->sev != DIAG_ERROR)
            continue;
        const char *file = g->loc.file ? g->loc.file : "rdumap";
        if (g->loc.line > 0)
            at += sprintf(at, "%s%s:%d:%d: %s", at == s ? "" : "\n", file, g->loc.line, g->loc.col, g->msg);
        else
            at += sprintf(at, "%s%s: %s", at == s ? "" : "\n", file, g->msg);
    }
    return s;
}

int cli_report_refusal_json(outputs *outs, const char *path, const cli_job *job, int status, diag_list *d)
{
    const cli_opts *o = job->opts;
    const fab_fabric *f = job->fab;
    const dfg *g = job->g;
    char *reason = cli_refusal_reason(d);
    json_t *errors = json_array();
    for (int k = 0; errors && k < d->n; k++) {
        const diag *e = &d->items[k];
        if (e->sev != DIAG_ERROR)
            continue;
        json_t *item = json_pack("{s:s, s:i, s:i, s:s}", "file", e->loc.file ? e->loc.file : "rdumap", "line",
                                 e->loc.line, "col", e->loc.col, "message", e->msg);
        if (!item || json_array_append_new(errors, item) != 0) {
            json_decref(errors);
            errors = NULL;
        }
    }
    json_t *root = reason && errors ? json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:I, s:I, s:s, s:i, s:I}, s:n, s:n, s:n, s:n, s:{s:i, s:s, s:o}}",
        "program", job->prog->file, "fabric", "name", f->name, "source", f->source,
        "options", "seed", (json_int_t)o->seed, "seed_place", (json_int_t)o->place.seed, "place",
        place_strategy_name(o->place.strategy), "par", o->par, "max_work", (json_int_t)o->max_work,
        "place", "route", "emu", "verify",
        "refused", "exit", status, "reason", reason, "errors", errors) : NULL;
    free(reason);
    if (!root) {
        json_decref(errors);
        return diag_error(d, diag_at_file(path), "cannot build the JSON report (out of memory)");
    }
    json_t *dg = g ? json_pack("{s:i, s:i, s:i, s:i}", "pcus", g->n_pcus, "pmus", g->n_pmus, "ags", g->n_ags,
                               "streams", g->n_streams)
                   : json_null();
    if (!dg || json_object_set_new(root, "dfg", dg) != 0) {
        json_decref(root);
        return diag_error(d, diag_at_file(path), "cannot build the JSON report (out of memory)");
    }
    int rc = cli_output_json(outs, path, root, d);
    json_decref(root);
    return rc;
}
