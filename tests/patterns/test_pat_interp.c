/*
 * test_pat_interp.c — the reference interpreter: results against plain C
 * loops written in the same order (so f32 results must match exactly),
 * i32 wrap-around and division rules, identities, short circuits, where,
 * groupby, dynamic ranges, row reductions, and run-time errors with their
 * exact message, position and index values.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patterns/pat.h"
#include "util/prng.h"

typedef struct run {
    arena a;
    diag_list d;
    pat_program *p;
    pat_values v;
} run;

static void setup(run *r, const char *src)
{
    arena_init(&r->a);
    diag_init(&r->d);
    r->p = pat_load_string("t.pat", src, &r->a, &r->d);
    if (!r->p) {
        for (int k = 0; k < r->d.n; k++)
            print_error("%d:%d %s\n", r->d.items[k].loc.line, r->d.items[k].loc.col, r->d.items[k].msg);
        fail();
    }
    assert_int_equal(pat_values_init(&r->v, r->p), 0);
}

static pat_tensor *tensor(run *r, const char *name)
{
    pat_decl *d = pat_find_decl(r->p, name);
    assert_non_null(d);
    return &r->v.t[d->id];
}

/* Allocate input `name` and fill it from `f` or `i` (whichever is non-NULL). */
static void set_input(run *r, const char *name, const float *f, const int32_t *i)
{
    pat_decl *d = pat_find_decl(r->p, name);
    assert_non_null(d);
    pat_tensor *t = &r->v.t[d->id];
    assert_int_equal(pat_tensor_alloc(t, &d->type), 0);
    for (int64_t k = 0; k < t->count; k++) {
        if (f)
            t->data.f[k] = f[k];
        else
            t->data.i[k] = i[k];
    }
}

static void finish(run *r)
{
    pat_values_free(&r->v);
    diag_free(&r->d);
    arena_destroy(&r->a);
}

static void interpret_ok(run *r)
{
    int rc = pat_interpret(r->p, &r->v, &r->d);
    if (rc != 0)
        print_error("%s\n", r->d.items[0].msg);
    assert_int_equal(rc, 0);
}

static void test_gemm_matches_c(void **state)
{
    (void)state;
    run r;
    setup(&r, "const M = 13\nconst K = 17\nconst N = 11\ninput A : f32[M][K]\ninput B : f32[K][N]\n"
              "output C : f32[M][N]\nC = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }\n");
    float A[13 * 17], B[17 * 11];
    prng g;
    prng_seed(&g, 7);
    for (int k = 0; k < 13 * 17; k++)
        A[k] = (float)(prng_unit(&g) * 2 - 1);
    for (int k = 0; k < 17 * 11; k++)
        B[k] = (float)(prng_unit(&g) * 2 - 1);
    set_input(&r, "A", A, NULL);
    set_input(&r, "B", B, NULL);
    interpret_ok(&r);
    const float *C = tensor(&r, "C")->data.f;
    for (int i = 0; i < 13; i++)
        for (int j = 0; j < 11; j++) {
            float acc = 0.0f;
            for (int k = 0; k < 17; k++)
                acc += A[i * 17 + k] * B[k * 11 + j];
            assert_true(C[i * 11 + j] == acc);
        }
    /* Running again gives the same result into the same outputs. */
    interpret_ok(&r);
    assert_true(tensor(&r, "C")->data.f[5] == C[5]);
    finish(&r);
}

static void test_spmv_and_histogram_match_c(void **state)
{
    (void)state;
    run r;
    setup(&r, "const R = 50\nconst C = 40\nconst NNZ = 300\ninput ptr : i32[R + 1]\n"
              "input col : i32[NNZ]\ninput val : f32[NNZ]\ninput x : f32[C]\noutput y : f32[R]\n"
              "output H : f32[C]\n"
              "y = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + { val[j] * x[col[j]] } }\n"
              "H = groupby (i: NNZ) + key col[i] into C where val[i] > 0.0 { val[i] }\n");
    int32_t ptr[51], col[300];
    float val[300], x[40];
    prng g;
    prng_seed(&g, 3);
    for (int k = 0; k < 300; k++) {
        col[k] = (int32_t)prng_below(&g, 40);
        val[k] = (float)(prng_unit(&g) * 2 - 1);
    }
    for (int k = 0; k < 40; k++)
        x[k] = (float)prng_unit(&g);
    ptr[0] = 0;
    ptr[50] = 300;
    for (int k = 1; k < 50; k++)
        ptr[k] = (int32_t)prng_below(&g, 301);
    for (int k = 1; k < 50; k++)  /* sort */
        for (int m = k; m > 1 && ptr[m - 1] > ptr[m]; m--) {
            int32_t t = ptr[m];
            ptr[m] = ptr[m - 1];
            ptr[m - 1] = t;
        }
    set_input(&r, "ptr", NULL, ptr);
    set_input(&r, "col", NULL, col);
    set_input(&r, "val", val, NULL);
    set_input(&r, "x", x, NULL);
    interpret_ok(&r);
    const float *y = tensor(&r, "y")->data.f;
    for (int row = 0; row < 50; row++) {
        float acc = 0.0f;
        for (int j = ptr[row]; j < ptr[row + 1]; j++)
            acc += val[j] * x[col[j]];
        assert_true(y[row] == acc);
    }
    float H[40] = {0};
    for (int k = 0; k < 300; k++)
        if (val[k] > 0.0f)
            H[col[k]] += val[k];
    for (int k = 0; k < 40; k++)
        assert_true(tensor(&r, "H")->data.f[k] == H[k]);
    finish(&r);
}

static void test_i32_rules(void **state)
{
    (void)state;
    run r;
    setup(&r, "input a : i32[8]\ninput b : i32[8]\noutput s : i32[8]\noutput p : i32[8]\n"
              "output q : i32[8]\noutput m : i32[8]\noutput n : i32[8]\n"
              "s = map (i: 8) { a[i] + b[i] }\np = map (i: 8) { a[i] * b[i] }\n"
              "q = map (i: 8) { a[i] / b[i] }\nm = map (i: 8) { a[i] % b[i] }\n"
              "n = map (i: 8) { -a[i] - b[i] }\n");
    static const int32_t a[8] = {INT32_MAX, INT32_MIN, INT32_MIN, -7, 7, -7, 65536, 0};
    static const int32_t b[8] = {1, -1, 1, 2, -2, -2, 65536, 5};
    set_input(&r, "a", NULL, a);
    set_input(&r, "b", NULL, b);
    interpret_ok(&r);
    const int32_t *s = tensor(&r, "s")->data.i, *p = tensor(&r, "p")->data.i;
    const int32_t *q = tensor(&r, "q")->data.i, *m = tensor(&r, "m")->data.i;
    const int32_t *n = tensor(&r, "n")->data.i;
    assert_int_equal(s[0], INT32_MIN);          /* wraps */
    assert_int_equal(s[1], INT32_MAX);
    assert_int_equal(p[6], 0);                  /* 2^32 wraps to 0 */
    assert_int_equal(p[1], INT32_MIN);          /* INT_MIN * -1 wraps */
    assert_int_equal(q[1], INT32_MIN);          /* INT_MIN / -1 wraps */
    assert_int_equal(m[1], 0);                  /* INT_MIN % -1 is 0 */
    assert_int_equal(q[3], -3);                 /* truncates toward zero */
    assert_int_equal(m[3], -1);                 /* sign of the dividend */
    assert_int_equal(q[4], -3);
    assert_int_equal(m[4], 1);
    assert_int_equal(q[5], 3);
    assert_int_equal(m[5], -1);
    assert_int_equal(n[2], INT32_MAX);            /* -INT_MIN wraps to INT_MIN; minus 1 wraps again */
    assert_int_equal(n[7], -5);
    finish(&r);
}

static void test_casts(void **state)
{
    (void)state;
    run r;
    setup(&r, "input x : f32[6]\ninput k : i32[2]\noutput t : i32[6]\noutput f : f32[2]\n"
              "t = map (i: 6) { i32(x[i]) }\nf = map (i: 2) { f32(k[i]) }\n");
    float x[6] = {2.9f, -2.9f, 3e9f, -3e9f, NAN, -0.5f};
    int32_t k[2] = {16777217, -3};
    set_input(&r, "x", x, NULL);
    set_input(&r, "k", NULL, k);
    interpret_ok(&r);
    const int32_t *t = tensor(&r, "t")->data.i;
    assert_int_equal(t[0], 2);
    assert_int_equal(t[1], -2);
    assert_int_equal(t[2], INT32_MAX);
    assert_int_equal(t[3], INT32_MIN);
    assert_int_equal(t[4], 0);
    assert_int_equal(t[5], 0);
    assert_true(tensor(&r, "f")->data.f[0] == 16777216.0f);
    assert_true(tensor(&r, "f")->data.f[1] == -3.0f);
    finish(&r);
}

static void test_identities(void **state)
{
    (void)state;
    run r;
    setup(&r, "input lo : i32\ninput hi : i32\noutput f : f32[4]\noutput i : i32[4]\n"
              "f = map (o: 4) { o == 0 ? reduce (k: lo .. hi) + { 5.0 } : o == 1 ? reduce (k: lo .. hi) * { 5.0 }"
              " : o == 2 ? reduce (k: lo .. hi) max { 5.0 } : reduce (k: lo .. hi) min { 5.0 } }\n"
              "i = map (o: 4) { o == 0 ? reduce (k: lo .. hi) + { 5 } : o == 1 ? reduce (k: lo .. hi) * { 5 }"
              " : o == 2 ? reduce (k: lo .. hi) max { 5 } : reduce (k: lo .. hi) min { 5 } }\n");
    int32_t lo = 9, hi = 2;  /* hi < lo: empty */
    set_input(&r, "lo", NULL, &lo);
    set_input(&r, "hi", NULL, &hi);
    interpret_ok(&r);
    const float *f = tensor(&r, "f")->data.f;
    const int32_t *i = tensor(&r, "i")->data.i;
    assert_true(f[0] == 0.0f && f[1] == 1.0f && f[2] == -INFINITY && f[3] == INFINITY);
    assert_int_equal(i[0], 0);
    assert_int_equal(i[1], 1);
    assert_int_equal(i[2], INT32_MIN);
    assert_int_equal(i[3], INT32_MAX);
    /* The same program with a non-empty range combines 3 values. */
    tensor(&r, "hi")->data.i[0] = 12;
    interpret_ok(&r);
    assert_true(f[0] == 15.0f && f[1] == 125.0f && f[2] == 5.0f && f[3] == 5.0f);
    assert_int_equal(i[1], 125);
    finish(&r);
}

static void test_short_circuits_and_where(void **state)
{
    (void)state;
    run r;
    setup(&r, "input x : f32[4]\ninput d : i32[4]\noutput a : f32[4]\noutput b : i32[4]\noutput c : i32\n"
              "output e : f32[4]\n"
              "a = map (i: 4) { i > 0 ? x[i - 1] : 0.0 }\n"
              "b = map (i: 4) { 2 * (i == 3 || d[i + 1] == 0) + (i < 3 && d[i + 1] != 0 && 10 / d[i + 1] > 1) }\n"
              "c = reduce (k: 4) + where d[k] != 0 { 100 / d[k] }\n"
              "e = map (i: 4) { { let safe = i + 1 < 4  safe ? x[i + 1] : -1.0 } }\n");
    float x[4] = {1, 2, 3, 4};
    int32_t d[4] = {0, 4, 0, 3};
    set_input(&r, "x", x, NULL);
    set_input(&r, "d", NULL, d);
    interpret_ok(&r);
    const float *a = tensor(&r, "a")->data.f;
    assert_true(a[0] == 0.0f && a[1] == 1.0f && a[3] == 3.0f);
    const int32_t *b = tensor(&r, "b")->data.i;
    assert_int_equal(b[0], 0 + 1);   /* d[1]=4: 10/4=2 > 1 */
    assert_int_equal(b[1], 2 + 0);   /* d[2]=0: the division is never evaluated */
    assert_int_equal(b[2], 0 + 1);   /* d[3]=3: 10/3=3 > 1 */
    assert_int_equal(b[3], 2 + 0);   /* d[4] is never read */
    assert_int_equal(tensor(&r, "c")->data.i[0], 25 + 33);
    assert_true(tensor(&r, "e")->data.f[3] == -1.0f);
    finish(&r);
}

static void test_rows(void **state)
{
    (void)state;
    run r;
    setup(&r, "input A : f32[3][2]\ninput k : i32[3]\noutput s : f32[2]\noutput g : f32[2][2]\n"
              "output t : f32[3][2]\n"
              "s = reduce (i: 3) + { map (j: 2) { A[i][j] } }\n"
              "g = groupby (i: 3) max key k[i] into 2 { map (j: 2) { A[i][j] } }\n"
              "t = map (i: 3) { let row = map (j: 2) { A[i][j] * 2.0 }  map (j: 2) { row[1 - j] } }\n");
    float A[6] = {1, 2, 3, -4, 5, 6};
    int32_t k[3] = {1, 1, 0};
    set_input(&r, "A", A, NULL);
    set_input(&r, "k", NULL, k);
    interpret_ok(&r);
    const float *s = tensor(&r, "s")->data.f, *g = tensor(&r, "g")->data.f, *t = tensor(&r, "t")->data.f;
    assert_true(s[0] == 9.0f && s[1] == 4.0f);
    assert_true(g[0] == 5.0f && g[1] == 6.0f && g[2] == 3.0f && g[3] == 2.0f);
    assert_true(t[0] == 4.0f && t[1] == 2.0f && t[2] == -8.0f && t[3] == 6.0f);
    finish(&r);
}

typedef struct rt_case {
    const char *src;
    int line, col;
    const char *msg;
} rt_case;

static void test_runtime_errors(void **state)
{
    (void)state;
    static const rt_case cases[] = {
        {"input x : f32[4]\ninput c : i32[3]\noutput y : f32[3][2]\n"
         "y = map (r: 3, j: 2) { x[c[r] + j] }\n", 4, 26,
         "in definition of 'y': index 4 out of bounds for dimension 0 of 'x' (size 4) at r=0, j=1"},
        {"input x : f32[4]\ninput c : i32[3]\noutput y : f32\n"
         "y = reduce (j: c[1] .. c[0]) + { x[j] }\n", 4, 36,
         "in definition of 'y': index -2 out of bounds for dimension 0 of 'x' (size 4) at j=-2"},
        {"input x : f32[4]\ninput c : i32[3]\noutput h : f32[2]\n"
         "h = groupby (i: 3) + key c[i] into 2 { x[i] }\n", 4, 26,
         "in definition of 'h': groupby key 3 out of range [0, 2) at i=0"},
        {"input x : f32[4]\ninput c : i32[3]\noutput q : i32[3]\n"
         "q = map (i: 3) { 6 / (c[i] + 2) }\n", 4, 20,
         "in definition of 'q': i32 division by zero at i=1"},
        {"input x : f32[4]\ninput c : i32[3]\nbuffer ok : f32\noutput q : i32\nok = x[0]\n"
         "q = c[0] % (c[1] + 2)\n", 6, 10,
         "in definition of 'q': i32 division by zero (in '%')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run r;
        setup(&r, cases[i].src);
        float x[4] = {1, 2, 3, 4};
        int32_t c[3] = {3, -2, 1};
        set_input(&r, "x", x, NULL);
        set_input(&r, "c", NULL, c);
        assert_int_equal(pat_interpret(r.p, &r.v, &r.d), -1);
        assert_int_equal(r.d.n_errors, 1);
        if (strcmp(r.d.items[0].msg, cases[i].msg) != 0 || r.d.items[0].loc.line != cases[i].line ||
            r.d.items[0].loc.col != cases[i].col) {
            print_error("case %zu: want %d:%d %s\n got %d:%d %s\n", i, cases[i].line, cases[i].col,
                        cases[i].msg, r.d.items[0].loc.line, r.d.items[0].loc.col, r.d.items[0].msg);
            fail();
        }
        finish(&r);
    }
}

static void test_missing_input(void **state)
{
    (void)state;
    run r;
    setup(&r, "input x : f32[4]\noutput y : f32\ny = x[0]\n");
    assert_int_equal(pat_interpret(r.p, &r.v, &r.d), -1);
    assert_string_equal(r.d.items[0].msg, "input 'x' has no data");
    finish(&r);
}


/* ---------------------------------------------------------------- */
/* Blocked inner loops, bounds, the work limit                       */

static const char *const block_decls =
    "input x : f32[300]\ninput c : i32[300] in 0 .. 300\ninput p : i32[65] in 0 .. 300 sorted\n";

/* Inputs for block_decls: varied signs, gathers all over x, CSR rows of
 * every length from 0 up. */
static void block_inputs(run *r)
{
    float x[300];
    int32_t c[300], p[65];
    for (int i = 0; i < 300; i++) {
        x[i] = sinf((float)i * 0.7f) * (1.0f + (float)(i % 7));
        c[i] = (i * 37 + 11) % 300;
    }
    for (int i = 0; i <= 64; i++)
        p[i] = i * i * 300 / (64 * 64);
    set_input(r, "x", x, NULL);
    set_input(r, "c", NULL, c);
    set_input(r, "p", NULL, p);
}

/* Run src both ways; the outputs and their bounds must be the same bits,
 * or both runs must fail with the same first error. */
static void same_both_ways(const char *body, int64_t max_work)
{
    char src[2048];
    snprintf(src, sizeof src, "%s%s", block_decls, body);
    run a, b;
    setup(&a, src);
    setup(&b, src);
    block_inputs(&a);
    block_inputs(&b);
    pat_interp_opts oa = {.max_work = max_work}, ob = {.max_work = max_work, .one_at_a_time = true};
    pat_bounds ra = {0}, rb = {0};
    int ca = pat_interpret_opts(a.p, &a.v, &oa, &ra, &a.d), cb = pat_interpret_opts(b.p, &b.v, &ob, &rb, &b.d);
    if (ca != cb) {
        print_error("%s: blocked %d, one at a time %d: %s\n", body, ca, cb,
                    a.d.n ? a.d.items[0].msg : b.d.n ? b.d.items[0].msg : "");
        fail();
    }
    if (ca != 0) {
        assert_int_equal(a.d.n_errors, 1);
        assert_int_equal(b.d.n_errors, 1);
        if (strcmp(a.d.items[0].msg, b.d.items[0].msg) != 0 || a.d.items[0].loc.col != b.d.items[0].loc.col) {
            print_error("%s:\n blocked      %s\n one at a time %s\n", body, a.d.items[0].msg, b.d.items[0].msg);
            fail();
        }
    } else {
        for (int i = 0; i < a.p->n_decls; i++) {
            const pat_decl *dl = a.p->decls[i];
            if (dl->kind != PAT_OUTPUT && dl->kind != PAT_BUFFER)
                continue;
            int64_t n = a.v.t[i].count;
            if (memcmp(a.v.t[i].data.p, b.v.t[i].data.p, (size_t)n * 4) != 0 ||
                memcmp(ra.r[i], rb.r[i], (size_t)n * sizeof(double)) != 0) {
                print_error("%s: '%s' differs\n", body, dl->name);
                fail();
            }
        }
    }
    pat_bounds_free(&ra);
    pat_bounds_free(&rb);
    finish(&a);
    finish(&b);
}

static void test_blocks_change_nothing(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        /* CSR rows across blocks, a gather, a guard, row-uniform terms */
        "output y : f32[64]\ny = map (r: 64) { reduce (j: p[r] .. p[r + 1]) + { x[c[j]] * x[j] } }\n",
        "output y : f32[64]\ny = map (r: 64) { reduce (j: p[r] .. p[r + 1]) + where c[j] % 3 != 0 { x[j] + x[r] } }\n",
        "output y : i32[64]\ny = map (r: 64) { reduce (j: p[r] .. p[r + 1]) max { c[j] } }\n",
        /* lets, selects and && protecting an index, as in conv2d */
        "output y : f32[20][20]\ny = map (a: 20, b: 20) { reduce (d: 3, e: 3) + { let i = a + d - 1  let j = b + e - 1\n"
        "  i >= 0 && i < 15 && j >= 0 && j < 20 ? x[i * 20 + j] : 0.5 } }\n",
        "output y : i32[300]\ny = map (i: 300) { c[i] > 10 ? 1000 / (c[i] - 10) : -1 }\n",
        "output y : i32[300]\ny = map (i: 300) { i < 5 || x[c[i]] > 0.0 }\n",
        "output y : i32[300]\ny = map (i: 300) { i > 295 && x[i + 4] > 0.0 }\n",
        "output y : f32[300]\ny = map (i: 300) { let a = x[i] * 2.0  let b = a + x[(i + 1) % 300]  exp(b * 0.1) - a }\n",
        "output y : f32[4][300]\ny = map (i: 4, j: 300) { x[i] }\n",
        "output y : f32\ny = reduce (i: 300) * { 1.0 + x[i] * 0.001 }\n",
        /* sums of products, fused: a uniform factor, a gathered one */
        "output y : f32[3]\ny = map (k: 3) { reduce (i: 300) + { x[k] * x[c[i]] } }\n",
        "output y : f32[3]\ny = map (k: 3) { reduce (i: 300) + { x[(i * 7) % 300] * x[k] } }\n",
        "output y : f32\ny = reduce (i: 300) min { x[c[i]] }\n",
        "output y : f32[10][30]\ny = map (i: 10) { let m = reduce (j: 30) max { x[i * 30 + j] }\n"
        "  map (j: 30) { exp(x[i * 30 + j] - m) / (1.0 + abs(m)) } }\n",
        "output y : i32[300]\ny = map (i: 300) { -c[i] * 7 + i32(x[i] * 10.0) - (c[i] - i) * 65536 * 65536 }\n",
        /* affine index arithmetic that wraps: one lane, steps past 2^63 */
        "output y : i32[1]\ny = map (i: 1) { i * 65536 * 65536 * 65536 * 65536 * 65536 + 3 }\n",
        "output y : f32[300]\ny = map (i: 300) { x[(i * 65536 * 65536 + i) % 300] }\n",
        /* run-time errors: the first failing iteration, exactly */
        "output y : f32[64]\ny = map (r: 64) { reduce (j: p[r] .. p[r + 1]) + { x[c[j] + 50] } }\n",
        "output y : f32\ny = reduce (i: 300) + { x[c[i] * 2] }\n",
        "output y : f32[300]\ny = map (i: 300) { x[c[i] + i] }\n",
        "output y : i32[300]\ny = map (i: 300) { 7 / (c[i] - 48) }\n",
        "output y : f32[20][20]\ny = map (a: 20, b: 20) { reduce (d: 3, e: 3) + { let i = a + d - 1\n"
        "  i >= 0 && i < 16 ? x[i * 20 + b + e] : 0.5 } }\n",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        same_both_ways(bodies[i], 0);
    /* the work limit stops a dynamic range at the same place both ways */
    same_both_ways("output y : f32[64]\ny = map (r: 64) { reduce (j: p[r] .. p[r + 1]) + { x[j] } }\n", 1100);
}

/* The bound of output `name` after running src (with block_inputs). */
static double bound_of(const char *body, const char *name, int64_t at)
{
    char src[2048];
    snprintf(src, sizeof src, "%s%s", block_decls, body);
    run r;
    setup(&r, src);
    block_inputs(&r);
    pat_bounds rb = {0};
    assert_int_equal(pat_interpret_opts(r.p, &r.v, NULL, &rb, &r.d), 0);
    double b = rb.r[pat_find_decl(r.p, name)->id][at];
    pat_bounds_free(&rb);
    finish(&r);
    return b;
}

static void test_bounds(void **state)
{
    (void)state;
    /* nothing reordered, nothing to bound */
    assert_true(bound_of("output y : f32[300]\ny = map (i: 300) { exp(x[i]) * x[c[i]] }\n", "y", 5) == 0);
    assert_true(bound_of("output y : f32\ny = reduce (i: 300) max { x[i] }\n", "y", 0) == 0);
    /* a sum of n terms: 2 gamma(n-1) times the absolute sum */
    double s = 0;
    for (int i = 0; i < 300; i++)
        s += fabs((double)(sinf((float)i * 0.7f) * (1.0f + (float)(i % 7))));
    double g = 299 * 0x1p-24 / (1 - 299 * 0x1p-24);
    double r = bound_of("output y : f32\ny = reduce (i: 300) + { x[i] }\n", "y", 0);
    assert_true(fabs(r - 2 * g * s) <= 1e-12 * r);
    /* carried through a division by a constant and a subtraction */
    double r2 = bound_of("output y : f32\ny = reduce (i: 300) + { x[i] } / 300.0 - 1.0\n", "y", 0);
    assert_true(r2 >= r / 300 && r2 < r / 300 * 1.01 + 1e-6);
    /* a sum that overflows in some order has no finite bound */
    assert_true(bound_of("output y : f32\ny = reduce (i: 4) + { i < 2 ? 3.0E38 : -3.0E38 }\n", "y", 0) ==
                PAT_BOUND_OVERFLOW);
    assert_true(isinf(bound_of("output y : f32\ny = reduce (i: 4) + { i < 2 ? 3.0E38 : -3.0E38 } * 0.5\n", "y", 0)));
    assert_true(isinf(bound_of("output y : f32\ny = reduce (i: 4) + { i % 2 == 0 ? 3.0E38 : -3.0E38 } * 0.5\n",
                               "y", 0)));
    /* a select on a comparison the reordering can flip has none either, but
     * one far from its threshold keeps the bound of its side */
    assert_true(isinf(bound_of("buffer z : f32\noutput y : f32\nz = reduce (i: 300) + { x[i] }\n"
                               "y = z > z - 0.0000001 ? 1.0 : 0.0\n", "y", 0)));
    assert_true(bound_of("buffer z : f32\noutput y : f32\nz = reduce (i: 300) + { x[i] }\n"
                         "y = z > z - 100.0 ? z : 0.0\n", "y", 0) == r);
    /* log near zero: unbounded; exp: bounded, scaled by the derivative */
    double re = bound_of("buffer z : f32\noutput y : f32\nz = reduce (i: 300) + { x[i] } * 0.01\n"
                         "y = exp(z)\n", "y", 0);
    assert_true(re > 0 && isfinite(re));
}

static void test_work_limit(void **state)
{
    (void)state;
    run r;
    setup(&r, "input x : f32[4]\noutput y : f32\ny = reduce (i: 2147483647, j: 2147483647) + { x[(i + j) % 4] }\n");
    assert_true(pat_static_work(r.p) > INT64_C(4000000000000000000));
    assert_int_equal(pat_check_work(r.p, 0, &r.d), -1);
    assert_non_null(strstr(r.d.items[0].msg, "4611686014132420614 iterations"));
    finish(&r);
    setup(&r, "const N = 2147483647\nconst M = 2147483647\ninput x : f32[4]\noutput y : f32\n"
              "y = reduce (i: N) + { reduce (j: M) + { reduce (k: M) + { x[0] } } }\n");
    assert_int_equal(pat_static_work(r.p), INT64_MAX);  /* saturates */
    finish(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_matches_c),
        cmocka_unit_test(test_spmv_and_histogram_match_c),
        cmocka_unit_test(test_i32_rules),
        cmocka_unit_test(test_casts),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_short_circuits_and_where),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_runtime_errors),
        cmocka_unit_test(test_missing_input),
        cmocka_unit_test(test_blocks_change_nothing),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_work_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
