/*
 * pat_data.c — tensors in and out of rdumap: the built-in input generator
 * and NumPy `.npy` files.
 *
 * The `.npy` reader is deliberately strict, because a researcher who feeds
 * the wrong file must be told so rather than get silently converted data:
 * versions 1.0, 2.0 and 3.0; the header's Python dict literal is parsed as
 * a real (small) grammar, keys in any order, spaces and a trailing comma
 * allowed, each of `descr`, `fortran_order` and `shape` exactly once and
 * nothing else; only '<f4' and '<i4' (or native '=' / no prefix on a
 * little-endian host); C order; the shape equal to the declaration (a 0-d
 * array `()` for a scalar); exactly the declared number of data bytes.
 * Every error names the file and says what was expected and what was found.
 * Bytes are converted with shifts, so the code is independent of the host's
 * byte order.
 *
 * Writing is all or nothing (see pat_write_outputs): each file goes to a
 * temporary in the target directory, is flushed and synced, and only when
 * every one is complete are they renamed into place, with a rollback from
 * hard-linked backups should a rename still fail.
 *
 * Diagnostics carry the file name in their diag_loc.  A diag_loc does not
 * own its string, so a path built here is first registered with the list
 * (diag_add_source with an empty text), whose owned copy then lives exactly
 * as long as the message.
 */
#include "patterns/pat_data.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/prng.h"
#include "util/alloc.h"

/* Longest .npy header accepted (numpy itself refuses more than 10000 bytes
 * by default); a guard against a corrupt length field. */
enum { NPY_MAX_HEADER = 1 << 16 };

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* A diag_loc naming `path` that stays valid as long as `d` (see above). */
static diag_loc file_loc(diag_list *d, const char *path)
{
    for (int i = d->n_sources - 1; i >= 0; i--)
        if (strcmp(d->sources[i].file, path) == 0)
            return diag_at_file(d->sources[i].file);
    int before = d->n_sources;
    diag_add_source(d, path, "");
    if (d->n_sources > before)
        return diag_at_file(d->sources[d->n_sources - 1].file);
    return diag_at_file(NULL); /* out of memory: printed as "rdumap" */
}

/* "DIR/NAME.npy" in malloc'd memory, or NULL when out of memory. */
static char *join_path(const char *dir, const char *name, const char *suffix)
{
    size_t nd = strlen(dir), nn = strlen(name), ns = strlen(suffix);
    bool slash = nd > 0 && dir[nd - 1] != '/';
    char *p = xmalloc(nd + slash + nn + ns + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, nd);
    if (slash)
        p[nd] = '/';
    memcpy(p + nd + slash, name, nn);
    memcpy(p + nd + slash + nn, suffix, ns + 1);
    return p;
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint32_t load_le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void store_le32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

/* A shape as Python prints a tuple: "()", "(5,)", "(2, 3)". */
static void shape_str(const int64_t *dims, int rank, char *buf, size_t size)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "(");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64, i ? ", " : "", dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, rank == 1 ? ",)" : ")");
}

/* The first bytes of a header, fit to quote in a one-line message:
 * trailing padding dropped, newlines as \n, other non-printables as '?'. */
static void printable(const char *s, size_t n, char *buf, size_t size)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    size_t k = 0, i = 0;
    for (; i < n && k + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            buf[k++] = '\\';
            buf[k++] = 'n';
        } else {
            buf[k++] = c >= ' ' && c < 127 ? (char)c : '?';
        }
    }
    if (i < n) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
}

static const char *elem_descr(pat_elem e)
{
    return e == PAT_F32 ? "<f4" : "<i4";
}

/* ------------------------------------------------------------------ */
/* The generator                                                       */

/*
 * The exact rules (a contract: data files written by one version of rdumap
 * must be reproducible by the next).
 *
 *  - One PRNG stream per input: prng_seed_stream(seed, decl->name).  Adding,
 *    removing or reordering other inputs does not change this one.
 *  - Elements are drawn in row-major order, a scalar being one element.
 *  - Bounds: [gen_lo, gen_hi) when the declaration has `in LO .. HI`, else
 *    [-1, 1) for f32 and [0, 100) for i32.  LO < HI is required.
 *  - f32: x = (float)(lo + (hi - lo) * u) with u = prng_unit() (53 bits),
 *    computed in double; a result that rounds up to hi (or past it) is
 *    replaced by the next float below it, so x is always below hi.
 *  - i32: x = lo + prng_below(hi - lo).
 *  - sorted (n >= 2 elements): element 0 is exactly lo, element n-1
 *    exactly hi, and elements 1 .. n-2 are n-2 independent draws from the
 *    closed range [lo, hi] (i32: lo + prng_below(hi - lo + 1); f32: the
 *    rule above without the clamp), sorted ascending.  For CSR row pointers
 *    (`ptr : i32[R+1] in 0 .. NNZ sorted`) this gives ptr[0] = 0,
 *    ptr[R] = NNZ and row lengths that are the gaps between sorted uniform
 *    points: about NNZ/R on average, roughly exponentially distributed, with
 *    some empty rows and some long ones, as in real sparse matrices.
 *    Sorting n-2 values is O(n log n); ties are indistinguishable, so the
 *    result does not depend on the sort's stability.
 */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_f32(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int pat_generate(const pat_decl *decl, uint64_t seed, pat_tensor *out, diag_list *d)
{
    memset(out, 0, sizeof *out);
    bool f32 = decl->type.elem == PAT_F32;
    int64_t lo = f32 ? -1 : 0, hi = f32 ? 1 : 100;
    if (decl->has_gen) {
        lo = decl->gen_lo;
        hi = decl->gen_hi;
    }
    if (lo >= hi)
        return diag_error(d, decl->loc, "cannot generate input '%s': the range %" PRId64
                          " .. %" PRId64 " is empty (the low bound must be below the high one)",
                          decl->name, lo, hi);
    if (!f32 && (lo < INT32_MIN || hi > (int64_t)INT32_MAX + 1))
        return diag_error(d, decl->loc, "cannot generate input '%s': the range %" PRId64
                          " .. %" PRId64 " does not fit in i32", decl->name, lo, hi);
    bool sorted = decl->has_gen && decl->gen_sorted;
    int64_t n = pat_type_count(&decl->type);
    if (sorted && n < 2)
        return diag_error(d, decl->loc, "cannot generate input '%s': a sorted input needs at "
                          "least 2 elements (its first is %" PRId64 " and its last %" PRId64 ")",
                          decl->name, lo, hi);
    if (sorted && !f32 && hi > INT32_MAX)
        return diag_error(d, decl->loc, "cannot generate input '%s': the last element %" PRId64
                          " of a sorted input does not fit in i32", decl->name, hi);
    if (pat_tensor_alloc(out, &decl->type) != 0)
        return diag_error(d, decl->loc, "out of memory generating input '%s'", decl->name);

    prng g;
    prng_seed_stream(&g, seed, decl->name);
    double flo = (double)lo, fhi = (double)hi;
    uint64_t span = (uint64_t)(hi - lo);
    if (!sorted) {
        for (int64_t k = 0; k < n; k++) {
            if (f32) {
                float x = (float)(flo + (fhi - flo) * prng_unit(&g));
                out->data.f[k] = (double)x >= fhi ? nextafterf(x, -INFINITY) : x;
            } else {
                out->data.i[k] = (int32_t)(lo + (int64_t)prng_below(&g, span));
            }
        }
        return 0;
    }
    for (int64_t k = 1; k < n - 1; k++) {
        if (f32)
            out->data.f[k] = (float)(flo + (fhi - flo) * prng_unit(&g));
        else
            out->data.i[k] = (int32_t)(lo + (int64_t)prng_below(&g, span + 1));
    }
    if (f32) {
        qsort(out->data.f + 1, (size_t)(n - 2), sizeof(float), cmp_f32);
        out->data.f[0] = (float)flo;
        out->data.f[n - 1] = (float)fhi;
    } else {
        qsort(out->data.i + 1, (size_t)(n - 2), sizeof(int32_t), cmp_i32);
        out->data.i[0] = (int32_t)lo;
        out->data.i[n - 1] = (int32_t)hi;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The .npy header: a Python dict literal                              */

/*
 * header := '{' ws ( entry ws ',' ws )* [ entry ws ] '}' ws
 * entry  := string ws ':' ws value
 * value  := string | 'True' | 'False' | tuple | (anything else: an error)
 * tuple  := '(' ws ')' | '(' ws int ws ',' ws ( int ws ',' ws )* [ int ws ] ')'
 * A 1-tuple needs its comma, as in Python: "(5)" is an int, not a shape.
 */

typedef struct hdr_parser {
    const char *s, *end;
    char err[160];         /* first error, empty when none */
} hdr_parser;

typedef struct npy_header {
    char descr[32];
    bool fortran;
    int rank;
    int64_t dims[PAT_MAX_RANK];
} npy_header;

static bool hdr_fail(hdr_parser *p, const char *what)
{
    if (!p->err[0])
        snprintf(p->err, sizeof p->err, "%s", what);
    return false;
}

static void hdr_ws(hdr_parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static bool hdr_eat(hdr_parser *p, char c)
{
    hdr_ws(p);
    if (p->s < p->end && *p->s == c) {
        p->s++;
        return true;
    }
    return false;
}

/* A quoted string into buf (truncated to size-1, which is then an error). */
static bool hdr_string(hdr_parser *p, char *buf, size_t size)
{
    hdr_ws(p);
    if (p->s >= p->end || (*p->s != '\'' && *p->s != '"'))
        return hdr_fail(p, "expected a quoted string");
    char q = *p->s++;
    size_t n = 0;
    while (p->s < p->end && *p->s != q) {
        if (*p->s == '\\' || *p->s == '\n')
            return hdr_fail(p, "unsupported character in a string");
        if (n + 1 >= size)
            return hdr_fail(p, "string too long");
        buf[n++] = *p->s++;
    }
    if (p->s >= p->end)
        return hdr_fail(p, "unterminated string");
    p->s++;
    buf[n] = '\0';
    return true;
}

static bool hdr_word(hdr_parser *p, const char *w)
{
    size_t n = strlen(w);
    hdr_ws(p);
    if ((size_t)(p->end - p->s) >= n && memcmp(p->s, w, n) == 0) {
        const char *after = p->s + n;
        if (after == p->end || !(*after == '_' || (*after >= 'a' && *after <= 'z') ||
                                 (*after >= 'A' && *after <= 'Z') || (*after >= '0' && *after <= '9'))) {
            p->s = after;
            return true;
        }
    }
    return false;
}

static bool hdr_int(hdr_parser *p, int64_t *v)
{
    hdr_ws(p);
    if (p->s >= p->end || *p->s < '0' || *p->s > '9')
        return hdr_fail(p, "expected a non-negative integer in 'shape'");
    int64_t x = 0;
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
        if (x > (INT64_MAX - 9) / 10)
            return hdr_fail(p, "dimension too large in 'shape'");
        x = x * 10 + (*p->s++ - '0');
    }
    if (p->s < p->end && (*p->s == 'L' || *p->s == 'l')) /* Python 2 long */
        p->s++;
    *v = x;
    return true;
}

static bool hdr_tuple(hdr_parser *p, npy_header *h)
{
    if (!hdr_eat(p, '('))
        return hdr_fail(p, "'shape' is not a tuple");
    h->rank = 0;
    bool comma = false;
    for (;;) {
        if (hdr_eat(p, ')'))
            break;
        if (h->rank > 0 && !comma)
            return hdr_fail(p, "expected ',' or ')' in 'shape'");
        int64_t v;
        if (!hdr_int(p, &v))
            return false;
        if (h->rank == PAT_MAX_RANK)
            return hdr_fail(p, "'shape' has more dimensions than rdumap supports");
        h->dims[h->rank++] = v;
        comma = hdr_eat(p, ',');
    }
    if (h->rank == 1 && !comma)
        return hdr_fail(p, "'shape' is not a tuple (a 1-d shape is written (N,))");
    return true;
}

/* Parse the dict; on failure p->err says why. */
static bool hdr_parse(hdr_parser *p, npy_header *h)
{
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    if (!hdr_eat(p, '{'))
        return hdr_fail(p, "the header is not a Python dict literal");
    for (;;) {
        if (hdr_eat(p, '}'))
            break;
        char key[32];
        if (!hdr_string(p, key, sizeof key))
            return false;
        if (!hdr_eat(p, ':'))
            return hdr_fail(p, "expected ':' after a key");
        if (strcmp(key, "descr") == 0) {
            if (seen_descr)
                return hdr_fail(p, "key 'descr' appears twice");
            seen_descr = true;
            hdr_ws(p);
            if (p->s < p->end && *p->s == '[')
                return hdr_fail(p, "structured dtypes are not supported");
            if (!hdr_string(p, h->descr, sizeof h->descr))
                return false;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (seen_fortran)
                return hdr_fail(p, "key 'fortran_order' appears twice");
            seen_fortran = true;
            if (hdr_word(p, "True"))
                h->fortran = true;
            else if (hdr_word(p, "False"))
                h->fortran = false;
            else
                return hdr_fail(p, "'fortran_order' is not True or False");
        } else if (strcmp(key, "shape") == 0) {
            if (seen_shape)
                return hdr_fail(p, "key 'shape' appears twice");
            seen_shape = true;
            if (!hdr_tuple(p, h))
                return false;
        } else {
            char msg[80];
            snprintf(msg, sizeof msg, "unexpected key '%s'", key);
            return hdr_fail(p, msg);
        }
        if (!hdr_eat(p, ',')) {
            if (hdr_eat(p, '}'))
                break;
            return hdr_fail(p, "expected ',' or '}' after a value");
        }
    }
    hdr_ws(p);
    if (p->s != p->end)
        return hdr_fail(p, "unexpected text after the dict");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return hdr_fail(p, !seen_descr ? "key 'descr' is missing"
                         : !seen_fortran ? "key 'fortran_order' is missing"
                                         : "key 'shape' is missing");
    return true;
}

/* Check descr against the declared element type; a message on mismatch. */
static int check_descr(const char *path, const char *descr, pat_elem want, diag_list *d)
{
    char order = descr[0];
    const char *code = descr;
    if (order == '<' || order == '>' || order == '=' || order == '|')
        code++;
    else
        order = '=';
    const char *name = strcmp(code, "f4") == 0 ? "f32"
                       : strcmp(code, "i4") == 0 ? "i32"
                       : NULL;
    diag_loc loc = file_loc(d, path);
    if (!name)
        return diag_error(d, loc, "dtype '%s' is not supported: expected '%s' for the declared "
                          "element type %s (rdumap reads only '<f4' and '<i4')",
                          descr, elem_descr(want), pat_elem_str(want));
    if (order == '>')
        return diag_error(d, loc, "dtype '%s' is big-endian: expected little-endian '%s' "
                          "(convert with a.astype('%s'))", descr, elem_descr(want), elem_descr(want));
    if (order == '|')
        return diag_error(d, loc, "dtype '%s' has byte order '|' (not applicable), which is "
                          "invalid for a 4-byte type: expected '%s'", descr, elem_descr(want));
    if (order == '=' && !host_is_little_endian())
        return diag_error(d, loc, "dtype '%s' is native-endian on a big-endian host: expected "
                          "'%s'", descr, elem_descr(want));
    if ((want == PAT_F32) != (strcmp(name, "f32") == 0))
        return diag_error(d, loc, "dtype '%s' (%s) does not match the declared element type %s "
                          "(expected '%s')", descr, name, pat_elem_str(want), elem_descr(want));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

int pat_npy_read(const char *path, const pat_decl *decl, pat_tensor *out, diag_list *d)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return diag_io_error(d, file_loc(d, path), "cannot open data for input '%s': %s",
                          decl->name, strerror(errno));
    int rc = -1;
    char *hdr = NULL;
    unsigned char pre[12];
    struct stat fst;
    if (fstat(fileno(f), &fst) != 0) {
        diag_io_error(d, file_loc(d, path), "cannot read data for input '%s': %s", decl->name,
                   strerror(errno));
        goto done;
    }
    if (!S_ISREG(fst.st_mode)) {
        diag_io_error(d, file_loc(d, path), "cannot read data for input '%s': not a regular file%s",
                   decl->name, S_ISDIR(fst.st_mode) ? " (it is a directory)" : "");
        goto done;
    }
    size_t got = fread(pre, 1, 10, f);
    if (got < 6 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        diag_error(d, file_loc(d, path), "not a NumPy .npy file: it does not begin with "
                   "the magic string \\x93NUMPY");
        goto done;
    }
    if (got < 8) {
        diag_error(d, file_loc(d, path), "truncated .npy file: the version is missing");
        goto done;
    }
    unsigned major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0) {
        diag_error(d, file_loc(d, path), "unsupported .npy format version %u.%u "
                   "(rdumap reads 1.0, 2.0 and 3.0)", major, minor);
        goto done;
    }
    size_t len_bytes = major == 1 ? 2 : 4;
    if (len_bytes == 4 && got == 10)
        got += fread(pre + 10, 1, 2, f);
    if (got < 8 + len_bytes) {
        diag_error(d, file_loc(d, path), "truncated .npy file: the header length is missing");
        goto done;
    }
    uint32_t hlen = len_bytes == 2 ? (uint32_t)pre[8] | (uint32_t)pre[9] << 8 : load_le32(pre + 8);
    if (hlen > NPY_MAX_HEADER) {
        diag_error(d, file_loc(d, path), "the .npy header claims %" PRIu32 " bytes, more than "
                   "the %d accepted: the file is corrupt", hlen, (int)NPY_MAX_HEADER);
        goto done;
    }
    hdr = xmalloc(hlen + 1);
    if (!hdr) {
        diag_error(d, file_loc(d, path), "out of memory reading the header");
        goto done;
    }
    size_t hgot = fread(hdr, 1, hlen, f);
    if (hgot < hlen) {
        diag_error(d, file_loc(d, path), "truncated .npy file: the header should have %" PRIu32
                   " bytes, found %zu", hlen, hgot);
        goto done;
    }
    hdr[hlen] = '\0';
    if (memchr(hdr, '\0', hlen)) {
        diag_error(d, file_loc(d, path), "malformed .npy header: it contains a NUL byte");
        goto done;
    }
    hdr_parser p = {hdr, hdr + hlen, ""};
    npy_header h;
    memset(&h, 0, sizeof h);
    if (!hdr_parse(&p, &h)) {
        char quoted[128];
        printable(hdr, hlen, quoted, sizeof quoted);
        diag_error(d, file_loc(d, path), "malformed .npy header: %s (header: %s)", p.err, quoted);
        goto done;
    }
    if (check_descr(path, h.descr, decl->type.elem, d) != 0)
        goto done;
    const pat_type *t = &decl->type;
    bool same = h.rank == t->rank;
    for (int i = 0; same && i < t->rank; i++)
        same = h.dims[i] == t->dims[i];
    if (!same) {
        char fs[200], ts[120];
        shape_str(h.dims, h.rank, fs, sizeof fs);
        pat_type_str(t, ts, sizeof ts);
        diag_error(d, file_loc(d, path), "shape %s does not match declared %s", fs, ts);
        goto done;
    }
    if (h.fortran && t->rank > 1) {
        diag_error(d, file_loc(d, path), "the array is in Fortran order: rdumap reads only C "
                   "order (save np.ascontiguousarray(a))");
        goto done;
    }
    if (pat_tensor_alloc(out, t) != 0) {
        diag_error(d, file_loc(d, path), "out of memory reading input '%s'", decl->name);
        goto done;
    }
    /* The data, in chunks, converted from little-endian bytes. */
    int64_t n = out->count, k = 0;
    unsigned char buf[1 << 14];
    while (k < n) {
        size_t want = (size_t)(n - k < (int64_t)(sizeof buf / 4) ? n - k : (int64_t)(sizeof buf / 4));
        size_t r = fread(buf, 4, want, f);
        for (size_t i = 0; i < r; i++) {
            uint32_t v = load_le32(buf + 4 * i);
            memcpy(out->data.i + k + (int64_t)i, &v, 4); /* bit copy: f32 or i32 */
        }
        k += (int64_t)r;
        if (r < want)
            break;
    }
    if (ferror(f)) {
        diag_io_error(d, file_loc(d, path), "read error: %s", strerror(errno));
        goto done;
    }
    if (k < n) {
        /* Report the bytes really there, a partial last element included. */
        long long have = (long long)fst.st_size - (long long)(8 + len_bytes + hlen);
        diag_error(d, file_loc(d, path), "truncated .npy file: %" PRId64 " elements (%" PRId64
                   " bytes) of data expected, found %lld bytes", n, n * 4, have);
        goto done;
    }
    if (fgetc(f) != EOF) {
        long long extra = (long long)fst.st_size - (long long)(8 + len_bytes + hlen) - 4 * n;
        diag_error(d, file_loc(d, path), "%lld trailing byte%s after the %" PRId64 " elements "
                   "of data: the file is larger than its header says", extra,
                   extra == 1 ? "" : "s", n);
        goto done;
    }
    rc = 0;
done:
    free(hdr);
    fclose(f);
    if (rc != 0)
        pat_tensor_free(out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* Write t as a version 1.0 .npy to the open stream; false on an I/O error. */
static bool write_npy_stream(FILE *f, const pat_tensor *t)
{
    char dict[256], shape[200];
    int64_t dims[PAT_MAX_RANK];
    for (int i = 0; i < t->type.rank; i++)
        dims[i] = t->type.dims[i];
    shape_str(dims, t->type.rank, shape, sizeof shape);
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     elem_descr(t->type.elem), shape);
    /* Pad with spaces and end with '\n' so the data starts 64-byte aligned. */
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)n, f) != (size_t)n)
        return false;
    for (size_t i = 10 + (size_t)n; i + 1 < padded; i++)
        if (fputc(' ', f) == EOF)
            return false;
    if (fputc('\n', f) == EOF)
        return false;
    unsigned char buf[1 << 14];
    size_t per = sizeof buf / 4;
    for (int64_t k = 0; k < t->count; k += (int64_t)per) {
        size_t m = (size_t)(t->count - k < (int64_t)per ? t->count - k : (int64_t)per);
        for (size_t i = 0; i < m; i++) {
            uint32_t v;
            memcpy(&v, t->data.i + k + (int64_t)i, 4);
            store_le32(buf + 4 * i, v);
        }
        if (fwrite(buf, 4, m, f) != m)
            return false;
    }
    return fflush(f) == 0;
}

int pat_npy_write(const char *path, const pat_tensor *t, diag_list *d)
{
    outputs o;
    outputs_begin(&o);
    FILE *f = outputs_add(&o, path, d);
    errno = 0;
    if (f && !write_npy_stream(f, t)) {
        diag_io_error(d, file_loc(d, path), "cannot write: %s", strerror(errno ? errno : EIO));
        o.failed = true;
    }
    if (!f || o.failed) {
        outputs_abort(&o);
        return -1;
    }
    return outputs_commit(&o, d);
}

int pat_add_outputs(outputs *o, const pat_program *p, const char *dir, const pat_values *vals,
                    diag_list *d)
{
    if (outputs_mkdir(o, dir, d) != 0)
        return -1;
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *decl = p->decls[i];
        if (decl->kind != PAT_OUTPUT)
            continue;
        const pat_tensor *v = decl->id < vals->n ? &vals->t[decl->id] : NULL;
        if (!v || !v->data.p || v->count != pat_type_count(&decl->type)) {
            o->failed = true;
            return diag_error(d, decl->loc, "output '%s' has no value to write", decl->name);
        }
        char *path = join_path(dir, decl->name, ".npy");
        if (!path) {
            o->failed = true;
            return diag_error(d, decl->loc, "out of memory");
        }
        FILE *f = outputs_add(o, path, d);
        errno = 0;
        if (f && !write_npy_stream(f, v)) {
            o->failed = true;
            diag_io_error(d, file_loc(d, path), "cannot write: %s", strerror(errno ? errno : EIO));
        }
        free(path);
        if (!f || o->failed)
            return -1;
    }
    return 0;
}

int pat_write_outputs(const pat_program *p, const char *dir, const pat_values *vals,
                      diag_list *d)
{
    outputs o;
    outputs_begin(&o);
    if (pat_add_outputs(&o, p, dir, vals, d) != 0) {
        outputs_abort(&o);
        return -1;
    }
    return outputs_commit(&o, d);
}

/* ------------------------------------------------------------------ */
/* Loading every input                                                 */

int pat_load_inputs(const pat_program *p, const char *data_dir, bool gen_missing,
                    uint64_t seed, pat_values *vals, diag_list *d)
{
    struct stat st;
    if (data_dir && stat(data_dir, &st) != 0)
        return diag_io_error(d, file_loc(d, data_dir), "cannot read inputs: %s", strerror(errno));
    if (data_dir && !S_ISDIR(st.st_mode))
        return diag_io_error(d, file_loc(d, data_dir), "cannot read inputs: not a directory");
    int rc = 0;
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *decl = p->decls[i];
        if (decl->kind != PAT_INPUT)
            continue;
        if (decl->id < 0 || decl->id >= vals->n) {
            rc = diag_error(d, decl->loc, "internal error: no value slot for input '%s'", decl->name);
            continue;
        }
        pat_tensor t;
        int r;
        if (data_dir) {
            char *path = join_path(data_dir, decl->name, ".npy");
            if (!path)
                return diag_error(d, decl->loc, "out of memory");
            bool missing = stat(path, &st) != 0 && errno == ENOENT;
            if (missing && gen_missing) {
                r = pat_generate(decl, seed, &t, d);
            } else if (missing) {
                r = diag_io_error(d, file_loc(d, path), "no data file for input '%s' (give it, or "
                               "use --gen-missing to generate missing inputs)", decl->name);
            } else {
                r = pat_npy_read(path, decl, &t, d);
            }
            free(path);
        } else {
            r = pat_generate(decl, seed, &t, d);
        }
        if (r != 0) {
            rc = -1;
            continue;
        }
        pat_tensor_free(&vals->t[decl->id]);
        vals->t[decl->id] = t;
    }
    return rc;
}
