/*
 * placement_io.c — read a saved placement back (`--placement FILE`).
 *
 * A placement is trusted only as far as it can be checked against the
 * problem at hand, so the reader works in three passes and reports every
 * error it finds, each naming the file:
 *   1. find the list of units in the JSON (the report of --json, its
 *      "place" object, a bare array, or the report of --dfg, whose units
 *      sit under "import");
 *   2. check each entry on its own: a name the program has, given once,
 *      a kind (if stated) equal to the program's, a row and column on this
 *      fabric holding a site of the unit's kind;
 *   3. check the whole: every unit of the program present, no site twice.
 * Sites are found by (kind, row, col), never by the saved site index,
 * which means something else on another fabric.  Units are matched by name
 * through a sorted index (n log n), so sn10-sized graphs cost nothing.
 */
#include "cli/placement_io.h"
#include "util/alloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *unit_kind_name(place_kind k)
{
    return k == PLACE_PCU ? "VPCU" : k == PLACE_PMU ? "VPMU" : "VAG";
}

static const char *site_kind_name(place_kind k)
{
    return k == PLACE_PCU ? "PCU" : k == PLACE_PMU ? "PMU" : "AGCU";
}

/* The saved kind: the DFG's names (VPCU, VPMU, VAG) or the import report's
 * (PCU, PMU, AGCU).  Returns 0 or -1 for an unknown name. */
static int parse_kind(const char *s, place_kind *out)
{
    if (!strcmp(s, "VPCU") || !strcmp(s, "PCU"))
        *out = PLACE_PCU;
    else if (!strcmp(s, "VPMU") || !strcmp(s, "PMU"))
        *out = PLACE_PMU;
    else if (!strcmp(s, "VAG") || !strcmp(s, "AGCU"))
        *out = PLACE_AGCU;
    else
        return -1;
    return 0;
}

/* Read the whole file into a NUL-terminated buffer; -1 with a diagnostic. */
static char *read_file(const char *path, size_t *len, diag_list *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_io_error(d, diag_at_file(path), "cannot open the placement: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *bigger = xrealloc(buf, 2 * cap + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (!buf) {
        fclose(f);
        diag_error(d, diag_at_file(path), "out of memory reading the placement");
        return NULL;
    }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        free(buf);
        diag_io_error(d, diag_at_file(path), "cannot read the placement: %s", strerror(e ? e : EIO));
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The array of units inside root, or NULL with a diagnostic. */
static json_t *find_units(const char *path, json_t *root, diag_list *d)
{
    if (json_is_array(root))
        return root;
    if (json_is_object(root)) {
        json_t *units = json_object_get(root, "units");
        if (json_is_array(units))
            return units;
        const char *const holders[] = {"place", "import"};
        for (int k = 0; k < 2; k++) {
            json_t *h = json_object_get(root, holders[k]);
            units = json_is_object(h) ? json_object_get(h, "units") : NULL;
            if (json_is_array(units))
                return units;
        }
        if (json_object_get(root, "place") && !json_is_object(json_object_get(root, "place"))) {
            diag_error(d, diag_at_file(path), "the report holds no placement (\"place\" is %s): "
                       "the run that wrote it did not place", json_is_null(json_object_get(root, "place"))
                       ? "null" : "not an object");
            return NULL;
        }
    }
    diag_error(d, diag_at_file(path), "no placement found: expected the report of --json, its \"place\" "
               "object, or an array of units {\"unit\", \"kind\", \"row\", \"col\"}");
    return NULL;
}

/* Sorted index of the problem's unit names, for lookup by name. */
typedef struct name_index {
    const char *const *name;
    int *order;
    int n;
} name_index;

static const char *const *sort_names;   /* qsort has no context argument */

static int by_name(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    int c = strcmp(sort_names[i], sort_names[j]);
    return c ? c : (i > j) - (i < j);
}

static int lookup(const name_index *ix, const char *name)
{
    int lo = 0, hi = ix->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->name[ix->order[mid]], name);
        if (c == 0)
            return ix->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The site of kind k at (row, col), or -1. */
static int site_at(const place_sites *s, const int *grid, const fab_fabric *f, place_kind k, int row, int col)
{
    if (k != PLACE_AGCU) {
        int t = grid[row * f->cols + col];
        return t >= 0 && s->site[t].kind == k ? t : -1;
    }
    for (int i = 0; i < s->n; i++)
        if (s->site[i].kind == PLACE_AGCU && s->site[i].row == row && s->site[i].col == col)
            return i;
    return -1;
}

/* Check entry e (the k-th of the array) and record its site in
 * site_of_unit (-2 once the unit is seen, whatever else is wrong with the
 * entry, so that it is not also reported missing); errors are added to d.
 * Returns the unit index matched, or -1. */
static int read_entry(const char *path, const place_problem *p, const place_sites *s, const int *grid,
                      const name_index *ix, json_t *e, int k, int *site_of_unit, diag_list *d)
{
    const fab_fabric *f = p->fab;
    diag_loc at = diag_at_file(path);
    if (!json_is_object(e))
        return diag_error(d, at, "entry %d of the units is not an object", k + 1);
    json_t *jn = json_object_get(e, "unit");
    if (!jn)
        jn = json_object_get(e, "name");
    if (!json_is_string(jn))
        return diag_error(d, at, "entry %d of the units has no \"unit\" name", k + 1);
    const char *name = json_string_value(jn);
    int u = lookup(ix, name);
    if (u < 0)
        return diag_error(d, at, "unit '%s' is not a unit of this program (a placement of another program?)",
                          name);
    if (site_of_unit[u] != -1)
        return diag_error(d, at, "unit '%s' is given twice", name);
    site_of_unit[u] = -2;  /* seen, not yet placed */
    json_t *jk = json_object_get(e, "kind");
    if (jk) {
        place_kind saved;
        if (!json_is_string(jk) || parse_kind(json_string_value(jk), &saved) != 0)
            return diag_error(d, at, "unit '%s': \"kind\" must be \"VPCU\", \"VPMU\" or \"VAG\"", name);
        if (saved != p->kind[u])
            return diag_error(d, at, "unit '%s' is a %s in the file but a %s in this program", name,
                              unit_kind_name(saved), unit_kind_name(p->kind[u]));
    }
    json_t *jr = json_object_get(e, "row"), *jc = json_object_get(e, "col");
    if (json_is_null(jr) && json_is_null(jc))
        return diag_error(d, at, "unit '%s' has no site in the file (it was not placed)", name);
    if (!json_is_integer(jr) || !json_is_integer(jc))
        return diag_error(d, at, "unit '%s' needs an integer \"row\" and \"col\"", name);
    json_int_t row = json_integer_value(jr), col = json_integer_value(jc);
    if (row < 0 || row >= f->rows || col < 0 || col >= f->cols)
        return diag_error(d, at, "unit '%s': site (%lld,%lld) is outside the %d x %d fabric '%s'", name,
                          (long long)row, (long long)col, f->rows, f->cols, f->name);
    int t = site_at(s, grid, f, p->kind[u], (int)row, (int)col);
    if (t < 0) {
        if (p->kind[u] == PLACE_AGCU)
            return diag_error(d, at, "unit '%s' is a VAG, but there is no AGCU at (%d,%d) on fabric '%s'", name,
                              (int)row, (int)col, f->name);
        int other = grid[row * f->cols + col];
        return diag_error(d, at, "site (%d,%d) is a %s, unit '%s' is a %s", (int)row, (int)col,
                          other >= 0 ? site_kind_name(s->site[other].kind) : "hole", name,
                          unit_kind_name(p->kind[u]));
    }
    site_of_unit[u] = t;
    return u;
}

int placement_read(const char *path, const place_problem *p, const place_sites *s, int *site_out, diag_list *d)
{
    if (p->n_units > 0 && !p->name)
        return diag_error(d, diag_at_file(path), "cannot replay a placement: the program's units have no names");
    size_t len = 0;
    char *text = read_file(path, &len, d);
    if (!text)
        return -1;
    int rc = placement_read_string(path, text, len, p, s, site_out, d);
    free(text);
    return rc;
}

int placement_read_string(const char *path, const char *text, size_t len, const place_problem *p,
                          const place_sites *s, int *site_out, diag_list *d)
{
    diag_loc at = diag_at_file(path);
    const fab_fabric *f = p->fab;
    if (p->n_units > 0 && !p->name)
        return diag_error(d, at, "cannot replay a placement: the program's units have no names");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        diag_add_source(d, path, text);
        diag_loc where = {path, jerr.line > 0 ? jerr.line : 0, jerr.column > 0 ? jerr.column : 0};
        diag_error(d, where, "malformed JSON: %s", jerr.text);
        return -1;
    }

    int errors_before = d->n_errors;
    int *grid = xmalloc(((size_t)f->rows * (size_t)f->cols + 1) * sizeof *grid);
    int *order = xmalloc(((size_t)p->n_units + 1) * sizeof *order);
    int *site_of_unit = xmalloc(((size_t)p->n_units + 1) * sizeof *site_of_unit);
    int *unit_on_site = xmalloc(((size_t)s->n + 1) * sizeof *unit_on_site);
    json_t *units = NULL;
    if (!grid || !order || !site_of_unit || !unit_on_site) {
        diag_error(d, at, "out of memory reading the placement");
        goto done;
    }
    for (int i = 0; i < f->rows * f->cols; i++)
        grid[i] = -1;
    for (int i = 0; i < s->n; i++)
        if (s->site[i].kind != PLACE_AGCU)
            grid[s->site[i].row * f->cols + s->site[i].col] = i;
    for (int i = 0; i < s->n; i++)
        unit_on_site[i] = -1;

    /* Index the names; a program with two units of one name cannot be
     * replayed by name. */
    for (int u = 0; u < p->n_units; u++) {
        order[u] = u;
        site_of_unit[u] = -1;
        if (!p->name[u]) {
            diag_error(d, at, "cannot replay a placement: unit %d of the program has no name", u);
            goto done;
        }
    }
    sort_names = p->name;
    qsort(order, (size_t)p->n_units, sizeof *order, by_name);
    sort_names = NULL;
    for (int k = 1; k < p->n_units; k++)
        if (!strcmp(p->name[order[k - 1]], p->name[order[k]])) {
            diag_error(d, at, "cannot replay a placement: two units of the program are named '%s'",
                       p->name[order[k]]);
            goto done;
        }
    name_index ix = {p->name, order, p->n_units};

    units = find_units(path, root, d);
    if (!units)
        goto done;
    size_t k;
    json_t *e;
    /* A file that shares no unit name with the program is one mistake,
     * not one per unit. */
    size_t named = 0, known = 0;
    const char *first_name = NULL;
    json_array_foreach(units, k, e) {
        json_t *jn = json_is_object(e) ? json_object_get(e, "unit") : NULL;
        if (json_is_object(e) && !jn)
            jn = json_object_get(e, "name");
        if (json_is_string(jn)) {
            if (named++ == 0)
                first_name = json_string_value(jn);
            known += lookup(&ix, json_string_value(jn)) >= 0;
        }
    }
    if (named > 0 && known == 0 && p->n_units > 0) {
        diag_error(d, at, "none of the %zu units in the placement is a unit of this program (the file's first is "
                   "'%s', the program's first '%s'): it is a placement of another program", named,
                   first_name, p->name[0]);
        goto done;
    }
    json_array_foreach(units, k, e) {
        int u = read_entry(path, p, s, grid, &ix, e, (int)k, site_of_unit, d);
        if (u < 0 || site_of_unit[u] < 0)
            continue;
        int t = site_of_unit[u];
        /* An AGCU has a slot per DRAM stream it serves: the next free one. */
        for (int q = t; unit_on_site[t] >= 0 && s->site[t].kind == PLACE_AGCU && q < s->n; q++)
            if (s->site[q].kind == PLACE_AGCU && s->site[q].row == s->site[t].row &&
                s->site[q].col == s->site[t].col && unit_on_site[q] < 0) {
                t = q;
                site_of_unit[u] = q;
            }
        if (unit_on_site[t] >= 0)
            diag_error(d, at, "site (%d,%d) %s is given to both '%s' and '%s'", s->site[t].row, s->site[t].col,
                       site_kind_name(s->site[t].kind), p->name[unit_on_site[t]], p->name[u]);
        else
            unit_on_site[t] = u;
    }
    int missing = 0;
    for (int u = 0; u < p->n_units; u++)
        if (site_of_unit[u] == -1) {
            missing++;
            diag_error(d, at, "unit '%s' is missing", p->name[u]);
        }
    if (missing > 1)
        diag_note(d, at, "%d of the program's %d units are missing from the placement", missing, p->n_units);

done:
    json_decref(root);
    int rc = d->n_errors > errors_before || !grid || !order || !site_of_unit || !unit_on_site ? -1 : 0;
    if (rc == 0)
        memcpy(site_out, site_of_unit, (size_t)p->n_units * sizeof *site_out);
    free(grid);
    free(order);
    free(site_of_unit);
    free(unit_on_site);
    return rc;
}

int placement_saved_par(const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    json_t *par = json_is_object(root) ? json_object_get(json_object_get(root, "dfg"), "par") : NULL;
    int n = json_is_integer(par) && json_integer_value(par) >= 1 && json_integer_value(par) <= 4096
                ? (int)json_integer_value(par)
                : 1;
    json_decref(root);
    return n;
}
