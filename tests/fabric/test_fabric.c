/*
 * test_fabric.c — the fabric loader and model (fabric/fab.h).
 *
 * Every error class of shared/spec/fabric-config.md is tested on its own,
 * with the exact line and message; every default; the checkerboard; the
 * AGCU sites; and the peaks of each shipped fabric against figures worked
 * out by hand below, so that a wrong formula or a wrong .cfg shows up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fabric/fab.h"
#include "util/prng.h"

#ifndef FABRIC_DIR
#error "FABRIC_DIR must name the folder of the shipped .cfg files"
#endif

/* A valid fabric; the numbers on the left are its line numbers, which the
 * expected messages below quote. */
static const char *const BASE[] = {
    /*  1 */ "[fabric]",
    /*  2 */ "name = t",
    /*  3 */ "rows = 4",
    /*  4 */ "cols = 6",
    /*  5 */ "clock_mhz = 1000",
    /*  6 */ "[pcu]",
    /*  7 */ "lanes = 8",
    /*  8 */ "stages = 3",
    /*  9 */ "[pmu]",
    /* 10 */ "kib = 64",
    /* 11 */ "banks = 8",
    /* 12 */ "[network]",
    /* 13 */ "vector_links = 2",
    /* 14 */ "scalar_links = 1",
    /* 15 */ "[dram]",
    /* 16 */ "agcus = 4",
    /* 17 */ "gbps = 32",
};
enum { BASE_LINES = sizeof BASE / sizeof BASE[0] };

/* BASE with line `line` (from 1) replaced by `with` (NULL: an empty line),
 * and `extra` appended; malloc'd. */
static char *variant(int line, const char *with, const char *extra)
{
    size_t cap = 4096;
    char *t = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < BASE_LINES; i++) {
        const char *l = i + 1 == line ? (with ? with : "") : BASE[i];
        n += (size_t)snprintf(t + n, cap - n, "%s\n", l);
    }
    if (extra)
        snprintf(t + n, cap - n, "%s", extra);
    return t;
}

/* Load `text` as "t.cfg" and expect exactly one error, at `line`, saying `msg`. */
static void expect_one_error(const char *text, int line, const char *msg)
{
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    int rc = fab_load_string("t.cfg", text, &f, &d);
    if (d.n != 1 || d.items[0].loc.line != line || strcmp(d.items[0].msg, msg) != 0) {
        diag_print(stderr, &d);
        fprintf(stderr, "expected t.cfg:%d: error: %s\n", line, msg);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(d.n_errors, 1);
    assert_int_equal(d.items[0].sev, DIAG_ERROR);
    assert_string_equal(d.items[0].loc.file, "t.cfg");
    assert_int_equal(d.items[0].loc.line, line);
    assert_string_equal(d.items[0].msg, msg);
    diag_free(&d);
}

static void expect_variant_error(int line, const char *with, const char *extra, int err_line,
                                 const char *msg)
{
    char *t = variant(line, with, extra);
    expect_one_error(t, err_line, msg);
    free(t);
}

static void load_ok(const char *text, fab_fabric *f)
{
    diag_list d;
    diag_init(&d);
    int rc = fab_load_string("t.cfg", text, f, &d);
    if (rc != 0)
        diag_print(stderr, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    diag_free(&d);
}

static void load_shipped(const char *file, fab_fabric *f)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FABRIC_DIR, file);
    diag_list d;
    diag_init(&d);
    int rc = fab_load_file(path, f, &d);
    if (rc != 0)
        diag_print(stderr, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(f->source, path);
    diag_free(&d);
}

/* ----------------------------------------------------------- valid input */

static void base_loads_with_every_default(void **state)
{
    (void)state;
    char *t = variant(0, NULL, NULL);
    fab_fabric f;
    load_ok(t, &f);
    free(t);
    assert_string_equal(f.name, "t");
    assert_string_equal(f.source, "t.cfg");
    assert_int_equal(f.rows, 4);
    assert_int_equal(f.cols, 6);
    assert_int_equal(f.clock_mhz, 1000);
    assert_int_equal(f.lanes, 8);
    assert_int_equal(f.stages, 3);
    assert_int_equal(f.pmu_kib, 64);
    assert_int_equal(f.pmu_banks, 8);
    assert_int_equal(f.vector_links, 2);
    assert_int_equal(f.scalar_links, 1);
    assert_int_equal(f.agcus, 4);
    assert_true(f.dram_gbps == 32.0);
    /* The contract's defaults. */
    assert_int_equal(f.reconfig_cycles, 10000);
    assert_int_equal(f.vector_in, 4);
    assert_int_equal(f.vector_out, 2);
    assert_int_equal(f.scalar_in, 4);
    assert_int_equal(f.scalar_out, 2);
    assert_int_equal(f.fifo_depth, 16);
    assert_int_equal(f.control_links, 1);
    assert_int_equal(f.hop_cycles, 1);
    assert_true(f.dram_latency_ns == 100.0);
    /* 4 x 6 = 24 units, 12 of each. */
    assert_int_equal(f.n_pcus, 12);
    assert_int_equal(f.n_pmus, 12);
}

static void optional_keys_override_defaults(void **state)
{
    (void)state;
    const char *text =
        "[fabric]\nname = opt\nrows = 3\ncols = 3\nclock_mhz = 500\nreconfig_cycles = 0\n"
        "[pcu]\nlanes = 1\nstages = 64\nvector_in = 1\nvector_out = 64\nscalar_in = 0\n"
        "scalar_out = 0\nfifo_depth = 4096\n"
        "[pmu]\nkib = 1048576\nbanks = 256\n"
        "[network]\nvector_links = 64\nscalar_links = 0\ncontrol_links = 0\nhop_cycles = 64\n"
        "[dram]\nagcus = 6\ngbps = 0.5\nlatency_ns = 0\n";
    fab_fabric f;
    load_ok(text, &f);
    assert_int_equal(f.reconfig_cycles, 0);
    assert_int_equal(f.lanes, 1);
    assert_int_equal(f.stages, 64);
    assert_int_equal(f.vector_in, 1);
    assert_int_equal(f.vector_out, 64);
    assert_int_equal(f.scalar_in, 0);
    assert_int_equal(f.scalar_out, 0);
    assert_int_equal(f.fifo_depth, 4096);
    assert_int_equal(f.pmu_kib, 1048576);
    assert_int_equal(f.pmu_banks, 256);
    assert_int_equal(f.vector_links, 64);
    assert_int_equal(f.scalar_links, 0);
    assert_int_equal(f.control_links, 0);
    assert_int_equal(f.hop_cycles, 64);
    assert_int_equal(f.agcus, 6);   /* = 2 x rows, the most allowed */
    assert_true(f.dram_gbps == 0.5);
    assert_true(f.dram_latency_ns == 0.0);
    /* 3 x 3: PCUs at the 5 even squares, PMUs at the 4 odd ones. */
    assert_int_equal(f.n_pcus, 5);
    assert_int_equal(f.n_pmus, 4);
}

static void comments_blank_lines_and_spacing_are_accepted(void **state)
{
    (void)state;
    const char *text = "# a comment\n; another\n\n[fabric]\n  name=  spaced name  \nrows=4 # inline\n"
                       "cols = 6 ; inline\nclock_mhz = 1000\r\n[pcu]\nlanes = 8\nstages = 3\n"
                       "[pmu]\nkib = 64\nbanks = 8\n[network]\nvector_links = 2\nscalar_links = 1\n"
                       "[dram]   # the memory\nagcus = 4\ngbps = 32";
    fab_fabric f;
    load_ok(text, &f);
    assert_string_equal(f.name, "spaced name");
    assert_int_equal(f.rows, 4);
    assert_int_equal(f.cols, 6);
    assert_int_equal(f.clock_mhz, 1000);
    assert_true(f.dram_gbps == 32.0);
}

/* ------------------------------------------------------ one test per error */

static void unknown_section(void **state)
{
    (void)state;
    expect_variant_error(0, NULL, "[memory]\nsize = 3\n", 18,
                         "unknown section [memory] (sections are [fabric], [pcu], [pmu], "
                         "[network], [dram])");
}

static void unknown_key(void **state)
{
    (void)state;
    expect_variant_error(8, "stages = 3\nstage = 3", NULL, 9,
                         "[pcu] stage: unknown key; did you mean 'stages'? (keys of [pcu]: lanes, stages, vector_in, "
                         "vector_out, scalar_in, scalar_out, fifo_depth)");
}

static void duplicate_key(void **state)
{
    (void)state;
    expect_variant_error(8, "stages = 3\nlanes = 16", NULL, 9, "[pcu] lanes: given twice (first at line 7)");
}

static void duplicate_section(void **state)
{
    (void)state;
    expect_variant_error(0, NULL, "[pcu]\nfifo_depth = 8\n", 18,
                         "section [pcu] appears twice (first at line 6)");
}

static void missing_required_key(void **state)
{
    (void)state;
    /* Reported at the header of its section. */
    expect_variant_error(7, NULL, NULL, 6,
                         "[pcu] lanes: missing (required: a power of two between 1 and 256)");
}

static void missing_section(void **state)
{
    (void)state;
    /* No [network]: both of its required keys are reported, without a line. */
    char *t = variant(12, "# no network", NULL);
    /* Drop the two keys too (they would fall into [pmu] and be unknown there). */
    char *p = strstr(t, "vector_links = 2\n");
    memset(p, ' ', strlen("vector_links = 2"));
    p = strstr(t, "scalar_links = 1\n");
    memset(p, ' ', strlen("scalar_links = 1"));
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    assert_int_equal(fab_load_string("t.cfg", t, &f, &d), -1);
    assert_int_equal(d.n_errors, 2);
    assert_int_equal(d.items[0].loc.line, 0);
    assert_string_equal(d.items[0].msg, "[network] vector_links: missing, and so is the section "
                                        "[network] (required: an integer between 1 and 64)");
    assert_string_equal(d.items[1].msg, "[network] scalar_links: missing, and so is the section "
                                        "[network] (required: an integer between 0 and 64)");
    diag_free(&d);
    free(t);
}

static void key_outside_any_section(void **state)
{
    (void)state;
    char *t = variant(0, NULL, NULL);
    char *u = malloc(strlen(t) + 32);
    sprintf(u, "rows = 4\n%s", t);
    /* Line 1 is the stray key; BASE moves down by one. */
    expect_one_error(u, 1, "rows: key outside any section (it belongs under [fabric])");
    free(u);
    free(t);
}

static void not_an_integer(void **state)
{
    (void)state;
    expect_variant_error(3, "rows = four", NULL, 3,
                         "[fabric] rows = four: not an integer (an integer between 2 and 1024)");
}

static void integer_with_trailing_junk(void **state)
{
    (void)state;
    expect_variant_error(7, "lanes = 16x", NULL, 7,
                         "[pcu] lanes = 16x: not an integer: unexpected 'x' after 16 (a power of "
                         "two between 1 and 256)");
    expect_variant_error(10, "kib = 64 KiB", NULL, 10,
                         "[pmu] kib = 64 KiB: not an integer: unexpected ' KiB' after 64 (an "
                         "integer between 1 and 1048576)");
    expect_variant_error(11, "banks = 0x10", NULL, 11,
                         "[pmu] banks = 0x10: not an integer: unexpected 'x10' after 0 (an integer "
                         "between 1 and 256)");
}

static void integer_overflow(void **state)
{
    (void)state;
    expect_variant_error(5, "clock_mhz = 99999999999999999999999", NULL, 5,
                         "[fabric] clock_mhz = 99999999999999999999999: must be an integer "
                         "between 1 and 10000");
    expect_variant_error(5, "clock_mhz = 4294968296", NULL, 5,   /* 2^32 + 1000 must not wrap */
                         "[fabric] clock_mhz = 4294968296: must be an integer between 1 and 10000");
}

static void missing_value(void **state)
{
    (void)state;
    expect_variant_error(8, "stages =", NULL, 8,
                         "[pcu] stages: missing value (an integer between 1 and 64)");
}

static void integer_out_of_range(void **state)
{
    (void)state;
    expect_variant_error(3, "rows = 1", NULL, 3, "[fabric] rows = 1: must be an integer between 2 and 1024");
    expect_variant_error(4, "cols = 1025", NULL, 4,
                         "[fabric] cols = 1025: must be an integer between 2 and 1024");
    expect_variant_error(8, "stages = -1", NULL, 8, "[pcu] stages = -1: must be an integer between 1 and 64");
    expect_variant_error(13, "vector_links = 0", NULL, 13,
                         "[network] vector_links = 0: must be an integer between 1 and 64");
    expect_variant_error(0, NULL, "[fabric]\n", 18, "section [fabric] appears twice (first at line 1)");
}

static void lanes_must_be_a_power_of_two(void **state)
{
    (void)state;
    expect_variant_error(7, "lanes = 12", NULL, 7,
                         "[pcu] lanes = 12: must be a power of two between 1 and 256");
    expect_variant_error(7, "lanes = 512", NULL, 7,
                         "[pcu] lanes = 512: must be a power of two between 1 and 256");
}

static void agcus_must_be_even(void **state)
{
    (void)state;
    expect_variant_error(16, "agcus = 3", NULL, 16,
                         "[dram] agcus = 3: must be even (half on the west edge, half on the east)");
}

static void agcus_at_most_twice_rows(void **state)
{
    (void)state;
    /* rows = 4, so at most 8. */
    expect_variant_error(16, "agcus = 10", NULL, 16,
                         "[dram] agcus = 10: must be at most 2 x rows = 8 (one per edge switch)");
}

static void gbps_must_be_positive(void **state)
{
    (void)state;
    expect_variant_error(17, "gbps = 0", NULL, 17, "[dram] gbps = 0: must be a number from 0.001 to 1000000");
    expect_variant_error(17, "gbps = -3.5", NULL, 17, "[dram] gbps = -3.5: must be a number from 0.001 to 1000000");
    expect_variant_error(17, "gbps = fast", NULL, 17,
                         "[dram] gbps = fast: not a finite number (a number from 0.001 to 1000000)");
    expect_variant_error(17, "gbps = inf", NULL, 17, "[dram] gbps = inf: not a finite number (a number from 0.001 to 1000000)");
    expect_variant_error(17, "gbps = nan", NULL, 17, "[dram] gbps = nan: not a finite number (a number from 0.001 to 1000000)");
    expect_variant_error(17, "gbps = 1e-400", NULL, 17, "[dram] gbps = 1e-400: must be a number from 0.001 to 1000000");
    expect_variant_error(17, "gbps = 1e400", NULL, 17, "[dram] gbps = 1e400: not a finite number (a number from 0.001 to 1000000)");
    expect_variant_error(17, "gbps = 12.8GB", NULL, 17,
                         "[dram] gbps = 12.8GB: not a finite number (a number from 0.001 to 1000000)");
}

static void latency_must_not_be_negative(void **state)
{
    (void)state;
    expect_variant_error(0, NULL, "latency_ns = -1\n", 18,
                         "[dram] latency_ns = -1: must be a number from 0 to 1000000");
    /* Absurd values the model cannot compute with (a DRAM load of -9e18
     * cycles once): bounded by the contract's ranges. */
    expect_variant_error(0, NULL, "latency_ns = 1e308\n", 18,
                         "[dram] latency_ns = 1e308: must be a number from 0 to 1000000");
    expect_variant_error(17, "gbps = 1e-300", NULL, 17,
                         "[dram] gbps = 1e-300: must be a number from 0.001 to 1000000");
    expect_variant_error(17, "gbps = 1000001", NULL, 17,
                         "[dram] gbps = 1000001: must be a number from 0.001 to 1000000");
}

static void name_too_long(void **state)
{
    (void)state;
    char line[200];
    snprintf(line, sizeof line, "name = %0150d", 7);
    char want[300];
    snprintf(want, sizeof want, "[fabric] name = %0150d: longer than 127 characters", 7);
    expect_variant_error(2, line, NULL, 2, want);
}

static void line_without_equals(void **state)
{
    (void)state;
    expect_variant_error(8, "stages = 3\nstages 3", NULL, 9, "expected '[section]' or 'key = value', found 'stages 3'");
    expect_variant_error(0, NULL, "   more text\n", 18,
                         "indented line 'more text' without '=': multi-line values are not supported");
}

static void section_header_without_bracket(void **state)
{
    (void)state;
    /* A known name reads on as if the ']' were there: one error only. */
    expect_variant_error(9, "[pmu", NULL, 9, "section header '[pmu' has no closing ']'");
    /* An unknown one: its keys are skipped rather than put into [pcu]. */
    expect_variant_error(0, NULL, "[memory\nsize = 1\n", 18, "section header '[memory' has no closing ']'");
    expect_variant_error(9, "[pmu] kib = 3", NULL, 9, "unexpected text 'kib = 3' after section header");
}

static void line_too_long(void **state)
{
    (void)state;
    char line[400];
    snprintf(line, sizeof line, "# %0300d", 1);
    expect_variant_error(0, NULL, line, 18, "line longer than 196 characters");
}

static void every_error_is_reported(void **state)
{
    (void)state;
    /* Four independent mistakes, found by different checks (the unknown key
     * while parsing, the others after): all are reported, in line order. */
    char *t = variant(3, "rows = 0", "speed = 3\n");
    char *p = strstr(t, "lanes = 8");
    p[8] = '6';   /* lanes = 6 */
    p = strstr(t, "gbps = 32");
    p[7] = 'x';   /* gbps = 3x */
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    assert_int_equal(fab_load_string("t.cfg", t, &f, &d), -1);
    assert_int_equal(d.n_errors, 4);
    assert_int_equal(d.items[0].loc.line, 3);
    assert_int_equal(d.items[1].loc.line, 7);
    assert_int_equal(d.items[2].loc.line, 17);
    assert_int_equal(d.items[3].loc.line, 18);
    assert_non_null(strstr(d.items[3].msg, "[dram] speed: unknown key"));
    /* Printed with the file, the line and the quoted source line. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    diag_print(out, &d);
    fclose(out);
    assert_non_null(strstr(buf, "t.cfg:7: error: [pcu] lanes = 6: must be a power of two between 1 "
                                "and 256\n    lanes = 6\n"));
    free(buf);
    diag_free(&d);
    free(t);
}

static void missing_file_is_an_error(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    assert_int_equal(fab_load_file("/nonexistent/fabric.cfg", &f, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.items[0].loc.file, "/nonexistent/fabric.cfg");
    assert_string_equal(d.items[0].msg, "cannot open fabric file: No such file or directory");
    diag_free(&d);
    diag_init(&d);
    assert_int_equal(fab_load_file(FABRIC_DIR, &f, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.items[0].msg, "cannot read fabric file: Is a directory");
    diag_free(&d);
}

static void file_with_nul_byte_is_an_error(void **state)
{
    (void)state;
    char path[] = "/tmp/rdumap-fabric-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "wb");
    fwrite("[fabric]\0name = x\n", 1, 19, fp);
    fclose(fp);
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    assert_int_equal(fab_load_file(path, &f, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.items[0].msg, "not a text file: it contains a NUL byte");
    diag_free(&d);
    remove(path);
}

static void empty_text_reports_every_required_key(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    assert_int_equal(fab_load_string("e.cfg", "", &f, &d), -1);
    /* name rows cols clock_mhz lanes stages kib banks vector_links
     * scalar_links agcus gbps: 12 required keys. */
    assert_int_equal(d.n_errors, 12);
    diag_free(&d);
}

/* Thousands of random corruptions of a real fabric file: each must load,
 * or fail with at least one error, every error inside the text's lines. */
static void corrupted_files_never_crash(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/plasticine.cfg", FABRIC_DIR);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char orig[8192];
    size_t n = fread(orig, 1, sizeof orig - 1, fp);
    fclose(fp);
    orig[n] = '\0';
    int lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += orig[i] == '\n';
    static const char alphabet[] = "[]=:;# \t\n0123456789-+.exaz_\xff";
    prng p;
    prng_seed(&p, 7);
    int failed = 0;
    for (int round = 0; round < 3000; round++) {
        char text[8192];
        memcpy(text, orig, n + 1);
        int edits = 1 + (int)prng_below(&p, 4);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)prng_below(&p, n);
            text[at] = alphabet[prng_below(&p, sizeof alphabet - 1)];
        }
        diag_list d;
        diag_init(&d);
        fab_fabric f;
        int rc = fab_load_string("c.cfg", text, &f, &d);
        assert_true((rc == 0) == (d.n_errors == 0));
        for (int i = 0; i < d.n; i++)
            assert_true(d.items[i].loc.line >= 0 && d.items[i].loc.line <= lines + 1);
        if (rc == 0) {   /* what loads obeys the contract */
            assert_true(f.lanes >= 1 && (f.lanes & (f.lanes - 1)) == 0);
            assert_true(f.agcus % 2 == 0 && f.agcus <= 2 * f.rows);
            assert_true(f.n_pcus + f.n_pmus == f.rows * f.cols);
        }
        failed += rc != 0;
        diag_free(&d);
    }
    /* Most corruptions break something; some (in comments) do not. */
    assert_true(failed > 300 && failed < 3000);
}

/* ------------------------------------------------------------- the model */

static void checkerboard(void **state)
{
    (void)state;
    char *t = variant(0, NULL, NULL);
    fab_fabric f;
    load_ok(t, &f);
    free(t);
    int pcus = 0, pmus = 0;
    for (int r = 0; r < f.rows; r++)
        for (int c = 0; c < f.cols; c++) {
            fab_unit_kind k = fab_unit_at(&f, r, c);
            assert_int_equal(k, (r + c) % 2 == 0 ? FAB_PCU : FAB_PMU);
            pcus += k == FAB_PCU;
            pmus += k == FAB_PMU;
            /* Every neighbour is of the other kind. */
            if (c + 1 < f.cols)
                assert_int_not_equal(k, fab_unit_at(&f, r, c + 1));
            if (r + 1 < f.rows)
                assert_int_not_equal(k, fab_unit_at(&f, r + 1, c));
        }
    assert_int_equal(pcus, f.n_pcus);
    assert_int_equal(pmus, f.n_pmus);
    assert_int_equal(fab_unit_at(&f, 0, 0), FAB_PCU);
    assert_int_equal(fab_unit_at(&f, 0, 1), FAB_PMU);
    assert_int_equal(fab_unit_at(&f, 3, 5), FAB_PCU);
}

static void agcu_sites(void **state)
{
    (void)state;
    fab_fabric f;
    memset(&f, 0, sizeof f);
    f.rows = 10;
    f.cols = 7;
    f.agcus = 4;
    /* Two per edge, at the middles of rows 0-4 and 5-9: floor(10/4) = 2 and
     * floor(30/4) = 7. */
    int want[4][2] = {{2, 0}, {7, 0}, {2, 6}, {7, 6}};
    for (int k = 0; k < 4; k++) {
        int r, c;
        fab_agcu_site(&f, k, &r, &c);
        assert_int_equal(r, want[k][0]);
        assert_int_equal(c, want[k][1]);
    }
    /* At the maximum, 2 x rows, there is one per row on each edge. */
    f.agcus = 20;
    for (int k = 0; k < 20; k++) {
        int r, c;
        fab_agcu_site(&f, k, &r, &c);
        assert_int_equal(r, k % 10);
        assert_int_equal(c, k < 10 ? 0 : 6);
    }
    /* Any legal count: rows on one edge distinct and in range. */
    for (f.agcus = 2; f.agcus <= 20; f.agcus += 2) {
        int prev = -1;
        for (int k = 0; k < f.agcus / 2; k++) {
            int r, c;
            fab_agcu_site(&f, k, &r, &c);
            assert_true(r > prev);
            assert_true(r < f.rows);
            prev = r;
        }
    }
}

/* Peaks of the shipped fabrics, worked out by hand. */
static void plasticine_peaks(void **state)
{
    (void)state;
    fab_fabric f;
    load_shipped("plasticine.cfg", &f);
    assert_string_equal(f.name, "plasticine");
    /* 8 x 16 = 128 units: 64 PCUs, 64 PMUs. */
    assert_int_equal(f.n_pcus, 64);
    assert_int_equal(f.n_pmus, 64);
    /* 64 x 16 lanes x 6 stages x 2 = 12288 FLOP/cycle; x 1e9 Hz = 12.288e12. */
    assert_true(fab_peak_flop_per_cycle(&f) == 12288.0);
    assert_true(fab_peak_flops(&f) == 12288.0 * 1e9);
    /* 64 x 256 KiB x 1024 = 16777216 B = 16 MiB. */
    assert_int_equal(fab_onchip_bytes(&f), 16777216);
    /* 51.2 GB/s / 1 GHz = 51.2 B/cycle. */
    assert_true(fab_dram_bytes_per_cycle(&f) > 51.2 - 1e-9 && fab_dram_bytes_per_cycle(&f) < 51.2 + 1e-9);
    /* 100 ns x 1 GHz = 100 cycles. */
    assert_int_equal(fab_dram_latency_cycles(&f), 100);
    assert_int_equal(f.vector_links, 2);
    assert_int_equal(f.scalar_links, 4);
    assert_int_equal(f.control_links, 1);
}

static void sn10_peaks(void **state)
{
    (void)state;
    fab_fabric f;
    load_shipped("sn10.cfg", &f);
    assert_string_equal(f.name, "sn10");
    /* 32 x 40 = 1280 units: 640 and 640. */
    assert_int_equal(f.n_pcus, 640);
    assert_int_equal(f.n_pmus, 640);
    /* 640 x 32 x 6 x 2 = 245760 FLOP/cycle; x 1.25e9 = 307.2e12 > 300e12. */
    assert_true(fab_peak_flop_per_cycle(&f) == 245760.0);
    assert_true(fab_peak_flops(&f) == 307.2e12);
    assert_true(fab_peak_flops(&f) > 300e12);
    /* 640 x 512 KiB = 327680 KiB = 320 MiB = 335544320 B. */
    assert_int_equal(fab_onchip_bytes(&f), 335544320);
    /* 128e9 B/s / 1.25e9 cycles/s = 102.4 B/cycle. */
    assert_true(fab_dram_bytes_per_cycle(&f) > 102.4 - 1e-9 && fab_dram_bytes_per_cycle(&f) < 102.4 + 1e-9);
    /* 100 ns x 1.25 GHz = 125 cycles exactly (must not round up to 126). */
    assert_int_equal(fab_dram_latency_cycles(&f), 125);
}

static void tiny_peaks(void **state)
{
    (void)state;
    fab_fabric f;
    load_shipped("tiny.cfg", &f);
    assert_int_equal(f.rows, 4);
    assert_int_equal(f.cols, 4);
    /* 8 PCUs x 4 lanes x 4 stages x 2 = 256 FLOP/cycle. */
    assert_int_equal(f.n_pcus, 8);
    assert_true(fab_peak_flop_per_cycle(&f) == 256.0);
    /* 8 PMUs x 16 KiB = 131072 B. */
    assert_int_equal(fab_onchip_bytes(&f), 131072);
    /* 16 GB/s at 1 GHz = 16 B/cycle. */
    assert_true(fab_dram_bytes_per_cycle(&f) == 16.0);
}

static void latency_rounds_up(void **state)
{
    (void)state;
    fab_fabric f;
    memset(&f, 0, sizeof f);
    f.clock_mhz = 1000;
    f.dram_latency_ns = 10.2;   /* 10.2 cycles -> 11 */
    assert_int_equal(fab_dram_latency_cycles(&f), 11);
    f.dram_latency_ns = 0;
    assert_int_equal(fab_dram_latency_cycles(&f), 0);
}

static void builtin_default_is_sn10_cfg(void **state)
{
    (void)state;
    fab_fabric a, b;
    load_shipped("sn10.cfg", &a);
    diag_list d;
    diag_init(&d);
    assert_int_equal(fab_load_default(&b, &d), 0);
    assert_int_equal(d.n, 0);
    diag_free(&d);
    assert_string_equal(b.source, "<built-in sn10>");
    /* Equal in every field but the source. */
    memset(a.source, 0, sizeof a.source);
    memset(b.source, 0, sizeof b.source);
    assert_memory_equal(&a, &b, sizeof a);
    /* And the loader did fill it: not two zeroed structs. */
    assert_int_equal(b.n_pcus, 640);
}

static void describe_names_the_figures(void **state)
{
    (void)state;
    fab_fabric f;
    load_shipped("sn10.cfg", &f);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    fab_describe(out, &f);
    fclose(out);
    const char *want[] = {
        "fabric sn10 (from ",
        "32 rows x 40 cols = 1280 units",
        "640 PCUs, 640 PMUs, 32 AGCUs",
        "1250 MHz",
        "32 lanes x 6 stages",
        "512 KiB scratchpad in 32 banks",
        "4 vector, 4 scalar, 2 control links",
        "16 on the west edge (col 0, rows 1 3 5",
        "16 on the east (col 39,",
        "128 GB/s",
        "245760 FLOP/cycle (PCUs x lanes x stages x 2) = 307.200 TFLOP/s",
        "320.00 MiB = 327680 KiB",
        "102.400 bytes/cycle; latency 125 cycles",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(buf, want[i]))
            fprintf(stderr, "missing '%s' in:\n%s", want[i], buf);
        assert_non_null(strstr(buf, want[i]));
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_loads_with_every_default),
        cmocka_unit_test(optional_keys_override_defaults),
        cmocka_unit_test(comments_blank_lines_and_spacing_are_accepted),
        cmocka_unit_test(unknown_section),
        cmocka_unit_test(unknown_key),
        cmocka_unit_test(duplicate_key),
        cmocka_unit_test(duplicate_section),
        cmocka_unit_test(missing_required_key),
        cmocka_unit_test(missing_section),
        cmocka_unit_test(key_outside_any_section),
        cmocka_unit_test(not_an_integer),
        cmocka_unit_test(integer_with_trailing_junk),
        cmocka_unit_test(integer_overflow),
        cmocka_unit_test(missing_value),
        cmocka_unit_test(integer_out_of_range),
        cmocka_unit_test(lanes_must_be_a_power_of_two),
        cmocka_unit_test(agcus_must_be_even),
        cmocka_unit_test(agcus_at_most_twice_rows),
        cmocka_unit_test(gbps_must_be_positive),
        cmocka_unit_test(latency_must_not_be_negative),
        cmocka_unit_test(name_too_long),
        cmocka_unit_test(line_without_equals),
        cmocka_unit_test(section_header_without_bracket),
        cmocka_unit_test(line_too_long),
        cmocka_unit_test(every_error_is_reported),
        cmocka_unit_test(missing_file_is_an_error),
        cmocka_unit_test(file_with_nul_byte_is_an_error),
        cmocka_unit_test(empty_text_reports_every_required_key),
        cmocka_unit_test(corrupted_files_never_crash),
        cmocka_unit_test(checkerboard),
        cmocka_unit_test(agcu_sites),
        cmocka_unit_test(plasticine_peaks),
        cmocka_unit_test(sn10_peaks),
        cmocka_unit_test(tiny_peaks),
        cmocka_unit_test(latency_rounds_up),
        cmocka_unit_test(builtin_default_is_sn10_cfg),
        cmocka_unit_test(describe_names_the_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
