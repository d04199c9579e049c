/*
 * onnx_backend.c — ONNX's own backend test suite (Debian's
 * libonnx-testdata) through the decomposition.
 *
 *   onnx_backend [-v] DATA_DIR...        every case DIR/CASE/{model.onnx, test_data_set_N/}
 *   onnx_backend --compare CASE_DIR SET OUT_DIR
 *                                        compare rdumap --out files with SET/output_N.pb
 *
 * For each case: read and decompose the model; a model the decomposition
 * refuses counts as "not supported" under the reason it gives.  Otherwise
 * every test_data_set_N runs through the reference interpreter (the same
 * IR that rdumap maps) on input_N.pb, and each output is compared with
 * output_N.pb within the language's tolerance.  Prints the counts, the
 * reasons, and a closing line "N passed, N failed"; exits 1 when any
 * supported case fails, 77 when no data directory exists.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "patterns/onnx/onnx.h"
#include "patterns/pat_data.h"

enum { MAX_REASONS = 256 };

typedef struct reason {
    char text[160];
    int count;
    char example[96];
} reason;

static reason reasons[MAX_REASONS];
static int n_reasons;

static void add_reason(const char *msg, const char *case_name)
{
    /* "node 3 'x' (Op, opset 9): why" -> "Op: why" keeps the groups small */
    char text[160];
    const char *paren = strstr(msg, " (");
    const char *colon = paren ? strstr(paren, "): ") : NULL;
    if (!strncmp(msg, "node ", 5) && paren && colon) {
        const char *op = paren + 2, *comma = strchr(op, ',');
        int oplen = comma && comma < colon ? (int)(comma - op) : (int)(colon - op);
        const char *why = colon + 3;
        if (strstr(why, "is not supported (docs/onnx.md"))
            snprintf(text, sizeof text, "operator %.*s", oplen, op);
        else
            snprintf(text, sizeof text, "%.*s: %s", oplen, op, why);
    } else if (!strncmp(msg, "graph input '", 13) && strchr(msg + 13, '\''))
        snprintf(text, sizeof text, "graph input%s", strchr(msg + 13, '\'') + 1);
    else
        snprintf(text, sizeof text, "%s", msg);
    /* numbers in messages would split groups: keep the first 70 characters */
    text[70] = 0;
    for (int k = 0; k < n_reasons; k++)
        if (!strcmp(reasons[k].text, text)) {
            reasons[k].count++;
            return;
        }
    if (n_reasons < MAX_REASONS) {
        snprintf(reasons[n_reasons].text, sizeof reasons[n_reasons].text, "%s", text);
        snprintf(reasons[n_reasons].example, sizeof reasons[n_reasons].example, "%s", case_name);
        reasons[n_reasons++].count = 1;
    }
}

static int cmp_reason(const void *a, const void *b)
{
    const reason *x = a, *y = b;
    return y->count != x->count ? y->count - x->count : strcmp(x->text, y->text);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir (malloc'd). */
static int list_dir(const char *dir, char ***out)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return -1;
    int n = 0, cap = 64;
    char **v = malloc((size_t)cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(dp);
    if (v)
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return v ? n : -1;
}

static void free_list(char **v, int n)
{
    for (int k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

/* Compare got with want (the language's tolerance); the worst error into *err. */
static bool close_enough(const pat_tensor *got, const pat_tensor *want, double *err, int64_t *bad)
{
    *err = 0;
    *bad = -1;
    for (int64_t i = 0; i < want->count; i++) {
        bool ok;
        double e;
        if (want->type.elem == PAT_F32) {
            double g = got->data.f[i], w = want->data.f[i];
            e = fabs(g - w);
            ok = e <= 1e-5 + 1e-4 * fabs(w) || (isnan(g) && isnan(w)) || g == w;
        } else {
            e = fabs((double)got->data.i[i] - (double)want->data.i[i]);
            ok = e == 0;
        }
        if (e > *err || isnan(e))
            *err = e;
        if (!ok && *bad < 0)
            *bad = i;
    }
    return *bad < 0;
}

/* Run one data set of a loaded model; 0 pass, 1 fail (message in why). */
static int run_set(const onnx_model *m, const char *set, char *why, size_t wsize)
{
    diag_list d;
    diag_init(&d);
    pat_values vals = {0};
    int rc = 1;
    if (pat_values_init(&vals, m->prog) != 0) {
        snprintf(why, wsize, "out of memory");
        goto out;
    }
    if (onnx_load_inputs(m, set, false, 1, &vals, &d) != 0 || pat_interpret(m->prog, &vals, &d) != 0) {
        snprintf(why, wsize, "%s", d.n ? d.items[0].msg : "inputs or interpretation failed");
        goto out;
    }
    rc = 0;
    for (int k = 0; k < m->n_outputs && rc == 0; k++) {
        pat_decl *dc = pat_find_decl(m->prog, m->output_decl[k]);
        char path[8448 + 32];
        snprintf(path, sizeof path, "%s/output_%d.pb", set, k);
        pat_tensor want;
        if (!dc || onnx_read_tensor_file(path, &dc->type, &want, &d) != 0) {
            snprintf(why, wsize, "output %d: %s", k, d.n ? d.items[0].msg : "no declaration");
            rc = 1;
            break;
        }
        double err;
        int64_t bad;
        if (!close_enough(&vals.t[dc->id], &want, &err, &bad)) {
            double g = dc->type.elem == PAT_F32 ? vals.t[dc->id].data.f[bad] : vals.t[dc->id].data.i[bad];
            double w = dc->type.elem == PAT_F32 ? want.data.f[bad] : want.data.i[bad];
            snprintf(why, wsize, "output %d '%s': element %lld is %.9g, expected %.9g (max abs err %.3g)", k,
                     m->output_onnx[k], (long long)bad, g, w, err);
            rc = 1;
        }
        pat_tensor_free(&want);
    }
out:
    pat_values_free(&vals);
    diag_free(&d);
    return rc;
}

static int compare_out(const char *case_dir, const char *set, const char *out_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", case_dir);
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    onnx_model m;
    int rc = 0;
    if (onnx_load(path, NULL, 0, set, &a, &m, &d) != 0) {
        diag_print(stderr, &d);
        rc = 1;
        goto out;
    }
    for (int k = 0; k < m.n_outputs; k++) {
        pat_decl *dc = pat_find_decl(m.prog, m.output_decl[k]);
        pat_tensor want, got;
        char wp[4096], gp[4096];
        snprintf(wp, sizeof wp, "%s/output_%d.pb", set, k);
        snprintf(gp, sizeof gp, "%s/%s.npy", out_dir, dc->name);
        if (onnx_read_tensor_file(wp, &dc->type, &want, &d) != 0) {
            rc = 1;
            continue;
        }
        if (pat_npy_read(gp, dc, &got, &d) != 0) {
            pat_tensor_free(&want);
            rc = 1;
            continue;
        }
        double err;
        int64_t bad;
        bool ok = close_enough(&got, &want, &err, &bad);
        printf("%s output %d '%s': max abs err %.3g: %s\n", case_dir, k, dc->name, err, ok ? "pass" : "FAIL");
        if (!ok)
            rc = 1;
        pat_tensor_free(&want);
        pat_tensor_free(&got);
    }
out:
    diag_print(stderr, &d);
    diag_free(&d);
    onnx_model_free(&m);
    arena_destroy(&a);
    return rc;
}

int main(int argc, char **argv)
{
    bool verbose = false;
    int first = 1;
    if (argc == 5 && !strcmp(argv[1], "--compare"))
        return compare_out(argv[2], argv[3], argv[4]);
    if (argc > 1 && !strcmp(argv[1], "-v")) {
        verbose = true;
        first = 2;
    }
    int passed = 0, failed = 0, unsupported = 0, dirs = 0;
    for (int ai = first; ai < argc; ai++) {
        char **cases;
        int nc = list_dir(argv[ai], &cases);
        if (nc < 0)
            continue;
        dirs++;
        for (int ci = 0; ci < nc; ci++) {
            char cdir[4096], model[4200];
            snprintf(cdir, sizeof cdir, "%s/%s", argv[ai], cases[ci]);
            snprintf(model, sizeof model, "%s/model.onnx", cdir);
            char set0[4300];
            snprintf(set0, sizeof set0, "%s/test_data_set_0", cdir);
            struct stat st;
            if (stat(model, &st) != 0)
                continue;
            arena a;
            arena_init(&a);
            diag_list d;
            diag_init(&d);
            onnx_model m;
            if (onnx_load(model, NULL, 0, set0, &a, &m, &d) != 0) {
                unsupported++;
                const char *msg = d.n ? d.items[0].msg : "unknown";
                add_reason(msg, cases[ci]);
                if (verbose)
                    printf("unsupported %s: %s\n", cases[ci], msg);
            } else {
                char **sets;
                int ns = list_dir(cdir, &sets);
                int case_rc = 0, n_sets = 0;
                char why[512] = "";
                for (int si = 0; si < ns && case_rc == 0; si++) {
                    if (strncmp(sets[si], "test_data_set_", 14))
                        continue;
                    char sdir[8400];
                    snprintf(sdir, sizeof sdir, "%s/%s", cdir, sets[si]);
                    case_rc = run_set(&m, sdir, why, sizeof why);
                    n_sets++;
                }
                free_list(sets, ns);
                if (case_rc == 0 && n_sets > 0) {
                    passed++;
                    if (verbose)
                        printf("pass %s\n", cases[ci]);
                } else {
                    failed++;
                    printf("FAIL %s: %s\n", cases[ci], n_sets ? why : "no test_data_set");
                }
            }
            diag_free(&d);
            onnx_model_free(&m);
            arena_destroy(&a);
        }
        free_list(cases, nc);
    }
    if (dirs == 0) {
        printf("no ONNX backend test data (install libonnx-testdata): skipped\n");
        return 77;
    }
    qsort(reasons, (size_t)n_reasons, sizeof *reasons, cmp_reason);
    printf("\nnot supported: %d cases\n", unsupported);
    for (int k = 0; k < n_reasons; k++)
        printf("  %4d  %s  (e.g. %s)\n", reasons[k].count, reasons[k].text, reasons[k].example);
    printf("\nsupported: %d cases, %d passed, %d failed; not supported: %d\n", passed + failed, passed, failed,
           unsupported);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
