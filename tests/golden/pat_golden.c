/*
 * pat_golden.c — the engine of the golden tests of the front end: load one
 * `.pat` program and print what a golden file compares, in text.
 *
 *   pat_golden PROG.pat                 check only; diagnostics on stdout
 *   pat_golden PROG.pat --dump-ir       the typed IR
 *   pat_golden PROG.pat --interpret     run the reference interpreter and
 *                                       print every output
 *   pat_golden PROG.pat --interpret --quiet   the same, printing nothing
 *                                       (the interpreter's benchmark)
 *   pat_golden PROG.pat --write-inputs DIR   write the inputs it would use
 *                                       as DIR/NAME.npy (to run the CLI on)
 *
 * Inputs for --interpret come from PROG.in when it exists — lines
 * `NAME = v v v ...` in row-major order — and otherwise from a fixed
 * arithmetic rule (below), so that expected outputs can be worked out by
 * hand and do not depend on the data helper's generator.
 *
 * Exit status: 0 fine; 1 the program is wrong; 2 a run-time error; 4 usage.
 * It is a test tool: it prints, unlike the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/pat.h"
#include "patterns/pat_data.h"

/* Element k of input `d` when no .in file gives it: small exact values. */
static void default_fill(const pat_decl *d, pat_tensor *t)
{
    for (int64_t k = 0; k < t->count; k++) {
        if (d->type.elem == PAT_F32) {
            t->data.f[k] = (float)((k * 7 + d->id * 3) % 17 - 8) / 4.0f;
        } else if (d->has_gen && d->gen_sorted) {
            int64_t span = d->gen_hi - d->gen_lo;
            t->data.i[k] = (int32_t)(d->gen_lo + (t->count > 1 ? span * k / (t->count - 1) : 0));
        } else if (d->has_gen) {
            int64_t span = d->gen_hi - d->gen_lo;
            t->data.i[k] = (int32_t)(d->gen_lo + (k * 7 + d->id * 3) % span);
        } else {
            t->data.i[k] = (int32_t)((k * 7 + d->id * 3) % 100);
        }
    }
}

static int read_inputs(const char *path, const pat_program *p, pat_values *v)
{
    char inpath[4096];
    snprintf(inpath, sizeof inpath, "%.*s.in", (int)(strlen(path) - 4), path);
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *d = p->decls[i];
        if (d->kind != PAT_INPUT)
            continue;
        if (pat_tensor_alloc(&v->t[i], &d->type) < 0)
            return -1;
        default_fill(d, &v->t[i]);
    }
    FILE *f = fopen(inpath, "r");
    if (!f)
        return 0;
    char name[256];
    while (fscanf(f, " %255[A-Za-z0-9_] =", name) == 1) {
        pat_decl *d = pat_find_decl(p, name);
        if (!d || d->kind != PAT_INPUT) {
            fprintf(stderr, "%s: '%s' is not an input\n", inpath, name);
            fclose(f);
            return -1;
        }
        pat_tensor *t = &v->t[d->id];
        for (int64_t k = 0; k < t->count; k++) {
            int ok = d->type.elem == PAT_F32 ? fscanf(f, "%f", &t->data.f[k])
                                             : fscanf(f, "%d", &t->data.i[k]);
            if (ok != 1) {
                fprintf(stderr, "%s: '%s' needs %lld values\n", inpath, name, (long long)t->count);
                fclose(f);
                return -1;
            }
        }
    }
    fclose(f);
    return 0;
}

static void print_outputs(const pat_program *p, const pat_values *v)
{
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *d = p->decls[i];
        if (d->kind != PAT_OUTPUT)
            continue;
        char b[128];
        const pat_tensor *t = &v->t[i];
        printf("%s : %s =", d->name, pat_type_str(&d->type, b, sizeof b));
        for (int64_t k = 0; k < t->count; k++) {
            if (k % 8 == 0)
                printf("\n ");
            if (d->type.elem == PAT_F32)
                printf(" %.9g", (double)t->data.f[k]);
            else
                printf(" %d", (int)t->data.i[k]);
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool dump = false, interpret = false, quiet = false;
    const char *write_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--write-inputs") == 0 && i + 1 < argc)
            write_dir = argv[++i];
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (strcmp(argv[i], "--dump-ir") == 0)
            dump = true;
        else if (strcmp(argv[i], "--interpret") == 0)
            interpret = true;
        else if (!path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path || strlen(path) < 5) {
        fprintf(stderr, "usage: pat_golden PROG.pat [--dump-ir] [--interpret]\n");
        return 4;
    }
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    int rc = 0;
    pat_program *p = pat_load_file(path, &a, &d);
    if (!p) {
        diag_print(stdout, &d);
        rc = 1;
        goto out;
    }
    if (dump)
        pat_dump(stdout, p);
    if (write_dir) {
        pat_values v;
        if (pat_values_init(&v, p) < 0 || read_inputs(path, p, &v) < 0) {
            rc = 4;
        } else {
            for (int i = 0; i < p->n_decls && rc == 0; i++) {
                if (p->decls[i]->kind != PAT_INPUT)
                    continue;
                char out[4096];
                snprintf(out, sizeof out, "%s/%s.npy", write_dir, p->decls[i]->name);
                if (pat_npy_write(out, &v.t[i], &d) < 0) {
                    diag_print(stderr, &d);
                    rc = 4;
                }
            }
        }
        pat_values_free(&v);
    }
    if (interpret) {
        pat_values v;
        if (pat_values_init(&v, p) < 0 || read_inputs(path, p, &v) < 0) {
            rc = 4;
        } else if (pat_interpret(p, &v, &d) < 0) {
            diag_print(stdout, &d);
            rc = 2;
        } else if (!quiet) {
            print_outputs(p, &v);
        }
        pat_values_free(&v);
    }
out:
    diag_free(&d);
    arena_destroy(&a);
    return rc;
}
