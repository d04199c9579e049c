/*
 * test_placement_io.c — replaying a saved placement (cli/placement_io.h).
 *
 * The saved files are written here with jansson in the shape the report
 * writes (cli/report.c placement_json), so a round trip checks the reader
 * against the writer's format; then one case per error class, each
 * checking the message and that site_out is left untouched, and malformed
 * JSON with its exact line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <unistd.h>

#include "cli/placement_io.h"
#include "util/prng.h"

static const char *TINY_CFG =
    "[fabric]\nname = tiny\nrows = 4\ncols = 4\nclock_mhz = 1000\n"
    "[pcu]\nlanes = 4\nstages = 4\n[pmu]\nkib = 16\nbanks = 4\n"
    "[network]\nvector_links = 2\nscalar_links = 2\n[dram]\nagcus = 8\ngbps = 16\n";

/* 8 x 16 with an AGCU on every west and east row, as plasticine's grid. */
static const char *WIDE_CFG =
    "[fabric]\nname = wide\nrows = 8\ncols = 16\nclock_mhz = 1000\n"
    "[pcu]\nlanes = 16\nstages = 6\n[pmu]\nkib = 256\nbanks = 16\n"
    "[network]\nvector_links = 2\nscalar_links = 4\n[dram]\nagcus = 16\ngbps = 51.2\n";

enum { N_UNITS = 5 };
static const char *const NAMES[N_UNITS] = {"C.i.j.k", "C.i#1", "A", "B", "load A"};
static const place_kind KINDS[N_UNITS] = {PLACE_PCU, PLACE_PCU, PLACE_PMU, PLACE_PMU, PLACE_AGCU};

typedef struct world {
    fab_fabric f;
    place_sites s;
    place_problem p;
    int site[N_UNITS];   /* a legal placement */
} world;

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/rdumap-placement-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove(path);
    return 0;
}

static void make_world(world *w, const char *cfg)
{
    diag_list d;
    diag_init(&d);
    assert_int_equal(fab_load_string("fab.cfg", cfg, &w->f, &d), 0);
    diag_free(&d);
    assert_int_equal(place_sites_init(&w->s, &w->f), 0);
    w->p = (place_problem){.fab = &w->f, .n_units = N_UNITS, .kind = KINDS, .name = NAMES};
    /* second and fifth PCU, first and third PMU, last AGCU */
    int want[N_UNITS][2] = {{PLACE_PCU, 1}, {PLACE_PCU, 4}, {PLACE_PMU, 0}, {PLACE_PMU, 2}, {PLACE_AGCU, -1}};
    for (int u = 0; u < N_UNITS; u++) {
        int nth = want[u][1], hit = -1;
        for (int i = 0; i < w->s.n; i++)
            if ((int)w->s.site[i].kind == want[u][0]) {
                if (nth-- == 0 || want[u][1] < 0)
                    hit = i;
                if (hit >= 0 && want[u][1] >= 0)
                    break;
            }
        assert_true(hit >= 0);
        w->site[u] = hit;
    }
}

static const char *kind_name(place_kind k)
{
    return k == PLACE_PCU ? "VPCU" : k == PLACE_PMU ? "VPMU" : "VAG";
}

/* The units array as cli/report.c writes it. */
static json_t *units_json(const world *w, const int *site)
{
    json_t *units = json_array();
    for (int u = 0; u < N_UNITS; u++) {
        const place_site *s = &w->s.site[site[u]];
        json_array_append_new(units, json_pack("{s:s, s:s, s:i, s:i, s:i}", "unit", NAMES[u], "kind",
                                               kind_name(KINDS[u]), "site", site[u], "row", s->row, "col", s->col));
    }
    return units;
}

static void dump(json_t *j)
{
    assert_int_equal(json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
    json_decref(j);
}

static void write_text(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Read expecting failure; returns the list for inspection (caller frees)
 * and checks that site_out was not touched. */
static void read_fails(const world *w, diag_list *d)
{
    int out[N_UNITS];
    for (int u = 0; u < N_UNITS; u++)
        out[u] = 1000 + u;
    diag_init(d);
    assert_int_equal(placement_read(path, &w->p, &w->s, out, d), -1);
    assert_true(d->n_errors >= 1);
    for (int u = 0; u < N_UNITS; u++)
        assert_int_equal(out[u], 1000 + u);
    for (int k = 0; k < d->n; k++)
        assert_string_equal(d->items[k].loc.file, path);
}

static bool has_error(const diag_list *d, const char *needle)
{
    for (int k = 0; k < d->n; k++)
        if (d->items[k].sev == DIAG_ERROR && strstr(d->items[k].msg, needle))
            return true;
    return false;
}

static void free_world(world *w)
{
    place_sites_free(&w->s);
}

/* ------------------------------------------------------------ round trips */

static void check_reads_back(const world *w, const int *want)
{
    int out[N_UNITS];
    diag_list d;
    diag_init(&d);
    assert_int_equal(placement_read(path, &w->p, &w->s, out, &d), 0);
    assert_int_equal(d.n, 0);
    for (int u = 0; u < N_UNITS; u++)
        assert_int_equal(out[u], want[u]);
    assert_int_equal(place_check(&w->p, &w->s, out, &d), 0);
    diag_free(&d);
}

static void test_round_trip_report(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    dump(json_pack("{s:s, s:{s:s, s:f, s:n, s:o}, s:{s:i}}", "program", "x.pat", "place", "strategy", "sa",
                   "cost", 12.0, "bound", "units", units_json(&w, w.site), "route", "iterations", 1));
    check_reads_back(&w, w.site);
    free_world(&w);
}

static void test_round_trip_place_object_and_array(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    dump(json_pack("{s:s, s:o}", "strategy", "ilp", "units", units_json(&w, w.site)));
    check_reads_back(&w, w.site);
    /* a bare array, in another order, with the site index and kind left out */
    json_t *units = units_json(&w, w.site), *rev = json_array();
    for (int k = N_UNITS - 1; k >= 0; k--) {
        json_t *e = json_deep_copy(json_array_get(units, (size_t)k));
        json_object_del(e, "site");
        json_object_del(e, "kind");
        json_array_append_new(rev, e);
    }
    json_decref(units);
    dump(rev);
    check_reads_back(&w, w.site);
    free_world(&w);
}

/* A placement made on tiny replays on a larger fabric by row and column:
 * the sites are renumbered, not copied. */
static void test_other_fabric_by_position(void **state)
{
    (void)state;
    world t, wide;
    make_world(&t, TINY_CFG);
    make_world(&wide, WIDE_CFG);
    /* the VAG on tiny's first (west, row 0) AGCU, which wide also has */
    int site[N_UNITS];
    memcpy(site, t.site, sizeof site);
    site[4] = t.s.n - t.f.agcus;
    assert_int_equal(t.s.site[site[4]].col, 0);
    dump(json_pack("{s:o}", "units", units_json(&t, site)));
    int out[N_UNITS];
    diag_list d;
    diag_init(&d);
    assert_int_equal(placement_read(path, &wide.p, &wide.s, out, &d), 0);
    for (int u = 0; u < N_UNITS; u++) {
        assert_int_equal(wide.s.site[out[u]].row, t.s.site[site[u]].row);
        assert_int_equal(wide.s.site[out[u]].col, t.s.site[site[u]].col);
        assert_int_equal(wide.s.site[out[u]].kind, KINDS[u]);
    }
    assert_int_not_equal(out[2], site[2]);  /* PMU numbering differs */
    diag_free(&d);

    /* tiny's east AGCU (col 3) is no AGCU on the wide fabric */
    dump(json_pack("{s:o}", "units", units_json(&t, t.site)));
    read_fails(&wide, &d);
    assert_true(has_error(&d, "unit 'load A' is a VAG, but there is no AGCU at"));
    diag_free(&d);

    /* and a placement on the wide fabric does not fit tiny */
    dump(json_pack("[{s:s, s:s, s:i, s:i}]", "unit", "C.i.j.k", "kind", "VPCU", "row", 6, "col", 10));
    read_fails(&t, &d);
    assert_true(has_error(&d, "unit 'C.i.j.k': site (6,10) is outside the 4 x 4 fabric 'tiny'"));
    diag_free(&d);
    free_world(&t);
    free_world(&wide);
}

/* ------------------------------------------------------------ error classes */

static void test_missing_unit(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    json_t *units = units_json(&w, w.site);
    json_array_remove(units, 0);
    json_array_remove(units, 2);  /* was B */
    dump(json_pack("{s:{s:o}}", "place", "units", units));
    diag_list d;
    read_fails(&w, &d);
    assert_int_equal(d.n_errors, 2);
    assert_true(has_error(&d, "unit 'C.i.j.k' is missing"));
    assert_true(has_error(&d, "unit 'B' is missing"));
    diag_free(&d);
    free_world(&w);
}

static void test_wrong_site_kind(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    int site[N_UNITS];
    memcpy(site, w.site, sizeof site);
    json_t *units = units_json(&w, site);
    /* move the first VPCU onto PMU (0,1) */
    json_object_set_new(json_array_get(units, 0), "col", json_integer(1));
    json_object_set_new(json_array_get(units, 0), "row", json_integer(0));
    dump(units);
    diag_list d;
    read_fails(&w, &d);
    assert_int_equal(d.n_errors, 1);
    assert_true(has_error(&d, "site (0,1) is a PMU, unit 'C.i.j.k' is a VPCU"));
    diag_free(&d);
    free_world(&w);
}

static void test_site_twice(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    int site[N_UNITS];
    memcpy(site, w.site, sizeof site);
    site[1] = site[0];
    dump(units_json(&w, site));
    diag_list d;
    read_fails(&w, &d);
    assert_int_equal(d.n_errors, 1);
    char want[128];
    snprintf(want, sizeof want, "site (%d,%d) PCU is given to both 'C.i.j.k' and 'C.i#1'", w.s.site[site[0]].row,
             w.s.site[site[0]].col);
    assert_true(has_error(&d, want));
    diag_free(&d);
    free_world(&w);
}

static void test_unknown_duplicate_and_kind(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    json_t *units = units_json(&w, w.site);
    json_array_append_new(units, json_pack("{s:s, s:s, s:i, s:i}", "unit", "ghost", "kind", "VPCU", "row", 3, "col",
                                           3));
    json_array_append(units, json_array_get(units, 2));   /* A again */
    json_object_set_new(json_array_get(units, 3), "kind", json_string("VPCU"));  /* B said to be a VPCU */
    dump(units);
    diag_list d;
    read_fails(&w, &d);
    assert_true(has_error(&d, "unit 'ghost' is not a unit of this program"));
    assert_true(has_error(&d, "unit 'A' is given twice"));
    assert_true(has_error(&d, "unit 'B' is a VPCU in the file but a VPMU in this program"));
    assert_false(has_error(&d, "is missing"));
    diag_free(&d);
    free_world(&w);
}

/* A placement of another program is one error, not one per unit. */
static void test_other_program(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    dump(json_pack("[{s:s, s:i, s:i}, {s:s, s:i, s:i}]", "unit", "Hd.b.h", "row", 0, "col", 0, "unit", "W1", "row",
                   0, "col", 1));
    diag_list d;
    read_fails(&w, &d);
    assert_int_equal(d.n_errors, 1);
    assert_true(has_error(&d, "none of the 2 units in the placement is a unit of this program (the file's first "
                              "is 'Hd.b.h', the program's first 'C.i.j.k')"));
    diag_free(&d);
    free_world(&w);
}

/* The report of --dfg keeps its units under "import", named by "name",
 * with the fabric's kind names. */
static void test_import_report(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    json_t *units = json_array();
    static const char *const site_kind[3] = {"PCU", "PMU", "AGCU"};
    for (int u = 0; u < N_UNITS; u++)
        json_array_append_new(units, json_pack("{s:s, s:s, s:i, s:i, s:[]}", "name", NAMES[u], "kind",
                                               site_kind[KINDS[u]], "row", w.s.site[w.site[u]].row, "col",
                                               w.s.site[w.site[u]].col, "ops"));
    dump(json_pack("{s:s, s:n, s:{s:o}}", "program", "g.xml", "place", "import", "units", units));
    check_reads_back(&w, w.site);
    free_world(&w);
}

static void test_bad_entries(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    json_t *units = units_json(&w, w.site);
    json_object_set_new(json_array_get(units, 0), "row", json_string("1"));
    json_object_set_new(json_array_get(units, 1), "kind", json_string("DSP"));
    json_object_set_new(json_array_get(units, 2), "row", json_null());
    json_object_set_new(json_array_get(units, 2), "col", json_null());
    json_object_del(json_array_get(units, 3), "unit");
    json_array_append_new(units, json_integer(7));
    dump(units);
    diag_list d;
    read_fails(&w, &d);
    assert_true(has_error(&d, "unit 'C.i.j.k' needs an integer \"row\" and \"col\""));
    assert_true(has_error(&d, "unit 'C.i#1': \"kind\" must be"));
    assert_true(has_error(&d, "unit 'A' has no site in the file"));
    assert_true(has_error(&d, "entry 4 of the units has no \"unit\" name"));
    assert_true(has_error(&d, "entry 6 of the units is not an object"));
    assert_true(has_error(&d, "unit 'B' is missing"));
    diag_free(&d);
    free_world(&w);
}

static void test_no_placement(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    diag_list d;
    dump(json_pack("{s:s, s:n}", "program", "x.pat", "place"));
    read_fails(&w, &d);
    assert_true(has_error(&d, "the report holds no placement"));
    diag_free(&d);
    dump(json_pack("{s:i}", "answer", 42));
    read_fails(&w, &d);
    assert_true(has_error(&d, "no placement found"));
    diag_free(&d);
    free_world(&w);
}

static void test_problem_without_names(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    dump(units_json(&w, w.site));
    diag_list d;
    w.p.name = NULL;
    read_fails(&w, &d);
    assert_true(has_error(&d, "have no names"));
    diag_free(&d);
    static const char *const same[N_UNITS] = {"C", "C", "A", "B", "load A"};
    w.p.name = same;
    read_fails(&w, &d);
    assert_true(has_error(&d, "two units of the program are named 'C'"));
    diag_free(&d);
    free_world(&w);
}

static void test_malformed_json(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    /* the stray second comma on line 3 is at column 28 */
    write_text("{\n  \"place\": {\n    \"units\": [{\"unit\": \"A\",, \"row\": 0}]\n  }\n}\n");
    diag_list d;
    read_fails(&w, &d);
    assert_int_equal(d.n_errors, 1);
    assert_int_equal(d.items[0].loc.line, 3);
    assert_int_equal(d.items[0].loc.col, 28);
    assert_non_null(strstr(d.items[0].msg, "malformed JSON"));
    assert_int_equal(d.n_sources, 1);  /* so the printer can quote the line */
    diag_free(&d);

    write_text("[{\"unit\": \"A\"");
    read_fails(&w, &d);
    assert_int_equal(d.items[0].loc.line, 1);
    assert_true(d.items[0].loc.col >= 13);
    diag_free(&d);

    write_text("");
    read_fails(&w, &d);
    assert_non_null(strstr(d.items[0].msg, "malformed JSON"));
    diag_free(&d);

    /* duplicate keys are refused rather than one silently kept */
    write_text("[{\"unit\": \"A\", \"row\": 0, \"row\": 1, \"col\": 1}]");
    read_fails(&w, &d);
    assert_non_null(strstr(d.items[0].msg, "duplicate"));
    diag_free(&d);
    free_world(&w);
}

static void test_missing_file(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    remove(path);
    diag_list d;
    read_fails(&w, &d);
    assert_int_equal(d.n_errors, 1);
    assert_non_null(strstr(d.items[0].msg, "cannot open the placement"));
    assert_int_equal(d.items[0].loc.line, 0);
    diag_free(&d);

    /* a directory is no placement either */
    char saved[64];
    snprintf(saved, sizeof saved, "%s", path);
    snprintf(path, sizeof path, "/tmp");
    read_fails(&w, &d);
    assert_true(d.n_errors == 1);
    diag_free(&d);
    snprintf(path, sizeof path, "%s", saved);
    free_world(&w);
}

/* 1000 deterministic corruptions of a saved report: each either reads
 * back as a legal placement or fails with an error naming the file; never
 * a crash, a sanitizer report or a leak. */
static void test_corrupted_files(void **state)
{
    (void)state;
    world w;
    make_world(&w, TINY_CFG);
    json_t *root = json_pack("{s:s, s:{s:s, s:o}}", "program", "x.pat", "place", "strategy", "sa", "units",
                             units_json(&w, w.site));
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    size_t len = strlen(text);
    static const char alphabet[] = "{}[]\",:0123456789-.eE \n\\nulltruefalseVPCUAGXZ#";
    prng rng;
    prng_seed(&rng, 7);
    int ok = 0, failed = 0;
    char *buf = malloc(len + 16);
    for (int trial = 0; trial < 1000; trial++) {
        memcpy(buf, text, len + 1);
        size_t n = len;
        int edits = 1 + (int)prng_below(&rng, 4);
        for (int k = 0; k < edits; k++) {
            size_t at = (size_t)prng_below(&rng, n);
            switch (prng_below(&rng, 4)) {
            case 0: buf[at] = alphabet[prng_below(&rng, sizeof alphabet - 1)]; break;
            case 1: buf[at] = (char)prng_below(&rng, 256); if (!buf[at]) buf[at] = 'x'; break;
            case 2: memmove(buf + at, buf + at + 1, n - at); n--; break;
            default: n = at; buf[n] = '\0'; break;   /* truncate */
            }
            if (n == 0)
                break;
        }
        write_text(buf);
        int out[N_UNITS];
        diag_list d;
        diag_init(&d);
        int rc = placement_read(path, &w.p, &w.s, out, &d);
        if (rc == 0) {
            assert_int_equal(d.n_errors, 0);
            assert_int_equal(place_check(&w.p, &w.s, out, &d), 0);
            ok++;
        } else {
            assert_int_equal(rc, -1);
            assert_true(d.n_errors > 0);
            assert_string_equal(d.items[0].loc.file, path);
            failed++;
        }
        diag_free(&d);
    }
    free(buf);
    free(text);
    assert_true(ok > 0 && failed > 0);
    free_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_place_object_and_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_fabric_by_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_site_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_site_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_duplicate_and_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problem_without_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
