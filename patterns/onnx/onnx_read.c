/*
 * onnx_read.c — reading ONNX: the model protobuf (through the C that
 * protoc-c generates from Debian's onnx.proto), its tensors, the graph's
 * values and nodes, and the run-time data of ONNX's test layout.
 *
 * The graph is read into ox_values and ox_nodes (onnx_internal.h); the
 * decomposition in onnx_ops.c turns them into `.pat` text, which the `.pat`
 * front end checks into the pattern IR.  Element types: float is f32;
 * int32, int64 and bool are i32 (int64 values must fit, bool is 0/1); any
 * other type is refused with its name.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "patterns/onnx/onnx_internal.h"
#include "patterns/pat_data.h"

bool onnx_is_model_path(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n >= 5 && !strcmp(path + n - 5, ".onnx");
}

const char *ox_dtype_name(int dtype)
{
    static const char *const names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
                                        "int64", "string", "bool", "float16", "double", "uint32", "uint64",
                                        "complex64", "complex128", "bfloat16"};
    return dtype >= 0 && dtype < (int)(sizeof names / sizeof *names) ? names[dtype] : "unknown";
}

/* Read a whole file; NULL with a diagnostic. */
static uint8_t *read_file(const char *path, size_t *len, diag_list *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_io_error(d, diag_at_file(path), "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        diag_error(d, diag_at_file(path), buf ? "cannot read" : "out of memory reading the file");
        return NULL;
    }
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------ */
/* Tensors                                                             */

static bool dtype_supported(int dt)
{
    return dt == OX_FLOAT || dt == OX_INT32 || dt == OX_INT64 || dt == OX_BOOL;
}

/* The values of TensorProto t as doubles (exact for every supported type).
 * Returns a malloc'd array of count elements, or NULL with a message. */
static double *tensor_doubles(const Onnx__TensorProto *t, int64_t count, const char **why)
{
    int dt = t->has_data_type ? t->data_type : 0;
    if (!dtype_supported(dt)) {
        *why = "element type";
        return NULL;
    }
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        *why = "its data is in an external file, which rdumap does not read";
        return NULL;
    }
    double *v = malloc((size_t)(count > 0 ? count : 1) * sizeof *v);
    if (!v) {
        *why = "out of memory";
        return NULL;
    }
    size_t n = (size_t)count;
    if (t->has_raw_data && t->raw_data.len > 0) {
        size_t es = dt == OX_FLOAT || dt == OX_INT32 ? 4 : dt == OX_INT64 ? 8 : 1;
        if (t->raw_data.len != n * es) {
            free(v);
            *why = "its raw data does not hold as many elements as its shape";
            return NULL;
        }
        const uint8_t *b = t->raw_data.data;
        for (size_t i = 0; i < n; i++) {
            if (dt == OX_FLOAT) {
                float f;
                memcpy(&f, b + 4 * i, 4);
                v[i] = f;
            } else if (dt == OX_INT32) {
                int32_t x;
                memcpy(&x, b + 4 * i, 4);
                v[i] = x;
            } else if (dt == OX_INT64) {
                int64_t x;
                memcpy(&x, b + 8 * i, 8);
                v[i] = (double)x;
            } else
                v[i] = b[i] != 0;
        }
        return v;
    }
    size_t have = dt == OX_FLOAT ? t->n_float_data : dt == OX_INT64 ? t->n_int64_data : t->n_int32_data;
    if (have != n) {
        free(v);
        *why = "its data does not hold as many elements as its shape";
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = dt == OX_FLOAT ? (double)t->float_data[i]
             : dt == OX_INT64 ? (double)t->int64_data[i]
             : dt == OX_BOOL ? (double)(t->int32_data[i] != 0) : (double)t->int32_data[i];
    return v;
}

/* The type of TensorProto t; -1 with a message for an unsupported one. */
static int tensor_type(const Onnx__TensorProto *t, pat_type *ty, int64_t *count, const char **why)
{
    int dt = t->has_data_type ? t->data_type : 0;
    if (!dtype_supported(dt)) {
        *why = "element type";
        return -1;
    }
    if (t->n_dims > PAT_MAX_RANK) {
        *why = "rank above 8";
        return -1;
    }
    memset(ty, 0, sizeof *ty);
    ty->elem = dt == OX_FLOAT ? PAT_F32 : PAT_I32;
    ty->rank = (int)t->n_dims;
    int64_t c = 1;
    for (size_t k = 0; k < t->n_dims; k++) {
        if (t->dims[k] < 1 || t->dims[k] > INT32_MAX) {
            *why = t->dims[k] == 0 ? "an empty dimension (rdumap's tensors have at least one element)"
                                   : "a dimension out of range";
            return -1;
        }
        ty->dims[k] = (int32_t)t->dims[k];
        c *= t->dims[k];
        if (c > ((int64_t)1 << 40)) {
            *why = "too many elements";
            return -1;
        }
    }
    *count = c;
    return 0;
}

int ox_tensor_known(ox_ctx *c, const Onnx__TensorProto *t, ox_value *v, const char *what)
{
    const char *why = NULL;
    int64_t count;
    int dt = t->has_data_type ? t->data_type : 0;
    if (tensor_type(t, &v->type, &count, &why) != 0) {
        if (!strcmp(why, "element type"))
            return diag_error(c->d, diag_at_file(c->path),
                              "%s '%s' has element type %s: rdumap computes in f32 and i32 (float, int32, int64 "
                              "and bool are read)", what, v->name, ox_dtype_name(dt));
        return diag_error(c->d, diag_at_file(c->path), "%s '%s' is not supported: %s", what, v->name, why);
    }
    double *kv = tensor_doubles(t, count, &why);
    if (!kv)
        return diag_error(c->d, diag_at_file(c->path), "%s '%s' is not supported: %s", what, v->name, why);
    /* the arena owns it from here */
    double *ak = arena_alloc(c->a, (size_t)count * sizeof *ak);
    if (!ak) {
        free(kv);
        return diag_error(c->d, diag_at_file(c->path), "out of memory");
    }
    memcpy(ak, kv, (size_t)count * sizeof *ak);
    free(kv);
    v->kv = ak;
    v->known = true;
    v->typed = true;
    v->dtype = dt;
    return 0;
}

/* Fill out (type want) from TensorProto t; int64/bool to i32 with checks. */
static int tensor_to_pat(const Onnx__TensorProto *t, const pat_type *want, const char *path, pat_tensor *out,
                         diag_list *d)
{
    pat_type ty;
    int64_t count;
    const char *why = NULL;
    int dt = t->has_data_type ? t->data_type : 0;
    if (tensor_type(t, &ty, &count, &why) != 0) {
        if (!strcmp(why, "element type"))
            return diag_error(d, diag_at_file(path), "element type %s is not supported (rdumap computes in f32 "
                              "and i32)", ox_dtype_name(dt));
        return diag_error(d, diag_at_file(path), "tensor not supported: %s", why);
    }
    char a[96], b[96];
    /* ONNX writes a scalar either as rank 0 or as [1]: both fit a rank-0 or [1] want */
    bool same = pat_type_equal(&ty, want) ||
                (count == 1 && pat_type_count(want) == 1 && ty.elem == want->elem);
    if (!same)
        return diag_error(d, diag_at_file(path), "holds %s (%s), the model expects %s", pat_type_str(&ty, a, sizeof a),
                          ox_dtype_name(dt), pat_type_str(want, b, sizeof b));
    double *v = tensor_doubles(t, count, &why);
    if (!v)
        return diag_error(d, diag_at_file(path), "the tensor is not supported: %s", why);
    if (pat_tensor_alloc(out, want) != 0) {
        free(v);
        return diag_error(d, diag_at_file(path), "out of memory");
    }
    for (int64_t i = 0; i < count; i++) {
        if (want->elem == PAT_F32)
            out->data.f[i] = (float)v[i];
        else if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
            int64_t bad = (int64_t)v[i];
            free(v);
            pat_tensor_free(out);
            return diag_error(d, diag_at_file(path), "element %" PRId64 " is %" PRId64 ", which does not fit in "
                              "i32 (rdumap narrows %s to i32)", i, bad, ox_dtype_name(dt));
        } else
            out->data.i[i] = (int32_t)v[i];
    }
    free(v);
    return 0;
}

int onnx_read_tensor_file(const char *path, const pat_type *want, pat_tensor *out, diag_list *d)
{
    memset(out, 0, sizeof *out);
    size_t len;
    uint8_t *buf = read_file(path, &len, d);
    if (!buf)
        return -1;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!t)
        return diag_error(d, diag_at_file(path), "not a serialized ONNX TensorProto");
    int rc = tensor_to_pat(t, want, path, out, d);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

static bool is_reserved(const char *s)
{
    static const char *const words[] = {"const", "input", "output", "buffer", "map", "reduce", "groupby", "where",
                                        "key", "into", "let", "in", "sorted", "f32", "i32", "exp", "log", "sqrt",
                                        "tanh", "abs", "max", "min"};
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (!strcmp(s, words[k]))
            return true;
    return false;
}

/* A pat identifier for ONNX name `name`, unique among the values named so
 * far: the name itself when it is one, else with every other character
 * made '_' and a 'v' in front of a leading digit or '_' (names that start
 * with '_' are the decomposition's own). */
const char *ox_pat_name(ox_ctx *c, const char *name)
{
    size_t n = strlen(name);
    char *s = arena_alloc(c->a, n + 16);
    if (!s)
        return NULL;
    size_t o = 0;
    if (n == 0 || !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        s[o++] = 'v';
    for (size_t k = 0; k < n; k++) {
        char ch = name[k];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
        s[o++] = ok ? ch : '_';
    }
    s[o] = 0;
    if (is_reserved(s)) {
        memmove(s + 2, s, o + 1);
        s[0] = 'v';
        s[1] = '_';
    }
    /* unique among declared names */
    size_t base = strlen(s);
    for (int suffix = 2;; suffix++) {
        bool clash = false;
        for (int i = 0; i < c->n_values && !clash; i++)
            clash = c->values[i]->pat && !strcmp(c->values[i]->pat, s);
        if (!clash)
            break;
        snprintf(s + base, 16, "_%d", suffix);
    }
    return s;
}

ox_value *ox_value_find(ox_ctx *c, const char *name)
{
    for (int i = c->n_values - 1; i >= 0; i--)
        if (!strcmp(c->values[i]->name, name))
            return c->values[i];
    return NULL;
}

ox_value *ox_value_new(ox_ctx *c, const char *name)
{
    if (c->n_values == c->cap_values) {
        int cap = c->cap_values ? 2 * c->cap_values : 64;
        ox_value **nv = arena_calloc(c->a, (size_t)cap, sizeof *nv);
        if (!nv)
            return NULL;
        if (c->n_values)
            memcpy(nv, c->values, (size_t)c->n_values * sizeof *nv);
        c->values = nv;
        c->cap_values = cap;
    }
    ox_value *v = arena_calloc(c->a, 1, sizeof *v);
    if (!v)
        return NULL;
    v->name = arena_strdup(c->a, name);
    v->graph_input = -1;
    c->values[c->n_values++] = v;
    return v;
}

/* ------------------------------------------------------------------ */
/* --shape                                                             */

/* Parse "1,3,8x8" into dims; -1 when malformed. */
static int parse_dims(const char *s, int64_t *dims, int *rank)
{
    *rank = 0;
    while (*s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v < 1 || v > INT32_MAX || *rank == PAT_MAX_RANK)
            return -1;
        dims[(*rank)++] = v;
        s = end;
        if (*s == ',' || *s == 'x' || *s == 'X')
            s++;
        else if (*s)
            return -1;
    }
    return *rank > 0 ? 0 : -1;
}

/* The type of graph input `vi`, its symbolic dimensions fixed by --shape. */
static int input_type(ox_ctx *c, const Onnx__ValueInfoProto *vi, ox_value *v, const char *const *shapes,
                      int n_shapes)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return diag_error(c->d, diag_at_file(c->path), "graph input '%s' is not a tensor: rdumap reads tensor "
                          "inputs only", vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int dt = tt->has_elem_type ? tt->elem_type : 0;
    if (!dtype_supported(dt))
        return diag_error(c->d, diag_at_file(c->path), "graph input '%s' has element type %s: rdumap computes in "
                          "f32 and i32 (float, int32, int64 and bool are read)", vi->name, ox_dtype_name(dt));
    v->dtype = dt;
    v->type.elem = dt == OX_FLOAT ? PAT_F32 : PAT_I32;
    /* a whole shape given for this input wins */
    for (int k = 0; k < n_shapes; k++) {
        const char *eq = strchr(shapes[k], '=');
        if (eq && (size_t)(eq - shapes[k]) == strlen(vi->name) && !strncmp(shapes[k], vi->name, strlen(vi->name))) {
            int64_t dims[PAT_MAX_RANK];
            int rank;
            if (parse_dims(eq + 1, dims, &rank) != 0)
                return diag_error(c->d, diag_at_file(c->path), "--shape %s: give the dimensions as numbers from "
                                  "1 up, separated by ',' or 'x'", shapes[k]);
            v->type.rank = rank;
            for (int r = 0; r < rank; r++)
                v->type.dims[r] = (int32_t)dims[r];
            v->typed = true;
            return 0;
        }
    }
    if (!tt->shape)
        return diag_error(c->d, diag_at_file(c->path), "graph input '%s' has no shape: give it with --shape %s=DIMS",
                          vi->name, vi->name);
    if (tt->shape->n_dim > PAT_MAX_RANK)
        return diag_error(c->d, diag_at_file(c->path), "graph input '%s' has rank %zu; rdumap's tensors have at "
                          "most %d dimensions", vi->name, tt->shape->n_dim, PAT_MAX_RANK);
    v->type.rank = (int)tt->shape->n_dim;
    for (size_t r = 0; r < tt->shape->n_dim; r++) {
        const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[r];
        int64_t val = -1;
        if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            val = dm->dim_value;
        else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            for (int k = 0; k < n_shapes; k++) {
                const char *eq = strchr(shapes[k], '=');
                size_t ln = strlen(dm->dim_param);
                if (eq && (size_t)(eq - shapes[k]) == ln && !strncmp(shapes[k], dm->dim_param, ln)) {
                    int64_t dims[PAT_MAX_RANK];
                    int rank;
                    if (parse_dims(eq + 1, dims, &rank) != 0 || rank != 1)
                        return diag_error(c->d, diag_at_file(c->path), "--shape %s: a symbolic dimension takes "
                                          "one number from 1 up", shapes[k]);
                    val = dims[0];
                }
            }
            if (val < 0)
                return diag_error(c->d, diag_at_file(c->path), "graph input '%s': dimension %zu is symbolic ('%s'); "
                                  "fix it with --shape %s=SIZE (or the whole shape with --shape %s=DIMS)", vi->name, r,
                                  dm->dim_param, dm->dim_param, vi->name);
        } else
            return diag_error(c->d, diag_at_file(c->path), "graph input '%s': dimension %zu is unknown; give the "
                              "shape with --shape %s=DIMS", vi->name, r, vi->name);
        if (val < 1 || val > INT32_MAX)
            return diag_error(c->d, diag_at_file(c->path), "graph input '%s': dimension %zu is %" PRId64 "; rdumap's "
                              "tensors have dimensions from 1 up", vi->name, r, val);
        v->type.dims[r] = (int32_t)val;
    }
    v->typed = true;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

static int emit_header(ox_ctx *c, const Onnx__ModelProto *mp, char **out)
{
    const char *prod = mp->producer_name && *mp->producer_name ? mp->producer_name : "an unnamed producer";
    const char *ver = mp->producer_version ? mp->producer_version : "";
    const char *slash = strrchr(c->path, '/');
    *out = arena_printf(c->a,
                        "# %s, decomposed into parallel patterns by rdumap\n"
                        "# (made by %s %s, opset %" PRId64 ", %d nodes).  Inputs read from the model\n"
                        "# (its initializers and constants) are marked; run this program with\n"
                        "# --data DIR holding NAME.npy for them (rdumap MODEL.onnx --emit-pat F --emit-data DIR).\n\n",
                        slash ? slash + 1 : c->path, prod, ver, c->opset, c->n_nodes);
    return *out ? 0 : -1;
}

int ox_input_known(ox_ctx *c, ox_value *v)
{
    if (v->known || v->graph_input < 0 || !c->data_dir)
        return 1;
    char *path = arena_printf(c->a, "%s/input_%d.pb", c->data_dir, v->graph_input);
    size_t len;
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return 1;
    uint8_t *buf = read_file(path, &len, c->d);
    if (!buf)
        return -1;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!t)
        return diag_error(c->d, diag_at_file(path), "not a serialized ONNX TensorProto");
    pat_type want = v->type;
    int rc = ox_tensor_known(c, t, v, "graph input");
    onnx__tensor_proto__free_unpacked(t, NULL);
    if (rc != 0)
        return rc;
    /* a scalar may come as [1] or [] */
    if (!pat_type_equal(&want, &v->type) && !(pat_type_count(&want) == 1 && pat_type_count(&v->type) == 1))
        return diag_error(c->d, diag_at_file(path), "the data of graph input '%s' does not have its declared shape",
                          v->name);
    v->type = want;
    return 0;
}

int onnx_load(const char *path, const char *const *shapes, int n_shapes, const char *data_dir, arena *a,
              onnx_model *m, diag_list *d)
{
    memset(m, 0, sizeof *m);
    m->path = path;
    size_t len;
    uint8_t *buf = read_file(path, &len, d);
    if (!buf)
        return -1;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!mp)
        return diag_error(d, diag_at_file(path), "not an ONNX model: the file is not a ModelProto protobuf");
    ox_ctx c = {.a = a, .d = d, .path = path, .opset = -1, .data_dir = data_dir};
    int rc = -1;
    const Onnx__GraphProto *g = mp->graph;
    if (!g) {
        diag_error(d, diag_at_file(path), "the model has no graph");
        goto out;
    }
    /* ONNX requires these names; protobuf leaves an absent one NULL */
    for (size_t k = 0; k < g->n_input + g->n_output; k++) {
        const Onnx__ValueInfoProto *vi = k < g->n_input ? g->input[k] : g->output[k - g->n_input];
        bool unnamed = !vi->name;
        const Onnx__TypeProto *tp = vi->type;
        if (!unnamed && tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type &&
            tp->tensor_type->shape)
            for (size_t r = 0; r < tp->tensor_type->shape->n_dim; r++) {
                const Onnx__TensorShapeProto__Dimension *dm = tp->tensor_type->shape->dim[r];
                unnamed = unnamed || (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                                      !dm->dim_param);
            }
        if (unnamed) {
            diag_error(d, diag_at_file(path), "graph %s %zu has no name (or a symbolic dimension without one)",
                       k < g->n_input ? "input" : "output", k < g->n_input ? k : k - g->n_input);
            goto out;
        }
    }
    for (size_t k = 0; k < mp->n_opset_import; k++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[k];
        if (!os->domain || !*os->domain || !strcmp(os->domain, "ai.onnx"))
            c.opset = os->has_version ? os->version : 1;
    }
    if (c.opset < 0)
        c.opset = 1; /* IR version 1 models name no opset */
    if (c.opset < ONNX_OPSET_MIN || c.opset > ONNX_OPSET_MAX) {
        diag_error(d, diag_at_file(path), "opset %" PRId64 " of the default domain is not supported (rdumap "
                   "implements opsets %d to %d)", c.opset, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
        goto out;
    }
    m->opset = c.opset;
    if (g->n_sparse_initializer) {
        diag_error(d, diag_at_file(path), "sparse initializers are not supported");
        goto out;
    }

    /* Initializers: known values. */
    for (size_t k = 0; k < g->n_initializer; k++) {
        const Onnx__TensorProto *t = g->initializer[k];
        ox_value *v = ox_value_new(&c, t->name ? t->name : "");
        if (!v)
            goto oom;
        v->is_init = true;
        if (ox_tensor_known(&c, t, v, "initializer") != 0)
            goto out;
    }
    /* --shape names that match nothing are a usage error the user wants to hear about */
    for (int k = 0; k < n_shapes; k++) {
        const char *eq = strchr(shapes[k], '=');
        if (!eq) {
            diag_error(d, diag_at_file(path), "--shape takes NAME=DIMS, not '%s'", shapes[k]);
            goto out;
        }
        bool found = false;
        for (size_t q = 0; q < g->n_input && !found; q++) {
            const Onnx__ValueInfoProto *vi = g->input[q];
            found = strlen(vi->name) == (size_t)(eq - shapes[k]) && !strncmp(vi->name, shapes[k], (size_t)(eq - shapes[k]));
            const Onnx__TypeProto *tp = vi->type;
            if (!found && tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type->shape)
                for (size_t r = 0; r < tp->tensor_type->shape->n_dim && !found; r++) {
                    const Onnx__TensorShapeProto__Dimension *dm = tp->tensor_type->shape->dim[r];
                    found = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                            strlen(dm->dim_param) == (size_t)(eq - shapes[k]) &&
                            !strncmp(dm->dim_param, shapes[k], (size_t)(eq - shapes[k]));
                }
        }
        if (!found) {
            diag_error(d, diag_at_file(path), "--shape %s: the model has no graph input or symbolic dimension "
                       "called '%.*s'", shapes[k], (int)(eq - shapes[k]), shapes[k]);
            goto out;
        }
    }

    /* Graph inputs that are not initializers. */
    int n_in = 0;
    m->input_decl = arena_calloc(a, g->n_input + 1, sizeof *m->input_decl);
    m->input_onnx = arena_calloc(a, g->n_input + 1, sizeof *m->input_onnx);
    if (!m->input_decl || !m->input_onnx)
        goto oom;
    for (size_t k = 0; k < g->n_input; k++) {
        const Onnx__ValueInfoProto *vi = g->input[k];
        if (ox_value_find(&c, vi->name))
            continue; /* an initializer listed among the inputs (IR < 4) */
        ox_value *v = ox_value_new(&c, vi->name);
        if (!v)
            goto oom;
        v->graph_input = n_in;
        m->input_onnx[n_in++] = v->name;
        if (input_type(&c, vi, v, shapes, n_shapes) != 0)
            goto out;
    }
    m->n_inputs = n_in;
    /* Nodes, with their outputs as new values. */
    c.n_nodes = (int)g->n_node;
    c.nodes = arena_calloc(a, g->n_node + 1, sizeof *c.nodes);
    if (!c.nodes)
        goto oom;
    for (size_t k = 0; k < g->n_node; k++) {
        const Onnx__NodeProto *np = g->node[k];
        ox_node *n = &c.nodes[k];
        n->p = np;
        n->pos = (int)k;
        n->op = np->op_type ? np->op_type : "";
        n->opset = c.opset;
        n->n_in = (int)np->n_input;
        n->n_out = (int)np->n_output;
        n->in = arena_calloc(a, np->n_input + 1, sizeof *n->in);
        n->out = arena_calloc(a, np->n_output + 1, sizeof *n->out);
        if (!n->in || !n->out)
            goto oom;
        if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx")) {
            ox_node_error(&c, n, "operator domain '%s' is not supported (only the default ONNX domain is)",
                          np->domain);
            goto out;
        }
        for (size_t q = 0; q < np->n_input; q++) {
            if (!*np->input[q])
                continue; /* an omitted optional input */
            ox_value *v = ox_value_find(&c, np->input[q]);
            if (!v) {
                ox_node_error(&c, n, "input '%s' is neither a graph input, an initializer nor the output of an "
                              "earlier node (the graph must be in topological order)", np->input[q]);
                goto out;
            }
            v->uses++;
            v->reader = n;
            n->in[q] = v;
        }
        for (size_t q = 0; q < np->n_output; q++) {
            if (!*np->output[q])
                continue;
            ox_value *v = ox_value_new(&c, np->output[q]);
            if (!v)
                goto oom;
            n->out[q] = v;
        }
    }
    m->n_outputs = (int)g->n_output;
    m->output_decl = arena_calloc(a, g->n_output + 1, sizeof *m->output_decl);
    m->output_onnx = arena_calloc(a, g->n_output + 1, sizeof *m->output_onnx);
    if (!m->output_decl || !m->output_onnx)
        goto oom;
    if (g->n_output == 0) {
        diag_error(d, diag_at_file(path), "the graph has no outputs");
        goto out;
    }
    for (size_t k = 0; k < g->n_output; k++) {
        ox_value *v = ox_value_find(&c, g->output[k]->name);
        if (!v) {
            diag_error(d, diag_at_file(path), "graph output '%s' is computed by no node", g->output[k]->name);
            goto out;
        }
        if (v->is_graph_output) {
            diag_error(d, diag_at_file(path), "graph output '%s' is listed twice", v->name);
            goto out;
        }
        v->is_graph_output = true;
        m->output_onnx[k] = v->name;
    }
    /* Names: graph inputs and outputs keep theirs where they are identifiers. */
    for (int i = 0; i < c.n_values; i++) {
        ox_value *v = c.values[i];
        if ((v->graph_input >= 0 || v->is_graph_output) && !(v->pat = ox_pat_name(&c, v->name)))
            goto oom;
    }

    if (ox_decompose(&c) != 0)
        goto out;
    if (c.oom)
        goto oom;
    /* The outputs' inferred shapes must be the ones the model states, where it states them. */
    for (size_t k = 0; k < g->n_output; k++) {
        const Onnx__TypeProto *tp = g->output[k]->type;
        if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type->shape)
            continue;
        const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
        const ox_value *v = ox_value_find(&c, g->output[k]->name);
        bool stated = true, same = (int)sh->n_dim == v->type.rank;
        int64_t cnt = 1;
        for (size_t r = 0; r < sh->n_dim; r++) {
            stated = stated && sh->dim[r]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            if (stated) {
                cnt *= sh->dim[r]->dim_value;
                same = same && r < (size_t)v->type.rank && sh->dim[r]->dim_value == v->type.dims[r];
            }
        }
        if (stated && !same && !(cnt == 1 && pat_type_count(&v->type) == 1)) {
            char b[96];
            diag_error(d, diag_at_file(path), "graph output '%s': the model states %zu dimensions (%" PRId64
                       " elements) where the operators give %s", v->name, sh->n_dim, cnt,
                       pat_type_str(&v->type, b, sizeof b));
            goto out;
        }
    }

    /* The program text. */
    char *head;
    if (emit_header(&c, mp, &head) != 0)
        goto oom;
    char *text = arena_printf(a, "%s%s\n%s", head, c.decls ? c.decls : "", c.defs ? c.defs : "");
    if (!text)
        goto oom;
    m->pat_text = text;
    for (int i = 0; i < c.n_values; i++) {
        ox_value *v = c.values[i];
        if (v->graph_input >= 0)
            m->input_decl[v->graph_input] = v->declared ? v->pat : NULL;
    }
    for (size_t k = 0; k < g->n_output; k++)
        m->output_decl[k] = ox_value_find(&c, g->output[k]->name)->pat;
    /* Model constants: the declared inputs with known values. */
    m->const_decl = arena_calloc(a, (size_t)c.n_values + 1, sizeof *m->const_decl);
    m->const_val = calloc((size_t)c.n_values + 1, sizeof *m->const_val);
    if (!m->const_decl || !m->const_val)
        goto oom;
    for (int i = 0; i < c.n_values; i++) {
        ox_value *v = c.values[i];
        if (!v->declared || !v->known || v->form != OXF_DECL || v->graph_input >= 0)
            continue;
        pat_tensor *t = &m->const_val[m->n_consts];
        if (pat_tensor_alloc(t, &v->type) != 0)
            goto oom;
        m->const_decl[m->n_consts++] = v->pat;
        for (int64_t e = 0; e < t->count; e++) {
            if (v->type.elem == PAT_F32)
                t->data.f[e] = (float)v->kv[e];
            else if (v->kv[e] < INT32_MIN || v->kv[e] > INT32_MAX) {
                diag_error(d, diag_at_file(path), "%s '%s': element %" PRId64 " is %.0f, which does not fit in i32 "
                           "(rdumap narrows int64 to i32)", v->is_init ? "initializer" : "constant", v->name, e,
                           v->kv[e]);
                goto out;
            } else
                t->data.i[e] = (int32_t)v->kv[e];
        }
    }
    const char *pname = arena_printf(a, "%s (decomposed)", path);
    if (!pname)
        goto oom;
    m->prog = pat_load_string(pname, text, a, d);
    if (!m->prog) {
        diag_error(d, diag_at_file(path), "internal error: the decomposed program does not check (see the errors "
                   "above; --emit-pat writes it)");
        goto out;
    }
    m->prog->file = path;
    rc = 0;
    goto out;
oom:
    diag_error(d, diag_at_file(path), "out of memory");
out:
    free(c.decls);
    free(c.defs);
    onnx__model_proto__free_unpacked(mp, NULL);
    return rc;
}

void onnx_model_free(onnx_model *m)
{
    if (m->const_val)
        for (int k = 0; k < m->n_consts; k++)
            pat_tensor_free(&m->const_val[k]);
    free(m->const_val);
    m->const_val = NULL;
    m->n_consts = 0;
}

/* ------------------------------------------------------------------ */
/* Run-time data                                                       */

int onnx_load_inputs(const onnx_model *m, const char *data_dir, bool gen_missing, uint64_t seed,
                     pat_values *vals, diag_list *d)
{
    const pat_program *p = m->prog;
    struct stat st;
    if (data_dir && (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return diag_error(d, diag_at_file(data_dir), "cannot read inputs: not a directory");
    for (int k = 0; k < m->n_consts; k++) {
        pat_decl *dc = pat_find_decl(p, m->const_decl[k]);
        if (!dc || dc->kind != PAT_INPUT)
            return diag_error(d, diag_at_file(m->path), "internal error: no input for constant '%s'", m->const_decl[k]);
        pat_tensor *t = &vals->t[dc->id];
        pat_tensor_free(t);
        if (pat_tensor_alloc(t, &dc->type) != 0)
            return diag_error(d, diag_at_file(m->path), "out of memory");
        memcpy(t->data.p, m->const_val[k].data.p, (size_t)t->count * 4);
    }
    for (int k = 0; k < m->n_inputs; k++) {
        if (!m->input_decl[k])
            continue;
        pat_decl *dc = pat_find_decl(p, m->input_decl[k]);
        if (!dc)
            return diag_error(d, diag_at_file(m->path), "internal error: no input '%s'", m->input_decl[k]);
        pat_tensor *t = &vals->t[dc->id];
        pat_tensor_free(t);
        int r;
        if (data_dir) {
            char *pb = malloc(strlen(data_dir) + 32), *npy = malloc(strlen(data_dir) + strlen(dc->name) + 8);
            if (!pb || !npy) {
                free(pb);
                free(npy);
                return diag_error(d, diag_at_file(data_dir), "out of memory");
            }
            sprintf(pb, "%s/input_%d.pb", data_dir, k);
            sprintf(npy, "%s/%s.npy", data_dir, dc->name);
            if (stat(pb, &st) == 0)
                r = onnx_read_tensor_file(pb, &dc->type, t, d);
            else if (stat(npy, &st) == 0)
                r = pat_npy_read(npy, dc, t, d);
            else if (gen_missing)
                r = pat_generate(dc, seed, t, d);
            else
                r = diag_error(d, diag_at_file(data_dir), "no data for graph input %d '%s': neither input_%d.pb nor "
                               "%s.npy is there (or give --gen-missing)", k, m->input_onnx[k], k, dc->name);
            free(pb);
            free(npy);
        } else
            r = pat_generate(dc, seed, t, d);
        if (r != 0)
            return -1;
    }
    return 0;
}

int onnx_write_pat(const onnx_model *m, const char *path, diag_list *d)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 8);
    if (!tmp)
        return diag_error(d, diag_at_file(path), "out of memory");
    snprintf(tmp, n + 8, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f || fputs(m->pat_text, f) == EOF)
        rc = -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        remove(tmp);
        diag_error(d, diag_at_file(path), "cannot write: %s", strerror(errno));
    }
    free(tmp);
    return rc;
}

int onnx_write_consts(const onnx_model *m, const char *dir, diag_list *d)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return diag_error(d, diag_at_file(dir), "cannot write the model's constants: not a directory");
    for (int k = 0; k < m->n_consts; k++) {
        char *path = malloc(strlen(dir) + strlen(m->const_decl[k]) + 8);
        if (!path)
            return diag_error(d, diag_at_file(dir), "out of memory");
        sprintf(path, "%s/%s.npy", dir, m->const_decl[k]);
        int r = pat_npy_write(path, &m->const_val[k], d);
        free(path);
        if (r != 0)
            return -1;
    }
    return 0;
}
