/*
 * outputs.c — the all-or-nothing set of a run's output files.
 *
 * Commit runs in four steps, each of which can fail without a trace:
 *   1. flush, fsync and close every temporary (a full disk shows up here);
 *   2. refuse any target that has become a directory, and hard-link a backup
 *      of every regular target that exists;
 *   3. write the in-memory contents of device and pipe targets;
 *   4. rename every temporary over its target; should a rename fail, the
 *      files renamed before it are put back from their backups (or removed,
 *      if they did not exist).
 * Temporaries are "DIR/.NAME.PID.K.tmp", created O_EXCL with mode 0666
 * minus the umask, like any new file.
 */
#include "util/outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

struct outputs_file {
    char *final;     /* target path */
    char *tmp;       /* temporary next to it; NULL for a device target */
    FILE *f;         /* the stream handed out; NULL once closed */
    char *buf;       /* device target: the bytes written (open_memstream) */
    size_t len;
    char *backup;    /* hard link to the replaced target, or NULL */
    bool existed;    /* the target existed before the rename */
    bool renamed;
};

void outputs_begin(outputs *o)
{
    memset(o, 0, sizeof *o);
}

static void file_drop(outputs_file *w)
{
    if (w->f)
        fclose(w->f);
    if (w->tmp && !w->renamed)
        unlink(w->tmp);
    if (w->backup)
        unlink(w->backup);
    free(w->tmp);
    free(w->final);
    free(w->backup);
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static int fail(outputs *o, diag_list *d, const char *path, const char *what, int err)
{
    o->failed = true;
    return diag_io_error(d, diag_at_file(path), "%s: %s", what, strerror(err));
}

/* Open a fresh temporary next to w->final. */
static int open_temp(outputs *o, outputs_file *w, diag_list *d)
{
    const char *slash = strrchr(w->final, '/');
    size_t dirlen = slash ? (size_t)(slash - w->final) + 1 : 0;
    const char *base = w->final + dirlen;
    size_t cap = strlen(w->final) + 64;
    char *tmp = xmalloc(cap);
    if (!tmp) {
        o->failed = true;
        return diag_error(d, diag_at_file(w->final), "out of memory");
    }
    int fd = -1;
    for (unsigned k = 0; k < 1000 && fd < 0; k++) {
        snprintf(tmp, cap, "%.*s.%s.%ld.%u.tmp", (int)dirlen, w->final, base, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fail(o, d, w->final, "cannot write (cannot create a temporary file next to it)", e);
    }
    w->tmp = tmp;
    w->f = fdopen(fd, "wb");
    if (!w->f) {
        int e = errno;
        close(fd);
        return fail(o, d, w->final, "cannot write", e);
    }
    return 0;
}

FILE *outputs_add(outputs *o, const char *path, diag_list *d)
{
    outputs_file *w = NULL;
    for (int i = 0; i < o->n && !w; i++)
        if (o->file[i].final && !strcmp(o->file[i].final, path)) {
            w = &o->file[i];
            file_drop(w);
        }
    if (!w) {
        if (o->n == o->cap) {
            int cap = o->cap ? 2 * o->cap : 8;
            outputs_file *grown = xreallocarray(o->file, (size_t)cap, sizeof *grown);
            if (!grown) {
                o->failed = true;
                diag_error(d, diag_at_file(path), "out of memory");
                return NULL;
            }
            o->file = grown;
            o->cap = cap;
        }
        w = &o->file[o->n++];
        memset(w, 0, sizeof *w);
    }
    w->final = xstrdup(path);
    if (!w->final) {
        o->failed = true;
        diag_error(d, diag_at_file(path), "out of memory");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        o->failed = true;
        diag_io_error(d, diag_at_file(path), "cannot write: the path is a directory");
        return NULL;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        w->f = open_memstream(&w->buf, &w->len);
        if (!w->f) {
            fail(o, d, path, "cannot write", errno);
            return NULL;
        }
        return w->f;
    }
    return open_temp(o, w, d) == 0 ? w->f : NULL;
}

int outputs_mkdir(outputs *o, const char *dir, diag_list *d)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        return fail(o, d, dir, "cannot write outputs", ENOTDIR);
    }
    if (errno != ENOENT)
        return fail(o, d, dir, "cannot write outputs", errno);
    char **grown = xreallocarray(o->dirs, (size_t)o->n_dirs + 1, sizeof *grown);
    if (!grown) {
        o->failed = true;
        return diag_error(d, diag_at_file(dir), "out of memory");
    }
    o->dirs = grown;
    char *copy = xstrdup(dir);
    if (!copy) {
        o->failed = true;
        return diag_error(d, diag_at_file(dir), "out of memory");
    }
    if (mkdir(dir, 0777) != 0) {
        int e = errno;
        free(copy);
        return fail(o, d, dir, e == ENOENT ? "cannot create the output directory (its parent does not exist)"
                                           : "cannot create the output directory", e);
    }
    o->dirs[o->n_dirs++] = copy;
    return 0;
}

static void free_set(outputs *o, bool remove_dirs)
{
    for (int i = 0; i < o->n; i++)
        file_drop(&o->file[i]);
    free(o->file);
    for (int i = o->n_dirs - 1; i >= 0; i--) {
        if (remove_dirs)
            rmdir(o->dirs[i]);
        free(o->dirs[i]);
    }
    free(o->dirs);
    outputs_begin(o);
}

void outputs_abort(outputs *o)
{
    free_set(o, true);
}

/* Step 1: every stream written out and closed. */
static int close_all(outputs *o, diag_list *d)
{
    for (int i = 0; i < o->n; i++) {
        outputs_file *w = &o->file[i];
        if (!w->f)
            continue;
        errno = 0;
        bool ok = !ferror(w->f) && fflush(w->f) == 0 && (!w->tmp || fsync(fileno(w->f)) == 0);
        int e = errno ? errno : EIO;
        if (fclose(w->f) != 0 && ok) {
            ok = false;
            e = errno;
        }
        w->f = NULL;
        if (!ok)
            return fail(o, d, w->final, "cannot write", e);
    }
    return 0;
}

/* Step 2: targets still acceptable, backups of the existing ones. */
static int prepare_targets(outputs *o, diag_list *d)
{
    for (int i = 0; i < o->n; i++) {
        outputs_file *w = &o->file[i];
        struct stat st;
        if (!w->tmp)
            continue;
        if (lstat(w->final, &st) == 0) {
            if (!S_ISREG(st.st_mode)) {
                o->failed = true;
                return diag_io_error(d, diag_at_file(w->final), "cannot write: the path %s",
                                     S_ISDIR(st.st_mode) ? "is a directory" : "is no longer a regular file");
            }
            w->existed = true;
        } else if (errno != ENOENT)
            return fail(o, d, w->final, "cannot write", errno);
        if (!w->existed)
            continue;
        size_t cap = strlen(w->tmp) + 8;
        w->backup = xmalloc(cap);
        if (!w->backup) {
            o->failed = true;
            return diag_error(d, diag_at_file(w->final), "out of memory");
        }
        snprintf(w->backup, cap, "%s.old", w->tmp);
        if (link(w->final, w->backup) != 0) {
            /* No hard links here: a failed rename cannot restore this file. */
            free(w->backup);
            w->backup = NULL;
        }
    }
    return 0;
}

/* Step 3: device and pipe targets. */
static int write_devices(outputs *o, diag_list *d)
{
    for (int i = 0; i < o->n; i++) {
        outputs_file *w = &o->file[i];
        if (w->tmp)
            continue;
        int fd = open(w->final, O_WRONLY | O_TRUNC);
        if (fd < 0)
            return fail(o, d, w->final, "cannot write", errno);
        size_t done = 0;
        while (done < w->len) {
            ssize_t k = write(fd, w->buf + done, w->len - done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                int e = k < 0 ? errno : EIO;
                close(fd);
                return fail(o, d, w->final, "cannot write", e);
            }
            done += (size_t)k;
        }
        if (close(fd) != 0)
            return fail(o, d, w->final, "cannot write", errno);
    }
    return 0;
}

/* Step 4: renames, undone at the first failure. */
static int rename_all(outputs *o, diag_list *d)
{
    int failed = -1, err = 0;
    for (int i = 0; i < o->n && failed < 0; i++) {
        outputs_file *w = &o->file[i];
        if (!w->tmp)
            continue;
        if (rename(w->tmp, w->final) == 0)
            w->renamed = true;
        else {
            failed = i;
            err = errno;
        }
    }
    if (failed < 0)
        return 0;
    for (int i = 0; i < failed; i++) {
        outputs_file *w = &o->file[i];
        if (!w->renamed)
            continue;
        if (w->backup) {
            if (rename(w->backup, w->final) == 0) {
                free(w->backup);
                w->backup = NULL;
            }
        } else if (!w->existed)
            unlink(w->final);
    }
    return fail(o, d, o->file[failed].final, "cannot write (no output was changed)", err);
}

int outputs_commit(outputs *o, diag_list *d)
{
    if (o->failed) {
        outputs_abort(o);
        return -1;
    }
    int rc = close_all(o, d);
    if (rc == 0)
        rc = prepare_targets(o, d);
    if (rc == 0)
        rc = write_devices(o, d);
    if (rc == 0)
        rc = rename_all(o, d);
    free_set(o, rc != 0);
    return rc;
}
