/*
 * fab_config.c — reading a fabric `.cfg` file (contract:
 * shared/spec/fabric-config.md) into a fab_fabric.
 *
 * libinih splits the text into [section] and key = value pairs.  The
 * installed libinih is built without INI_HANDLER_LINENO, so its handler is
 * not told the line; we feed it through ini_parse_stream() with a reader
 * that hands over one line at a time and counts them, so that the handler
 * knows the line of every pair.  The reader also classifies each line the
 * way inih will and reports what inih would only count (a line without
 * '=', a section header without ']', an unknown or repeated section, a line
 * too long for inih's buffer), so that every error is reported, not only
 * the first.
 *
 * The handler only records the raw text of each key and its line.  All
 * checking happens afterwards from one table (KEYS below), because some
 * rules span keys (agcus <= 2 x rows) and because a missing key can only be
 * known at the end.  Every message names the file, the line and the key:
 *
 *     fabric/x.cfg:12: error: [pcu] lanes = 12: must be a power of two between 1 and 256
 */
#include "fabric/fab.h"
#include "fabric/fab_builtin.h"
#include "util/alloc.h"
#include "util/suggest.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the keys */

enum kind { K_TEXT, K_INT, K_INT64, K_REAL };

enum rule {
    R_NONE = 0,
    R_POW2,       /* a power of two */
    R_AGCUS,      /* even and at most 2 x rows */
};

typedef struct key_spec {
    const char *section, *key;
    enum kind kind;
    enum rule rule;
    bool required;
    int64_t min, max;     /* integers */
    double def;           /* default when not required */
    size_t off;           /* field in fab_fabric */
    double lo, hi;        /* reals: the range the model computes with (a DRAM
                             load of lo GB/s or hi ns still fits int64 cycles) */
} key_spec;

#define F(field) offsetof(fab_fabric, field)

/* The contract's table, in the order of the spec.  ORDER: keep in step with
 * shared/spec/fabric-config.md and docs/fabric.md. */
static const key_spec KEYS[] = {
    {"fabric", "name", K_TEXT, R_NONE, true, 0, 0, 0, F(name), 0, 0},
    {"fabric", "rows", K_INT, R_NONE, true, 2, 1024, 0, F(rows), 0, 0},
    {"fabric", "cols", K_INT, R_NONE, true, 2, 1024, 0, F(cols), 0, 0},
    {"fabric", "clock_mhz", K_INT, R_NONE, true, 1, 10000, 0, F(clock_mhz), 0, 0},
    {"fabric", "reconfig_cycles", K_INT64, R_NONE, false, 0, 1000000000, 10000, F(reconfig_cycles), 0, 0},
    {"pcu", "lanes", K_INT, R_POW2, true, 1, 256, 0, F(lanes), 0, 0},
    {"pcu", "stages", K_INT, R_NONE, true, 1, 64, 0, F(stages), 0, 0},
    {"pcu", "vector_in", K_INT, R_NONE, false, 1, 64, 4, F(vector_in), 0, 0},
    {"pcu", "vector_out", K_INT, R_NONE, false, 1, 64, 2, F(vector_out), 0, 0},
    {"pcu", "scalar_in", K_INT, R_NONE, false, 0, 64, 4, F(scalar_in), 0, 0},
    {"pcu", "scalar_out", K_INT, R_NONE, false, 0, 64, 2, F(scalar_out), 0, 0},
    {"pcu", "fifo_depth", K_INT, R_NONE, false, 1, 4096, 16, F(fifo_depth), 0, 0},
    {"pmu", "kib", K_INT, R_NONE, true, 1, 1048576, 0, F(pmu_kib), 0, 0},
    {"pmu", "banks", K_INT, R_NONE, true, 1, 256, 0, F(pmu_banks), 0, 0},
    {"network", "vector_links", K_INT, R_NONE, true, 1, 64, 0, F(vector_links), 0, 0},
    {"network", "scalar_links", K_INT, R_NONE, true, 0, 64, 0, F(scalar_links), 0, 0},
    {"network", "control_links", K_INT, R_NONE, false, 0, 64, 1, F(control_links), 0, 0},
    {"network", "hop_cycles", K_INT, R_NONE, false, 1, 64, 1, F(hop_cycles), 0, 0},
    {"dram", "agcus", K_INT, R_AGCUS, true, 2, 4096, 0, F(agcus), 0, 0},
    {"dram", "gbps", K_REAL, R_NONE, true, 0, 0, 0, F(dram_gbps), 0.001, 1000000},
    {"dram", "latency_ns", K_REAL, R_NONE, false, 0, 0, 100, F(dram_latency_ns), 0, 1000000},
};
#undef F

enum { N_KEYS = sizeof KEYS / sizeof KEYS[0] };

static const char *const SECTIONS[] = {"fabric", "pcu", "pmu", "network", "dram"};
enum { N_SECTIONS = sizeof SECTIONS / sizeof SECTIONS[0] };

/* inih's default line buffer; a line must be 3 shorter (\r, \n, \0). */
enum { LINE_MAX_CHARS = 196, VALUE_CAP = 256 };

/* ------------------------------------------------------- the parse state */

typedef struct pending_error {
    int line;
    char *msg;
} pending_error;

typedef struct cfg_state {
    const char *name;        /* the file name as given */
    const char *text;        /* the whole text */
    const char *next;        /* reader position in text */
    int line;                /* lines handed to inih so far */
    bool skip_line;          /* the reader already reported this line */
    bool bad_section;        /* after a broken section header: skip keys */
    bool use_repair;         /* hand inih `repair` instead of the line */
    char repair[LINE_MAX_CHARS + 16];
    int section_line[N_SECTIONS];   /* header line, 0 if absent */
    int key_line[N_KEYS];           /* 0 if absent */
    char value[N_KEYS][VALUE_CAP];
    diag_list *d;
    const char *loc_file;    /* stable copy of name for diagnostics */
    int errors;
    pending_error *pending;  /* errors not yet reported, see err() */
    int n_pending, cap_pending;
} cfg_state;

/* The file name diagnostics point at.  diag_loc does not own its file, so
 * on the first error we register the text with the list, which keeps an
 * owned copy of the name (and lets the printer quote the line). */
static diag_loc at(cfg_state *s, int line)
{
    if (!s->loc_file) {
        int before = s->d->n_sources;
        diag_add_source(s->d, s->name, s->text ? s->text : "");
        s->loc_file = s->d->n_sources > before ? s->d->sources[s->d->n_sources - 1].file : s->name;
    }
    diag_loc l = {s->loc_file, line, 0};
    return l;
}

/* Errors are held until the end and then reported in line order (those
 * without a line last), whichever check found them. */
__attribute__((format(printf, 3, 4)))
static void err(cfg_state *s, int line, const char *fmt, ...)
{
    s->errors++;
    if (s->n_pending == s->cap_pending) {
        int cap = s->cap_pending ? 2 * s->cap_pending : 16;
        pending_error *g = xrealloc(s->pending, (size_t)cap * sizeof *g);
        if (!g) {
            diag_error(s->d, at(s, line), "out of memory while reporting an error");
            return;
        }
        s->pending = g;
        s->cap_pending = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = len >= 0 ? xmalloc((size_t)len + 1) : NULL;
    if (!msg) {
        diag_error(s->d, at(s, line), "out of memory while reporting an error");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    s->pending[s->n_pending].line = line;
    s->pending[s->n_pending].msg = msg;
    s->n_pending++;
}

/* Report the held errors, stably sorted by line, lineless ones last. */
static void flush_errors(cfg_state *s)
{
    for (int i = 1; i < s->n_pending; i++) {
        pending_error e = s->pending[i];
        unsigned key = (unsigned)e.line - 1u;   /* line 0 sorts last */
        int j = i;
        while (j > 0 && (unsigned)s->pending[j - 1].line - 1u > key) {
            s->pending[j] = s->pending[j - 1];
            j--;
        }
        s->pending[j] = e;
    }
    for (int i = 0; i < s->n_pending; i++) {
        diag_error(s->d, at(s, s->pending[i].line), "%s", s->pending[i].msg);
        free(s->pending[i].msg);
    }
    free(s->pending);
    s->pending = NULL;
    s->n_pending = s->cap_pending = 0;
}

static int section_index(const char *name)
{
    for (int i = 0; i < N_SECTIONS; i++)
        if (strcmp(SECTIONS[i], name) == 0)
            return i;
    return -1;
}

static int key_index(const char *section, const char *key)
{
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].key, key) == 0)
            return i;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* "lanes, stages, ..." : the keys of a section, for messages. */
static void section_keys(const char *section, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_KEYS && n < size; i++)
        if (strcmp(KEYS[i].section, section) == 0)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", KEYS[i].key);
}

/* ------------------------------------------------------------ the reader */

/* Look at one line as inih will and report what inih would only count.
 * Sets s->skip_line when inih may hand the handler a bogus pair for it
 * (a multi-line continuation). */
static void check_line(cfg_state *s, const char *line, size_t len)
{
    char buf[LINE_MAX_CHARS + 8];
    bool too_long = len > LINE_MAX_CHARS;
    if (too_long) {
        err(s, s->line, "line longer than %d characters", LINE_MAX_CHARS);
        len = LINE_MAX_CHARS;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    const char *p = buf;
    if (s->line == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;   /* a UTF-8 byte-order mark, which inih skips */
    bool indented = is_space(*p);
    while (is_space(*p))
        p++;
    char *e = buf + strlen(buf);
    while (e > p && is_space(e[-1]))
        *--e = '\0';
    if (*p == '\0' || *p == '#' || *p == ';' || too_long) {
        if (too_long)
            s->skip_line = true;
        return;
    }
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close) {
            err(s, s->line, "section header '%s' has no closing ']'", p);
            /* Read on as if the ']' were there when the name is known, so
             * that one slip is one error; otherwise ignore its keys. */
            int si = section_index(p + 1);
            if (si >= 0 && !s->section_line[si]) {
                s->section_line[si] = s->line;
                snprintf(s->repair, sizeof s->repair, "%s]", p);
                s->use_repair = true;
                s->bad_section = false;
            } else {
                s->bad_section = true;
            }
            return;
        }
        s->bad_section = false;
        const char *rest = close + 1;
        while (is_space(*rest))
            rest++;
        if (*rest && *rest != '#' && *rest != ';')
            err(s, s->line, "unexpected text '%s' after section header", rest);
        char name[LINE_MAX_CHARS + 8];
        size_t n = (size_t)(close - p - 1);
        memcpy(name, p + 1, n);
        name[n] = '\0';
        int si = section_index(name);
        suggest sg;
        suggest_init(&sg, name, strlen(name));
        for (int i = 0; i < N_SECTIONS; i++)
            suggest_offer(&sg, SECTIONS[i]);
        if (si < 0 && suggest_best(&sg))
            err(s, s->line, "unknown section [%s]; did you mean [%s]? (sections are [fabric], [pcu], [pmu], "
                "[network], [dram])", name, suggest_best(&sg));
        else if (si < 0)
            err(s, s->line, "unknown section [%s] (sections are [fabric], [pcu], [pmu], [network], [dram])",
                name);
        else if (s->section_line[si])
            err(s, s->line, "section [%s] appears twice (first at line %d)", name,
                s->section_line[si]);
        else
            s->section_line[si] = s->line;
        return;
    }
    if (!strchr(p, '=') && !strchr(p, ':')) {
        if (indented)
            err(s, s->line, "indented line '%s' without '=': multi-line values are not supported", p);
        else
            err(s, s->line, "expected '[section]' or 'key = value', found '%s'", p);
        s->skip_line = true;
    }
}

/* An fgets-like reader over the text: hands inih one line per call (cut to
 * its buffer if too long, the rest of the line dropped) and counts lines. */
static char *read_line(char *str, int num, void *stream)
{
    cfg_state *s = stream;
    if (!s->next || *s->next == '\0')
        return NULL;
    const char *start = s->next;
    const char *nl = strchr(start, '\n');
    size_t len = nl ? (size_t)(nl - start) : strlen(start);
    s->next = nl ? nl + 1 : start + len;
    s->line++;
    s->skip_line = false;
    s->use_repair = false;
    check_line(s, start, len);
    if (s->use_repair) {
        start = s->repair;
        len = strlen(s->repair);
    }
    size_t room = (size_t)num - 2;   /* keep space for '\n' and '\0' */
    if (len > room)
        len = room;
    memcpy(str, start, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

/* -------------------------------------------------------------- handler */

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    cfg_state *s = user;
    if (s->skip_line || s->bad_section)
        return 1;
    if (section[0] == '\0') {
        int k = -1;
        for (int i = 0; i < N_KEYS && k < 0; i++)
            if (strcmp(KEYS[i].key, name) == 0)
                k = i;
        if (k >= 0)
            err(s, s->line, "%s: key outside any section (it belongs under [%s])", name, KEYS[k].section);
        else
            err(s, s->line, "%s: key outside any section", name);
        return 1;
    }
    int si = section_index(section);
    if (si < 0 || s->section_line[si] == 0)
        return 1;   /* an unknown section: its header was reported */
    int k = key_index(section, name);
    if (k < 0) {
        char keys[256];
        section_keys(section, keys, sizeof keys);
        suggest sg;
        suggest_init(&sg, name, strlen(name));
        for (int i = 0; i < N_KEYS; i++)
            if (strcmp(KEYS[i].section, section) == 0)
                suggest_offer(&sg, KEYS[i].key);
        if (suggest_best(&sg))
            err(s, s->line, "[%s] %s: unknown key; did you mean '%s'? (keys of [%s]: %s)", section, name,
                suggest_best(&sg), section, keys);
        else
            err(s, s->line, "[%s] %s: unknown key (keys of [%s]: %s)", section, name, section, keys);
        return 1;
    }
    if (s->key_line[k]) {
        err(s, s->line, "[%s] %s: given twice (first at line %d)", section, name, s->key_line[k]);
        return 1;
    }
    s->key_line[k] = s->line;
    /* inih strips inline comments after ';'; the contract also allows '#'. */
    size_t n = 0;
    for (; value[n]; n++)
        if (value[n] == '#' && n > 0 && is_space(value[n - 1]))
            break;
    while (n > 0 && is_space(value[n - 1]))
        n--;
    if (n >= VALUE_CAP)
        n = VALUE_CAP - 1;
    memcpy(s->value[k], value, n);
    s->value[k][n] = '\0';
    return 1;
}

/* ------------------------------------------------------------ validation */

static void range_text(const key_spec *k, char *buf, size_t size)
{
    switch (k->kind) {
    case K_TEXT: snprintf(buf, size, "text"); break;
    case K_REAL: snprintf(buf, size, "a number from %.15g to %.15g", k->lo, k->hi); break;
    case K_INT:
    case K_INT64:
        if (k->rule == R_POW2)
            snprintf(buf, size, "a power of two between %" PRId64 " and %" PRId64, k->min, k->max);
        else if (k->rule == R_AGCUS)
            snprintf(buf, size, "an even integer between %" PRId64 " and 2 x rows", k->min);
        else
            snprintf(buf, size, "an integer between %" PRId64 " and %" PRId64, k->min, k->max);
        break;
    }
}

static void store_int(fab_fabric *f, const key_spec *k, int64_t v)
{
    char *base = (char *)f;
    if (k->kind == K_INT64)
        memcpy(base + k->off, &v, sizeof v);
    else {
        int i = (int)v;
        memcpy(base + k->off, &i, sizeof i);
    }
}

/* Check one present key and store it; false (with a diagnostic) if wrong. */
static bool check_value(cfg_state *s, int ki, fab_fabric *f)
{
    const key_spec *k = &KEYS[ki];
    const char *v = s->value[ki];
    int line = s->key_line[ki];
    char want[96];
    range_text(k, want, sizeof want);
    if (v[0] == '\0') {
        err(s, line, "[%s] %s: missing value (%s)", k->section, k->key, want);
        return false;
    }
    if (k->kind == K_TEXT) {
        if (strlen(v) >= sizeof f->name) {
            err(s, line, "[%s] %s = %s: longer than %zu characters", k->section, k->key, v,
                sizeof f->name - 1);
            return false;
        }
        memcpy((char *)f + k->off, v, strlen(v) + 1);
        return true;
    }
    if (k->kind == K_REAL) {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        /* ERANGE on underflow leaves a tiny x: let the range rule judge it. */
        if (end == v || *end != '\0' || !isfinite(x) || (errno == ERANGE && fabs(x) > 1)) {
            err(s, line, "[%s] %s = %s: not a finite number (%s)", k->section, k->key, v, want);
            return false;
        }
        if (!(x >= k->lo && x <= k->hi)) {
            err(s, line, "[%s] %s = %s: must be %s", k->section, k->key, v, want);
            return false;
        }
        memcpy((char *)f + k->off, &x, sizeof x);
        return true;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || !(v[0] == '-' || v[0] == '+' || (v[0] >= '0' && v[0] <= '9'))) {
        err(s, line, "[%s] %s = %s: not an integer (%s)", k->section, k->key, v, want);
        return false;
    }
    if (*end != '\0') {
        err(s, line, "[%s] %s = %s: not an integer: unexpected '%s' after %.*s (%s)", k->section,
            k->key, v, end, (int)(end - v), v, want);
        return false;
    }
    if (errno == ERANGE || x < k->min || x > k->max) {
        err(s, line, "[%s] %s = %s: must be %s", k->section, k->key, v, want);
        return false;
    }
    if (k->rule == R_POW2 && (x & (x - 1)) != 0) {
        err(s, line, "[%s] %s = %s: must be %s", k->section, k->key, v, want);
        return false;
    }
    store_int(f, k, x);
    return true;
}

static void check_all(cfg_state *s, fab_fabric *f)
{
    bool ok[N_KEYS];
    for (int i = 0; i < N_KEYS; i++) {
        const key_spec *k = &KEYS[i];
        ok[i] = false;
        if (s->key_line[i]) {
            ok[i] = check_value(s, i, f);
            if (!strcmp(k->key, "reconfig_cycles"))
                f->reconfig_given = true;
            continue;
        }
        if (k->required) {
            char want[96];
            range_text(k, want, sizeof want);
            int si = section_index(k->section);
            int line = s->section_line[si];
            if (line)
                err(s, line, "[%s] %s: missing (required: %s)", k->section, k->key, want);
            else
                err(s, 0, "[%s] %s: missing, and so is the section [%s] (required: %s)", k->section,
                    k->key, k->section, want);
            continue;
        }
        ok[i] = true;
        if (k->kind == K_REAL)
            memcpy((char *)f + k->off, &k->def, sizeof k->def);
        else
            store_int(f, k, (int64_t)k->def);
    }
    /* Rules that span keys. */
    int agcus = key_index("dram", "agcus"), rows = key_index("fabric", "rows");
    if (ok[agcus] && s->key_line[agcus]) {
        const char *v = s->value[agcus];
        int line = s->key_line[agcus];
        if (f->agcus % 2 != 0)
            err(s, line, "[dram] agcus = %s: must be even (half on the west edge, half on the east)", v);
        else if (ok[rows] && f->agcus > 2 * f->rows)
            err(s, line, "[dram] agcus = %s: must be at most 2 x rows = %d (one per edge switch)", v,
                2 * f->rows);
    }
}

/* ------------------------------------------------------------ the loaders */

static int load(const char *name, const char *text, fab_fabric *out, diag_list *d)
{
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", name);
    cfg_state *s = xcalloc(1, sizeof *s);
    if (!s)
        return diag_error(d, diag_at_file(name), "out of memory reading the fabric");
    s->name = name;
    s->text = text;
    s->next = text;
    s->d = d;
    int rc = ini_parse_stream(read_line, s, on_pair, s);
    if (rc == -2)
        err(s, 0, "out of memory reading the fabric");
    else if (rc > 0 && s->errors == 0)
        err(s, rc, "cannot parse this line");
    check_all(s, out);
    flush_errors(s);
    if (s->errors == 0) {
        out->n_pcus = (out->rows * out->cols + 1) / 2;
        out->n_pmus = out->rows * out->cols / 2;
    }
    int errors = s->errors;
    free(s);
    return errors ? -1 : 0;
}

int fab_load_string(const char *name, const char *text, fab_fabric *out, diag_list *d)
{
    if (strlen(name) >= sizeof out->source) {
        memset(out, 0, sizeof *out);
        return diag_error(d, diag_at_file("rdumap"), "fabric name longer than %zu characters",
                          sizeof out->source - 1);
    }
    return load(name, text, out, d);
}

int fab_load_file(const char *path, fab_fabric *out, diag_list *d)
{
    memset(out, 0, sizeof *out);
    cfg_state probe = {.name = path, .d = d};
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return diag_io_error(d, diag_at_file(path), "cannot open fabric file: %s", strerror(errno));
    }
    size_t cap = 4096, n = 0;
    char *text = xmalloc(cap);
    while (text) {
        n += fread(text + n, 1, cap - n - 1, fp);
        if (n < cap - 1)
            break;
        char *grown = cap < ((size_t)64 << 20) ? xrealloc(text, cap * 2) : NULL;
        if (!grown) {
            free(text);
            text = NULL;
            break;
        }
        text = grown;
        cap *= 2;
    }
    bool bad = ferror(fp) != 0;
    int saved = errno;
    fclose(fp);
    if (!text) {
        err(&probe, 0, "cannot read fabric file: too large or out of memory");
        flush_errors(&probe);
        return -1;
    }
    text[n] = '\0';
    if (bad) {
        free(text);
        return diag_io_error(d, diag_at_file(path), "cannot read fabric file: %s", strerror(saved));
    }
    if (strlen(text) != n) {
        free(text);
        err(&probe, 0, "not a text file: it contains a NUL byte");
        flush_errors(&probe);
        return -1;
    }
    int rc = fab_load_string(path, text, out, d);
    free(text);
    return rc;
}

int fab_load_default(fab_fabric *out, diag_list *d)
{
    return load("<built-in sn10>", fab_builtin_sn10_cfg, out, d);
}
