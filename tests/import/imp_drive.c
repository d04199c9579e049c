/*
 * imp_drive.c — a tiny driver of mapper/import for tests, docs and
 * benchmarks, until the CLI's `rdumap --dfg` lands:
 *
 *   imp_drive FILE [--fabric F.cfg] [--place ilp|sa|greedy|random]
 *             [--seed N] [--time-limit S] [--json] [--svg FILE] [--no-route]
 *             [--strict]
 *
 * Prints the diagnostics to stderr and the report (text, or JSON with
 * --json) to stdout; exits with the report's exit class.
 */
#include <stdlib.h>
#include <string.h>

#include "mapper/import/import.h"

int main(int argc, char **argv)
{
    const char *file = NULL, *fabric = NULL, *svg = NULL;
    bool json = false;
    imp_opts o;
    imp_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--fabric") == 0 && i + 1 < argc) {
            fabric = argv[++i];
        } else if (strcmp(a, "--place") == 0 && i + 1 < argc) {
            if (place_strategy_parse(argv[++i], &o.place.strategy) != 0) {
                fprintf(stderr, "imp_drive: unknown strategy %s\n", argv[i]);
                return 4;
            }
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            o.place.seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(a, "--time-limit") == 0 && i + 1 < argc) {
            o.place.time_limit = atof(argv[++i]);
        } else if (strcmp(a, "--svg") == 0 && i + 1 < argc) {
            svg = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--no-route") == 0) {
            o.no_route = true;
        } else if (strcmp(a, "--strict") == 0) {
            o.read.strict = true;
        } else if (a[0] != '-' && !file) {
            file = a;
        } else {
            fprintf(stderr, "usage: imp_drive FILE [--fabric F.cfg] [--place S] [--seed N] [--json] [--no-route] [--strict]\n");
            return 4;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: imp_drive FILE [--fabric F.cfg] [--place S] [--seed N] [--json] [--no-route] [--strict]\n");
        return 4;
    }
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    int rc = fabric ? fab_load_file(fabric, &f, &d) : fab_load_default(&f, &d);
    if (rc != 0) {
        diag_print(stderr, &d);
        diag_free(&d);
        return 1;
    }
    imp_report r;
    rc = imp_run(file, &f, &o, &r, &d);
    diag_print(stderr, &d);
    if (json) {
        json_t *j = imp_report_json(&r);
        if (j) {
            json_dumpf(j, stdout, JSON_INDENT(2));
            fputc('\n', stdout);
            json_decref(j);
        }
    } else {
        imp_report_print(stdout, &r);
    }
    if (svg) {
        FILE *out = fopen(svg, "w");
        if (!out || imp_report_svg(out, &r, &f) != 0)
            fprintf(stderr, "imp_drive: no picture written to %s\n", svg);
        if (out)
            fclose(out);
    }
    imp_report_free(&r);
    diag_free(&d);
    return rc;
}
