/*
 * test_data.c — patterns/pat_data.c: .npy reading and writing, the input
 * generator, and all-or-nothing output.
 *
 * Declarations and programs are built by hand here, so these tests depend
 * only on the tensor helpers of pat.h, not on the parser.  Every malformed
 * file class has its own case, checked for the file named in the
 * diagnostic and the words that tell the user what was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patterns/pat.h"
#include "patterns/pat_data.h"
#include "util/prng.h"

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rdumap-test-data-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (dir) {
            struct dirent *e;
            while ((e = readdir(dir)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[512];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    return 0;
}

static const char *in_tmp(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static pat_decl make_decl(const char *name, pat_decl_kind kind, pat_elem e, int rank, ...)
{
    pat_decl decl;
    memset(&decl, 0, sizeof decl);
    decl.kind = kind;
    decl.name = name;
    decl.loc = diag_at_file("test.pat");
    decl.type.elem = e;
    decl.type.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++)
        decl.type.dims[i] = va_arg(ap, int);
    va_end(ap);
    return decl;
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A .npy file with the given version, header text and `ndata` data bytes
 * (a counting pattern), exactly as a hand-crafted or foreign file would be. */
static void write_npy_len(const char *path, int major, int minor, const char *header, size_t hl,
                          size_t ndata)
{
    size_t lb = major == 1 ? 2 : 4;
    size_t n = 8 + lb + hl + ndata;
    unsigned char *b = malloc(n);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = (unsigned char)minor;
    for (size_t i = 0; i < lb; i++)
        b[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(b + 8 + lb, header, hl);
    for (size_t i = 0; i < ndata; i++)
        b[8 + lb + hl + i] = (unsigned char)i;
    write_bytes(path, b, n);
    free(b);
}

static void write_npy(const char *path, int major, int minor, const char *header, size_t ndata)
{
    write_npy_len(path, major, minor, header, strlen(header), ndata);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *b = malloc(1 << 20);
    assert_non_null(b);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

/* The read must fail, with one error that names `path` and contains each
 * of the given fragments. */
static void expect_read_error(const char *name, const pat_decl *decl, const char *frag1,
                              const char *frag2)
{
    const char *path = in_tmp(name);
    diag_list d;
    diag_init(&d);
    pat_tensor t;
    assert_int_equal(pat_npy_read(path, decl, &t, &d), -1);
    assert_null(t.data.p);
    assert_int_equal(d.n_errors, 1);
    assert_non_null(d.items[0].loc.file);
    assert_string_equal(d.items[0].loc.file, path);
    if (!strstr(d.items[0].msg, frag1) || (frag2 && !strstr(d.items[0].msg, frag2)))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", d.items[0].msg, frag1,
                 frag2 ? frag2 : "");
    diag_free(&d);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */

static void npy_round_trips_every_dtype_and_rank(void **state)
{
    (void)state;
    static const int dims[4] = {3, 5, 2, 4};
    for (int e = 0; e < 2; e++) {
        for (int rank = 0; rank <= 4; rank++) {
            pat_decl decl = make_decl("x", PAT_INPUT, e ? PAT_I32 : PAT_F32, 0);
            decl.type.rank = rank;
            for (int i = 0; i < rank; i++)
                decl.type.dims[i] = dims[i];
            pat_tensor t;
            assert_int_equal(pat_tensor_alloc(&t, &decl.type), 0);
            for (int64_t k = 0; k < t.count; k++) {
                if (e)
                    t.data.i[k] = (int32_t)(k * 2654435761u) ^ INT32_MIN;
                else
                    t.data.f[k] = (float)k * -1.25f + 0.1f;
            }
            if (!e && t.count >= 4) { /* special values survive bit for bit */
                t.data.f[0] = -0.0f;
                t.data.f[1] = INFINITY;
                t.data.f[2] = NAN;
            }
            diag_list d;
            diag_init(&d);
            const char *path = in_tmp("rt.npy");
            assert_int_equal(pat_npy_write(path, &t, &d), 0);

            size_t len = 0;
            unsigned char *raw = slurp(path, &len);
            assert_non_null(raw);
            assert_memory_equal(raw, "\x93NUMPY\x01\x00", 8);
            size_t hlen = raw[8] | (size_t)raw[9] << 8;
            assert_int_equal((10 + hlen) % 64, 0);
            assert_int_equal(raw[10 + hlen - 1], '\n');
            assert_int_equal(len, 10 + hlen + 4 * (size_t)t.count);
            /* Little-endian on disk, whatever the host. */
            uint32_t v0;
            memcpy(&v0, t.data.p, 4);
            assert_int_equal(raw[10 + hlen], v0 & 0xff);
            free(raw);

            pat_tensor back;
            assert_int_equal(pat_npy_read(path, &decl, &back, &d), 0);
            assert_false(diag_has_errors(&d));
            assert_int_equal(back.count, t.count);
            assert_true(pat_type_equal(&back.type, &decl.type));
            assert_memory_equal(back.data.p, t.data.p, 4 * (size_t)t.count);
            pat_tensor_free(&back);
            pat_tensor_free(&t);
            diag_free(&d);
        }
    }
}

static void npy_writes_numpy_style_header(void **state)
{
    (void)state;
    pat_decl decl = make_decl("x", PAT_INPUT, PAT_F32, 2, 256, 128);
    pat_tensor t;
    assert_int_equal(pat_tensor_alloc(&t, &decl.type), 0);
    diag_list d;
    diag_init(&d);
    assert_int_equal(pat_npy_write(in_tmp("h.npy"), &t, &d), 0);
    size_t len = 0;
    unsigned char *raw = slurp(in_tmp("h.npy"), &len);
    const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (256, 128), }";
    assert_memory_equal(raw + 10, want, strlen(want));
    free(raw);
    /* A 1-d shape carries its comma, a 0-d one is (). */
    pat_decl one = make_decl("y", PAT_INPUT, PAT_I32, 1, 7);
    pat_decl zero = make_decl("z", PAT_INPUT, PAT_I32, 0);
    pat_tensor t1, t0;
    assert_int_equal(pat_tensor_alloc(&t1, &one.type), 0);
    assert_int_equal(pat_tensor_alloc(&t0, &zero.type), 0);
    assert_int_equal(pat_npy_write(in_tmp("h1.npy"), &t1, &d), 0);
    assert_int_equal(pat_npy_write(in_tmp("h0.npy"), &t0, &d), 0);
    raw = slurp(in_tmp("h1.npy"), &len);
    assert_non_null(strstr((char *)raw + 10, "'shape': (7,), }"));
    free(raw);
    raw = slurp(in_tmp("h0.npy"), &len);
    assert_non_null(strstr((char *)raw + 10, "'shape': (), }"));
    assert_int_equal(len, 128 + 4); /* as np.save(np.int32(0)): 10 + 56 + '\n' pads to 128 */
    free(raw);
    pat_tensor_free(&t);
    pat_tensor_free(&t1);
    pat_tensor_free(&t0);
    diag_free(&d);
}

/* Headers as other writers produce them: any key order, double quotes,
 * no trailing comma, odd spacing, versions 2.0 and 3.0, native '=' order,
 * Python 2 long suffixes. */
static void npy_reads_foreign_headers(void **state)
{
    (void)state;
    static const struct {
        int major;
        const char *header;
    } cases[] = {
        {1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4'}\n"},
        {1, "{\"descr\":\"<i4\",\"fortran_order\":False,\"shape\":(2,3),}"},
        {1, "{ 'fortran_order' : False ,\n 'shape' : ( 2 , 3 , ) , 'descr' : '=i4' , }   \n"},
        {1, "{'descr': 'i4', 'fortran_order': False, 'shape': (2L, 3L), }\n"},
        {2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }\n"},
        {3, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }\n"},
    };
    pat_decl decl = make_decl("x", PAT_INPUT, PAT_I32, 2, 2, 3);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        write_npy(in_tmp("f.npy"), cases[c].major, 0, cases[c].header, 24);
        diag_list d;
        diag_init(&d);
        pat_tensor t;
        int rc = pat_npy_read(in_tmp("f.npy"), &decl, &t, &d);
        if (rc != 0)
            fail_msg("case %zu rejected: %s", c, d.n ? d.items[0].msg : "?");
        assert_int_equal(t.data.i[0], 0x03020100);
        assert_int_equal(t.data.i[5], 0x17161514);
        pat_tensor_free(&t);
        diag_free(&d);
    }
}

/* ------------------------------------------------------------------ */
/* Malformed files: one case per class                                 */

#define GOOD_F32_2x3 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"

static void npy_rejects_bad_magic_and_version(void **state)
{
    (void)state;
    pat_decl decl = make_decl("A", PAT_INPUT, PAT_F32, 2, 2, 3);
    write_bytes(in_tmp("m.npy"), "PK\x03\x04 this is a zip", 18);
    expect_read_error("m.npy", &decl, "not a NumPy .npy file", NULL);
    write_bytes(in_tmp("e.npy"), "", 0);
    expect_read_error("e.npy", &decl, "not a NumPy .npy file", NULL);
    write_npy(in_tmp("v4.npy"), 4, 0, GOOD_F32_2x3, 24);
    expect_read_error("v4.npy", &decl, "version 4.0", "1.0, 2.0 and 3.0");
    write_npy(in_tmp("v11.npy"), 1, 1, GOOD_F32_2x3, 24);
    expect_read_error("v11.npy", &decl, "version 1.1", NULL);
    write_npy(in_tmp("v0.npy"), 0, 0, GOOD_F32_2x3, 24);
    expect_read_error("v0.npy", &decl, "version 0.0", NULL);
    expect_read_error("does-not-exist.npy", &decl, "cannot open data for input 'A'",
                      "No such file");
    assert_int_equal(mkdir(in_tmp("dir.npy"), 0777), 0);
    expect_read_error("dir.npy", &decl, "not a regular file", "it is a directory");
}

static void npy_rejects_bad_headers(void **state)
{
    (void)state;
    static const struct {
        const char *header, *frag;
    } cases[] = {
        {"['descr', '<f4']\n", "not a Python dict"},
        {"{'descr': '<f4', 'shape': (2, 3), }\n", "'fortran_order' is missing"},
        {"{'descr': '<f4', 'fortran_order': False, }\n", "'shape' is missing"},
        {"{'fortran_order': False, 'shape': (2, 3), }\n", "'descr' is missing"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}\n", "unexpected key 'x'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n", "appears twice"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}\n", "not True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}\n", "not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}\n", "(N,)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}\n", "non-negative integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}\n", "expected ',' or ')'"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}\n", "expected ',' or '}'"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}\n", "expected ':'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)\n", "expected ',' or '}'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk\n", "after the dict"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3)}\n", "structured"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'descr: 1}", "unterminated"},
    };
    pat_decl decl = make_decl("A", PAT_INPUT, PAT_F32, 2, 2, 3);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        write_npy(in_tmp("bh.npy"), 1, 0, cases[c].header, 24);
        expect_read_error("bh.npy", &decl, "malformed .npy header", cases[c].frag);
    }
    /* A header length running past the end of the file. */
    unsigned char b[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{', '}'};
    write_bytes(in_tmp("th.npy"), b, sizeof b);
    expect_read_error("th.npy", &decl, "truncated", "header should have 100 bytes");
    static const char nul[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\0 \n";
    write_npy_len(in_tmp("nul.npy"), 1, 0, nul, sizeof nul - 1, 24);
    expect_read_error("nul.npy", &decl, "malformed .npy header", "NUL byte");
}

static void npy_rejects_wrong_dtype_and_byte_order(void **state)
{
    (void)state;
    pat_decl f = make_decl("A", PAT_INPUT, PAT_F32, 2, 2, 3);
    pat_decl i = make_decl("k", PAT_INPUT, PAT_I32, 2, 2, 3);
    write_npy(in_tmp("f8.npy"), 1, 0,
              "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 48);
    expect_read_error("f8.npy", &f, "dtype '<f8' is not supported", "expected '<f4'");
    write_npy(in_tmp("i4.npy"), 1, 0,
              "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }\n", 24);
    expect_read_error("i4.npy", &f, "dtype '<i4' (i32) does not match the declared element type f32",
                      NULL);
    write_npy(in_tmp("f4.npy"), 1, 0, GOOD_F32_2x3, 24);
    expect_read_error("f4.npy", &i, "dtype '<f4' (f32) does not match the declared element type i32",
                      "expected '<i4'");
    write_npy(in_tmp("be.npy"), 1, 0,
              "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24);
    expect_read_error("be.npy", &f, "big-endian", "expected little-endian '<f4'");
    write_npy(in_tmp("na.npy"), 1, 0,
              "{'descr': '|f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24);
    expect_read_error("na.npy", &f, "byte order '|'", NULL);
    write_npy(in_tmp("u1.npy"), 1, 0,
              "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }\n", 6);
    expect_read_error("u1.npy", &f, "dtype '|u1' is not supported", NULL);
}

static void npy_rejects_fortran_order_and_wrong_shape(void **state)
{
    (void)state;
    pat_decl decl = make_decl("A", PAT_INPUT, PAT_F32, 2, 2, 3);
    write_npy(in_tmp("fo.npy"), 1, 0,
              "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24);
    expect_read_error("fo.npy", &decl, "Fortran order", "only C order");
    /* The same flag on a 1-d array changes nothing about the layout. */
    pat_decl vec = make_decl("v", PAT_INPUT, PAT_F32, 1, 6);
    write_npy(in_tmp("fo1.npy"), 1, 0,
              "{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }\n", 24);
    diag_list d;
    diag_init(&d);
    pat_tensor t;
    assert_int_equal(pat_npy_read(in_tmp("fo1.npy"), &vec, &t, &d), 0);
    pat_tensor_free(&t);
    diag_free(&d);

    pat_decl big = make_decl("A", PAT_INPUT, PAT_F32, 2, 256, 256);
    write_npy(in_tmp("ws.npy"), 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (256, 128), }\n", 256 * 128 * 4);
    expect_read_error("ws.npy", &big, "shape (256, 128) does not match declared f32[256][256]",
                      NULL);
    pat_decl scalar = make_decl("s", PAT_INPUT, PAT_F32, 0);
    write_npy(in_tmp("s1.npy"), 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", 4);
    expect_read_error("s1.npy", &scalar, "shape (1,) does not match declared f32", NULL);
    write_npy(in_tmp("s0.npy"), 1, 0,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4);
    expect_read_error("s0.npy", &vec, "shape () does not match declared f32[6]", NULL);
}

static void npy_rejects_truncated_and_trailing_data(void **state)
{
    (void)state;
    pat_decl decl = make_decl("A", PAT_INPUT, PAT_F32, 2, 2, 3);
    write_npy(in_tmp("tr.npy"), 1, 0, GOOD_F32_2x3, 23);
    expect_read_error("tr.npy", &decl, "truncated", "expected, found 23 bytes");
    write_npy(in_tmp("tr0.npy"), 1, 0, GOOD_F32_2x3, 0);
    expect_read_error("tr0.npy", &decl, "truncated", "found 0 bytes");
    write_npy(in_tmp("tb.npy"), 1, 0, GOOD_F32_2x3, 25);
    expect_read_error("tb.npy", &decl, "1 trailing byte ", NULL);
    write_npy(in_tmp("tb2.npy"), 1, 0, GOOD_F32_2x3, 48);
    expect_read_error("tb2.npy", &decl, "24 trailing bytes", NULL);
}

/* Thousands of corrupted copies of a good file (bytes flipped, cut short,
 * extended): the reader must never crash, and must either accept the file
 * or reject it with exactly one error naming it.  A deterministic cousin of
 * the libFuzzer target fuzz_npy.c that runs in every test build. */
static void npy_reader_survives_corrupted_files(void **state)
{
    (void)state;
    pat_decl decl = make_decl("A", PAT_INPUT, PAT_F32, 2, 2, 3);
    pat_tensor t;
    assert_int_equal(pat_tensor_alloc(&t, &decl.type), 0);
    diag_list d;
    diag_init(&d);
    assert_int_equal(pat_npy_write(in_tmp("good.npy"), &t, &d), 0);
    pat_tensor_free(&t);
    size_t len = 0;
    unsigned char *good = slurp(in_tmp("good.npy"), &len);
    assert_int_equal(len, 128 + 24);
    unsigned char buf[256];
    prng g;
    prng_seed(&g, 2026);
    int accepted = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, good, len);
        size_t n = len;
        int edits = 1 + (int)prng_below(&g, 3);
        for (int e = 0; e < edits; e++) {
            switch (prng_below(&g, 4)) {
            case 0: buf[prng_below(&g, n)] = (unsigned char)prng_below(&g, 256); break;
            case 1: buf[prng_below(&g, n)] ^= (unsigned char)(1u << prng_below(&g, 8)); break;
            case 2: n = (size_t)prng_below(&g, n + 1); break;
            default: /* a printable byte in the header, where the grammar lives */
                if (n > 11)
                    buf[10 + prng_below(&g, n - 10 < 60 ? n - 10 : 60)] =
                        (unsigned char)(' ' + prng_below(&g, 95));
            }
            if (n == 0)
                break;
        }
        write_bytes(in_tmp("bad.npy"), buf, n);
        int rc = pat_npy_read(in_tmp("bad.npy"), &decl, &t, &d);
        if (rc == 0) {
            accepted++;
            assert_int_equal(d.n_errors, 0);
            pat_tensor_free(&t);
        } else {
            assert_null(t.data.p);
            assert_int_equal(d.n_errors, 1);
            assert_string_equal(d.items[0].loc.file, in_tmp("bad.npy"));
        }
        diag_free(&d);
        diag_init(&d);
    }
    /* Flips inside the data or the padding are harmless: some pass. */
    assert_true(accepted > 0 && accepted < 3000);
    free(good);
    diag_free(&d);
}

/* ------------------------------------------------------------------ */
/* The generator                                                       */

static void generator_is_deterministic_per_seed_and_name(void **state)
{
    (void)state;
    pat_decl a = make_decl("A", PAT_INPUT, PAT_F32, 2, 16, 16);
    pat_decl b = make_decl("B", PAT_INPUT, PAT_F32, 2, 16, 16);
    diag_list d;
    diag_init(&d);
    pat_tensor t1, t2, t3, t4;
    assert_int_equal(pat_generate(&a, 7, &t1, &d), 0);
    assert_int_equal(pat_generate(&a, 7, &t2, &d), 0);
    assert_int_equal(pat_generate(&b, 7, &t3, &d), 0);
    assert_int_equal(pat_generate(&a, 8, &t4, &d), 0);
    assert_memory_equal(t1.data.p, t2.data.p, 4 * 256);
    assert_memory_not_equal(t1.data.p, t3.data.p, 4 * 256);
    assert_memory_not_equal(t1.data.p, t4.data.p, 4 * 256);
    /* Pinned: the documented rule, element 0 of A for seed 7. */
    prng g;
    prng_seed_stream(&g, 7, "A");
    float want = (float)(-1.0 + 2.0 * prng_unit(&g));
    assert_true(t1.data.f[0] == want);
    pat_tensor_free(&t1);
    pat_tensor_free(&t2);
    pat_tensor_free(&t3);
    pat_tensor_free(&t4);
    diag_free(&d);
}

static void generator_respects_default_and_given_ranges(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    pat_decl f = make_decl("f", PAT_INPUT, PAT_F32, 1, 20000);
    pat_decl i = make_decl("i", PAT_INPUT, PAT_I32, 1, 20000);
    pat_decl g = make_decl("g", PAT_INPUT, PAT_I32, 2, 100, 100);
    g.has_gen = true;
    g.gen_lo = -5;
    g.gen_hi = 3;
    pat_decl h = make_decl("h", PAT_INPUT, PAT_F32, 1, 5000);
    h.has_gen = true;
    h.gen_lo = 2;
    h.gen_hi = 4;
    pat_tensor tf, ti, tg, th;
    assert_int_equal(pat_generate(&f, 1, &tf, &d), 0);
    assert_int_equal(pat_generate(&i, 1, &ti, &d), 0);
    assert_int_equal(pat_generate(&g, 1, &tg, &d), 0);
    assert_int_equal(pat_generate(&h, 1, &th, &d), 0);
    double fmin = 9, fmax = -9, fsum = 0;
    int imin = 1000, imax = -1000, seen[100] = {0};
    for (int k = 0; k < 20000; k++) {
        fmin = fmin < tf.data.f[k] ? fmin : tf.data.f[k];
        fmax = fmax > tf.data.f[k] ? fmax : tf.data.f[k];
        fsum += tf.data.f[k];
        assert_in_range(ti.data.i[k], 0, 99);
        seen[ti.data.i[k]]++;
        imin = imin < ti.data.i[k] ? imin : ti.data.i[k];
        imax = imax > ti.data.i[k] ? imax : ti.data.i[k];
    }
    assert_true(fmin >= -1.0 && fmax < 1.0);
    assert_true(fmin < -0.99 && fmax > 0.99);     /* the whole range is used */
    assert_true(fabs(fsum / 20000) < 0.05);        /* centred */
    assert_int_equal(imin, 0);
    assert_int_equal(imax, 99);
    for (int v = 0; v < 100; v++)
        assert_in_range(seen[v], 100, 300);        /* about 200 each */
    int gmin = 99, gmax = -99;
    for (int k = 0; k < 10000; k++) {
        gmin = gmin < tg.data.i[k] ? gmin : tg.data.i[k];
        gmax = gmax > tg.data.i[k] ? gmax : tg.data.i[k];
    }
    assert_int_equal(gmin, -5);
    assert_int_equal(gmax, 2);
    for (int k = 0; k < 5000; k++)
        assert_true(th.data.f[k] >= 2.0f && th.data.f[k] < 4.0f);
    pat_tensor_free(&tf);
    pat_tensor_free(&ti);
    pat_tensor_free(&tg);
    pat_tensor_free(&th);
    diag_free(&d);
}

/* Where the float spacing is 1, half the draws in [2^24 - 1, 2^24) round
 * up to 2^24: the clamp must keep them below hi. */
static void generator_f32_never_reaches_hi(void **state)
{
    (void)state;
    pat_decl f = make_decl("f", PAT_INPUT, PAT_F32, 1, 1000);
    f.has_gen = true;
    f.gen_lo = 16777215;
    f.gen_hi = 16777216;
    diag_list d;
    diag_init(&d);
    pat_tensor t;
    assert_int_equal(pat_generate(&f, 3, &t, &d), 0);
    for (int k = 0; k < 1000; k++)
        assert_true(t.data.f[k] == 16777215.0f);
    pat_tensor_free(&t);
    diag_free(&d);
}

static void generator_sorted_has_exact_endpoints_and_varied_gaps(void **state)
{
    (void)state;
    pat_decl ptr = make_decl("ptr", PAT_INPUT, PAT_I32, 1, 1025);
    ptr.has_gen = true;
    ptr.gen_lo = 0;
    ptr.gen_hi = 16384;
    ptr.gen_sorted = true;
    diag_list d;
    diag_init(&d);
    pat_tensor t;
    assert_int_equal(pat_generate(&ptr, 42, &t, &d), 0);
    assert_int_equal(t.data.i[0], 0);
    assert_int_equal(t.data.i[1024], 16384);
    int longest = 0, empty = 0;
    for (int r = 0; r < 1024; r++) {
        int len = t.data.i[r + 1] - t.data.i[r];
        assert_true(len >= 0);
        longest = len > longest ? len : longest;
        empty += len == 0;
    }
    assert_true(longest >= 3 * 16);  /* row lengths vary: some rows are long */
    assert_true(empty >= 1);         /* and some are empty, mean 16 */
    pat_tensor_free(&t);

    pat_decl fs = make_decl("fs", PAT_INPUT, PAT_F32, 1, 100);
    fs.has_gen = true;
    fs.gen_lo = -3;
    fs.gen_hi = 5;
    fs.gen_sorted = true;
    assert_int_equal(pat_generate(&fs, 42, &t, &d), 0);
    assert_true(t.data.f[0] == -3.0f && t.data.f[99] == 5.0f);
    for (int k = 0; k < 99; k++)
        assert_true(t.data.f[k] <= t.data.f[k + 1]);
    pat_tensor_free(&t);

    /* Two elements: just the endpoints. */
    pat_decl two = ptr;
    two.type.dims[0] = 2;
    assert_int_equal(pat_generate(&two, 1, &t, &d), 0);
    assert_int_equal(t.data.i[0], 0);
    assert_int_equal(t.data.i[1], 16384);
    pat_tensor_free(&t);
    assert_false(diag_has_errors(&d));
    diag_free(&d);
}

static void generator_handles_scalars_and_rejects_impossible_requests(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    pat_decl s = make_decl("alpha", PAT_INPUT, PAT_F32, 0);
    pat_tensor t;
    assert_int_equal(pat_generate(&s, 5, &t, &d), 0);
    assert_int_equal(t.count, 1);
    assert_true(t.data.f[0] >= -1.0f && t.data.f[0] < 1.0f);
    pat_tensor_free(&t);
    pat_decl n = make_decl("n", PAT_INPUT, PAT_I32, 0);
    n.has_gen = true;
    n.gen_lo = 10;
    n.gen_hi = 11;
    assert_int_equal(pat_generate(&n, 5, &t, &d), 0);
    assert_int_equal(t.data.i[0], 10);
    pat_tensor_free(&t);
    assert_false(diag_has_errors(&d));

    n.gen_sorted = true;
    assert_int_equal(pat_generate(&n, 5, &t, &d), -1);
    assert_null(t.data.p);
    assert_non_null(strstr(d.items[0].msg, "at least 2 elements"));
    pat_decl e = make_decl("e", PAT_INPUT, PAT_I32, 1, 4);
    e.has_gen = true;
    e.gen_lo = 3;
    e.gen_hi = 3;
    assert_int_equal(pat_generate(&e, 5, &t, &d), -1);
    assert_non_null(strstr(d.items[1].msg, "range 3 .. 3 is empty"));
    assert_string_equal(d.items[1].loc.file, "test.pat");
    diag_free(&d);
}

/* ------------------------------------------------------------------ */
/* Whole programs: loading inputs, writing outputs                     */

typedef struct hand_program {
    pat_decl decls[4];
    pat_decl *ptrs[4];
    pat_program p;
    pat_values v;
    pat_tensor t[4];
} hand_program;

/* Inputs x : f32[4], k : i32[3] in 0 .. 9; outputs A : f32[2][2], B : i32[3]. */
static void hand_program_init(hand_program *h)
{
    memset(h, 0, sizeof *h);
    h->decls[0] = make_decl("x", PAT_INPUT, PAT_F32, 1, 4);
    h->decls[1] = make_decl("k", PAT_INPUT, PAT_I32, 1, 3);
    h->decls[1].has_gen = true;
    h->decls[1].gen_hi = 9;
    h->decls[2] = make_decl("A", PAT_OUTPUT, PAT_F32, 2, 2, 2);
    h->decls[3] = make_decl("B", PAT_OUTPUT, PAT_I32, 1, 3);
    for (int i = 0; i < 4; i++) {
        h->decls[i].id = i;
        h->ptrs[i] = &h->decls[i];
    }
    h->p.file = "test.pat";
    h->p.n_decls = 4;
    h->p.decls = h->ptrs;
    h->v.n = 4;
    h->v.t = h->t;
}

static void hand_program_fill_outputs(hand_program *h, int base)
{
    for (int i = 2; i < 4; i++) {
        assert_int_equal(pat_tensor_alloc(&h->t[i], &h->decls[i].type), 0);
        for (int64_t k = 0; k < h->t[i].count; k++) {
            if (i == 2)
                h->t[i].data.f[k] = (float)(base + k);
            else
                h->t[i].data.i[k] = (int32_t)(base + k);
        }
    }
}

static void hand_program_free(hand_program *h)
{
    for (int i = 0; i < 4; i++)
        pat_tensor_free(&h->t[i]);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void load_inputs_reads_generates_and_reports_missing(void **state)
{
    (void)state;
    hand_program h;
    hand_program_init(&h);
    const char *dir = in_tmp("in");
    assert_int_equal(mkdir(dir, 0777), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    write_npy(path, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", 16);

    diag_list d;
    diag_init(&d);
    /* k.npy is missing and generation was not asked for. */
    assert_int_equal(pat_load_inputs(&h.p, dir, false, 1, &h.v, &d), -1);
    assert_int_equal(d.n_errors, 1);
    char kpath[256];
    snprintf(kpath, sizeof kpath, "%s/k.npy", dir);
    assert_string_equal(d.items[0].loc.file, kpath);
    assert_non_null(strstr(d.items[0].msg, "no data file for input 'k'"));
    assert_non_null(strstr(d.items[0].msg, "--gen-missing"));
    diag_free(&d);

    diag_init(&d);
    assert_int_equal(pat_load_inputs(&h.p, dir, true, 1, &h.v, &d), 0);
    assert_int_equal(h.t[0].data.i[0], 0x03020100); /* from the file */
    pat_tensor want;
    assert_int_equal(pat_generate(&h.decls[1], 1, &want, &d), 0);
    assert_memory_equal(h.t[1].data.p, want.data.p, 12);
    pat_tensor_free(&want);

    /* Without a data directory everything is generated. */
    assert_int_equal(pat_load_inputs(&h.p, NULL, false, 1, &h.v, &d), 0);
    assert_int_equal(pat_generate(&h.decls[0], 1, &want, &d), 0);
    assert_memory_equal(h.t[0].data.p, want.data.p, 16);
    pat_tensor_free(&want);
    assert_false(diag_has_errors(&d));
    diag_free(&d);

    /* A data directory that does not exist is one error, not one per input. */
    diag_init(&d);
    const char *nodir = in_tmp("no-data-here");
    assert_int_equal(pat_load_inputs(&h.p, nodir, true, 1, &h.v, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.items[0].loc.file, nodir);
    assert_non_null(strstr(d.items[0].msg, "No such file"));
    diag_free(&d);

    /* A bad file is reported, not replaced by generated data. */
    write_npy(path, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }\n", 20);
    diag_init(&d);
    assert_int_equal(pat_load_inputs(&h.p, dir, true, 1, &h.v, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "shape (5,) does not match declared f32[4]"));
    diag_free(&d);
    hand_program_free(&h);
}

static void write_outputs_writes_every_output(void **state)
{
    (void)state;
    hand_program h;
    hand_program_init(&h);
    hand_program_fill_outputs(&h, 10);
    const char *dir = in_tmp("out-ok");
    assert_int_equal(mkdir(dir, 0777), 0);
    diag_list d;
    diag_init(&d);
    assert_int_equal(pat_write_outputs(&h.p, dir, &h.v, &d), 0);
    assert_int_equal(count_entries(dir), 2); /* A.npy, B.npy and no temporaries */
    char path[256];
    snprintf(path, sizeof path, "%s/A.npy", dir);
    pat_tensor back;
    assert_int_equal(pat_npy_read(path, &h.decls[2], &back, &d), 0);
    assert_true(back.data.f[3] == 13.0f);
    pat_tensor_free(&back);
    /* Overwriting existing outputs works too. */
    hand_program_free(&h);
    hand_program_fill_outputs(&h, 20);
    assert_int_equal(pat_write_outputs(&h.p, dir, &h.v, &d), 0);
    assert_int_equal(count_entries(dir), 2);
    assert_int_equal(pat_npy_read(path, &h.decls[2], &back, &d), 0);
    assert_true(back.data.f[3] == 23.0f);
    pat_tensor_free(&back);
    assert_false(diag_has_errors(&d));

    /* A single file into a missing directory: an error naming the file. */
    const char *lost = in_tmp("nowhere/C.npy");
    assert_int_equal(pat_npy_write(lost, &h.t[2], &d), -1);
    assert_string_equal(d.items[0].loc.file, lost);
    assert_non_null(strstr(d.items[0].msg, "cannot create a temporary file"));
    diag_free(&d);
    diag_init(&d);

    /* A missing directory is created when its parent exists... */
    const char *fresh = in_tmp("no-such-dir");
    assert_int_equal(pat_write_outputs(&h.p, fresh, &h.v, &d), 0);
    assert_int_equal(count_entries(fresh), 2);
    diag_free(&d);
    diag_init(&d);

    /* ...and is an error naming it when the parent is missing too. */
    const char *missing = in_tmp("no-such-parent/out");
    assert_int_equal(pat_write_outputs(&h.p, missing, &h.v, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "parent does not exist"));
    assert_string_equal(d.items[0].loc.file, missing);
    struct stat st;
    assert_int_equal(stat(missing, &st), -1);
    diag_free(&d);
    hand_program_free(&h);
}

static void write_outputs_is_all_or_nothing(void **state)
{
    (void)state;
    hand_program h;
    hand_program_init(&h);
    hand_program_fill_outputs(&h, 10);
    const char *dir = in_tmp("out-fail");
    assert_int_equal(mkdir(dir, 0777), 0);
    char apath[256], bpath[256];
    snprintf(apath, sizeof apath, "%s/A.npy", dir);
    snprintf(bpath, sizeof bpath, "%s/B.npy", dir);
    write_bytes(apath, "old contents", 12);
    assert_int_equal(mkdir(bpath, 0777), 0); /* a directory in the way of B */

    diag_list d;
    diag_init(&d);
    assert_int_equal(pat_write_outputs(&h.p, dir, &h.v, &d), -1);
    assert_string_equal(d.items[0].loc.file, bpath);
    assert_non_null(strstr(d.items[0].msg, "is a directory"));
    size_t len = 0;
    unsigned char *raw = slurp(apath, &len);
    assert_int_equal(len, 12);
    assert_memory_equal(raw, "old contents", 12);
    free(raw);
    assert_int_equal(count_entries(dir), 2); /* no temporaries left behind */
    diag_free(&d);

    /* Fresh directory, first output new: it must not appear either. */
    const char *dir2 = in_tmp("out-fail2");
    assert_int_equal(mkdir(dir2, 0777), 0);
    snprintf(bpath, sizeof bpath, "%s/B.npy", dir2);
    assert_int_equal(mkdir(bpath, 0777), 0);
    diag_init(&d);
    assert_int_equal(pat_write_outputs(&h.p, dir2, &h.v, &d), -1);
    assert_int_equal(count_entries(dir2), 1);
    diag_free(&d);

    /* An output without a value is reported and nothing is written. */
    const char *dir3 = in_tmp("out-fail3");
    assert_int_equal(mkdir(dir3, 0777), 0);
    pat_tensor_free(&h.t[3]);
    diag_init(&d);
    assert_int_equal(pat_write_outputs(&h.p, dir3, &h.v, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "output 'B' has no value"));
    assert_int_equal(count_entries(dir3), 0);
    diag_free(&d);
    hand_program_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(npy_round_trips_every_dtype_and_rank),
        cmocka_unit_test(npy_writes_numpy_style_header),
        cmocka_unit_test(npy_reads_foreign_headers),
        cmocka_unit_test(npy_rejects_bad_magic_and_version),
        cmocka_unit_test(npy_rejects_bad_headers),
        cmocka_unit_test(npy_rejects_wrong_dtype_and_byte_order),
        cmocka_unit_test(npy_rejects_fortran_order_and_wrong_shape),
        cmocka_unit_test(npy_rejects_truncated_and_trailing_data),
        cmocka_unit_test(npy_reader_survives_corrupted_files),
        cmocka_unit_test(generator_is_deterministic_per_seed_and_name),
        cmocka_unit_test(generator_respects_default_and_given_ranges),
        cmocka_unit_test(generator_f32_never_reaches_hi),
        cmocka_unit_test(generator_sorted_has_exact_endpoints_and_varied_gaps),
        cmocka_unit_test(generator_handles_scalars_and_rejects_impossible_requests),
        cmocka_unit_test(load_inputs_reads_generates_and_reports_missing),
        cmocka_unit_test(write_outputs_writes_every_output),
        cmocka_unit_test(write_outputs_is_all_or_nothing),
    };
    return cmocka_run_group_tests_name("data", tests, setup, teardown);
}
