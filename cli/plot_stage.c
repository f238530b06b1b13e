/* A plot drawn whole or not at all (plot.h: plot_staged).
**
** Everything of a plot (data files, params.gp, plot.gp, gnuplot.log, the
** pictures, the arms' subdirectories of an experiment) is written into a
** fresh stage DIR/.plot-XXXXXX (mkdtemp: a killed plot's gnuplot may go on
** drawing into its own stage, never into the next plot's).  Once all of it
** is written and gnuplot succeeded, the stage is published into DIR under
** an exclusive flock of DIR, as one transaction with an undo log:
**   - the earlier plot's files (those its list DIR/.admitsim-plot names)
**     that this plot does not write again are moved aside into
**     STAGE/.plot-old; so is an earlier file at a name this plot writes;
**   - each file of the stage is renamed into DIR (same file system);
**   - the new list is written into the stage and renamed over the old one
**     (the directory fsynced before, so a crash never keeps a list naming
**     renames lost, and after, best effort).
** When a step fails or SIGINT/SIGTERM arrived, the steps done are undone in
** reverse (DIR is as it was) and the stage is removed; once every step is
** done, removing the stage removes the earlier files it holds.
**
** Safety: only plain names are listed, moved or removed in DIR (no '/',
** not starting with '.', so never ".", "..", the list or a stage), always
** relative to a directory descriptor, never following a symbolic link
** (fstatat AT_SYMLINK_NOFOLLOW, O_NOFOLLOW): a listed name that is no
** longer a regular file (a directory of a listed subdirectory) is left as
** it is, and a name this plot writes that is anything but a regular file
** (a directory for a subdirectory) is refused before anything changes.
** A name is moved aside only while it is a regular file (checked just
** before), a new file is renamed only onto a free name (RENAME_NOREPLACE),
** and the stage is removed by unlinking regular files and removing the
** directories plot made (the arms' and .plot-old's): a directory or link
** that got into it (made at a name while publishing) stays, and so does
** the stage (said).
** The list is read bounded (lines, entries, line length); a malformed or
** overlong line is ignored, never acted on.  Subdirectories nest one
** level deep (an experiment's baseline/ and candidate/), each with its
** own list. */
#define _GNU_SOURCE /* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "plot.h"

#define LIST_NAME   ".admitsim-plot" /* the files of the plot in a directory */
#define OLD_NAME    ".plot-old"      /* in the stage: the earlier files moved aside */
#define MAX_ENTRIES 4096             /* entries of one list (and files of one directory) */
#define MAX_LINES   65536            /* lines of a list read at the most */
#define MAX_BYTES   (2L << 20)       /* a list's size at the most (2 MiB) */
#define MAX_LEVELS  16               /* DIR and its subdirectories published */

typedef struct entry {
    char type; /* 'f' a file, 'd' a directory with a list of its own */
    char name[NAME_MAX + 1];
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

/* A name admitsim plot may write, list, move or remove: not empty, at most
** NAME_MAX bytes, no '/', no control character, not starting with '.'. */
static bool plain_name(const char *s) {
    size_t n = strlen(s);
    if (!n || n > NAME_MAX || s[0] == '.') return false;
    for (; *s; s++)
        if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

/* A directory admitsim plot makes in a stage: an arm's (an experiment's
** baseline/ and candidate/). */
static bool plot_subdir(const char *name) {
    return !strcmp(name, "baseline") || !strcmp(name, "candidate");
}

static bool add_entry(entries *e, char type, const char *name) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        entry *v = realloc(e->v, cap * sizeof *v);
        if (!v) return false;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n].type = type;
    snprintf(e->v[e->n].name, sizeof e->v[0].name, "%s", name);
    e->n++;
    return true;
}

static bool has_entry(const entries *e, const char *name) {
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->v[i].name, name)) return true;
    return false;
}

/* What a file of mode m is, for messages. */
static const char *kind_of(mode_t m) {
    return S_ISREG(m)    ? "a regular file"
           : S_ISDIR(m)  ? "a directory"
           : S_ISLNK(m)  ? "a symbolic link"
           : S_ISFIFO(m) ? "a fifo"
           : S_ISSOCK(m) ? "a socket"
                         : "a device";
}

/* The next line of f into line (cap bytes with its '\0', without its
** '\n'); false at the end of f or of *left, the bytes still to read.
** *bad: the line is garbage, too long, holding a NUL byte (read to its
** end all the same, never into the next) or without its '\n' (a list cut
** short: a cut name may be another file's). */
static bool next_line(FILE *f, char *line, size_t cap, long *left, bool *bad) {
    size_t len = 0;
    int c = EOF;
    *bad = false;
    while (*left > 0 && (--*left, c = getc(f)) != EOF && c != '\n') {
        if (c == '\0' || len + 1 >= cap)
            *bad = true;
        else
            line[len++] = (char)c;
    }
    line[len] = '\0';
    if (c != '\n' && (len || *bad)) *bad = true; /* cut: plot ends every line it writes */
    return c == '\n' || len || *bad;
}

typedef enum { LIST_READ, LIST_FOREIGN, LIST_FAILED } list_state;

/* The earlier plot's list in dirfd into out: its lines "f NAME" and
** "d NAME" with a plain NAME, at most MAX_ENTRIES of them within MAX_LINES
** lines, each name once, "d" only for an arm's directory (plot_subdir);
** any other line is ignored.  No list: LIST_READ, no entries.  A list
** that is not a regular file or is larger than MAX_BYTES is not plot's
** (LIST_FOREIGN), one that cannot be read LIST_FAILED; why (cap bytes)
** then says so, not said. */
static list_state read_list(int dirfd, entries *out, char *why, size_t cap) {
    int fd = openat(dirfd, LIST_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return LIST_READ;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        bool link = fd < 0 && errno == ELOOP;
        snprintf(why, cap, "%s", link ? "is a symbolic link" : strerror(errno));
        if (fd >= 0) close(fd);
        return link ? LIST_FOREIGN : LIST_FAILED;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_BYTES) {
        snprintf(why, cap, "is %s",
                 S_ISREG(st.st_mode) ? "larger than 2 MiB" : kind_of(st.st_mode));
        close(fd);
        return LIST_FOREIGN;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        snprintf(why, cap, "%s", strerror(errno));
        close(fd);
        return LIST_FAILED;
    }
    char line[NAME_MAX + 8];
    bool ok = true, bad;
    long left = MAX_BYTES;
    for (size_t lines = 0; ok && lines < MAX_LINES && out->n < MAX_ENTRIES &&
                           next_line(f, line, sizeof line, &left, &bad);
         lines++)
        if (!bad && strlen(line) > 2 && (line[0] == 'f' || line[0] == 'd') && line[1] == ' ' &&
            plain_name(line + 2) && (line[0] == 'f' || plot_subdir(line + 2)) &&
            !has_entry(out, line + 2))
            ok = add_entry(out, line[0], line + 2);
    if (ferror(f) || !ok) snprintf(why, cap, "%s", ok ? strerror(errno) : "out of memory");
    ok = ok && !ferror(f);
    fclose(f);
    return ok ? LIST_READ : LIST_FAILED;
}

/* The new list of made, as LIST_NAME in the stage stagefd (flushed to
** disk).  False (said) when it cannot be written. */
static bool write_list(int stagefd, const entries *made, const char *shown) {
    int fd = openat(stagefd, LIST_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "admitsim plot: %s/%s: cannot write: %s\n", shown, LIST_NAME,
                strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    fputs("# admitsim plot: the files of the plot drawn here; the next plot here removes\n"
          "# those it does not write again (f a file, d a directory with a list of its own)\n",
          f);
    for (size_t i = 0; i < made->n; i++)
        fprintf(f, "%c %s\n", made->v[i].type, made->v[i].name);
    bool ok = !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0) ok = false;
    if (!ok) fprintf(stderr, "admitsim plot: %s/%s: cannot write\n", shown, LIST_NAME);
    return ok;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* What the plot wrote into the stage directory stagefd, sorted: regular
** files, and (top) the arms' directories (plot_subdir).  Names starting with '.' are the stage's
** own.  False (said) on anything else. */
static bool list_stage(int stagefd, bool top, const char *shown, entries *out) {
    int fd = dup(stagefd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        fprintf(stderr, "admitsim plot: %s: cannot list: %s\n", shown, strerror(errno));
        return false;
    }
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        struct stat st;
        const char *why =
            !plain_name(de->d_name) ? "unexpected file drawn"
            : fstatat(stagefd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
                ? "cannot read what was drawn"
            : !(S_ISREG(st.st_mode) || (top && S_ISDIR(st.st_mode) && plot_subdir(de->d_name)))
                ? "unexpected file drawn"
            : out->n == MAX_ENTRIES ? "more than 4096 files drawn"
            : !add_entry(out, S_ISDIR(st.st_mode) ? 'd' : 'f', de->d_name) ? "out of memory"
                                                                           : NULL;
        if (why) {
            fprintf(stderr, "admitsim plot: %s: %s: '%s'\n", shown, why, de->d_name);
            ok = false;
        }
    }
    closedir(d);
    if (ok && out->n) qsort(out->v, out->n, sizeof *out->v, by_name);
    return ok;
}

/* ---- the transaction --------------------------------------------------------- */

/* A directory published: DIR or one of its subdirectories. */
typedef struct level {
    int stage, dir, old; /* descriptors: STAGE/<sub>, DIR/<sub>, STAGE/.plot-old/<sub> */
    char shown[PATH_MAX];
    char name[NAME_MAX + 1]; /* <sub> ("" for DIR) */
    bool gone;               /* the earlier plot's, not this one's: emptied of its files */
} level;

typedef enum { OP_ASIDE, OP_PLACED, OP_MADE } op_kind;

/* A step done: an earlier file moved aside, a new file renamed into place,
** a directory made. */
typedef struct op {
    int level;
    op_kind kind;
    char name[NAME_MAX + 1];
    dev_t dev; /* the file moved (ASIDE, PLACED), just after its move: */
    ino_t ino; /* undone only while that file is still at its name */
} op;

typedef struct pub {
    level lv[MAX_LEVELS];
    int nlv;
    op *ops;
    size_t nops, cap;
} pub;

/* Renames name in from to name in to, never over a file there (where the
** file system has no RENAME_NOREPLACE: only when nothing is there just
** before). */
static int move(int from, const char *name, int to) {
    if (renameat2(from, name, to, name, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1; /* no such flag, or no renameat2 */
    struct stat st;
    if (fstatat(to, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return errno == ENOENT ? renameat(from, name, to, name) : -1;
}

/* 0 when name in dirfd is a regular file (just now), else -1 (errno set). */
static int still_regular(int dirfd, const char *name) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    if (S_ISREG(st.st_mode)) return 0;
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    return -1;
}

/* 0 when o's file is still the one it moved (same device and inode, just
** now) at its name in dirfd, else -1 (errno set). */
static int still_moved(int dirfd, const struct op *o) {
    struct stat st;
    if (fstatat(dirfd, o->name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    if (S_ISREG(st.st_mode) && st.st_dev == o->dev && st.st_ino == o->ino) return 0;
    errno = ESTALE; /* marks: not the file moved */
    return -1;
}

/* Does one step and logs it; false (said) when it failed.  A file moved
** aside is a regular file when moved (not one made there meanwhile). */
static bool step(pub *p, int at, op_kind kind, const char *name) {
    if (p->nops == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        op *v = realloc(p->ops, cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "admitsim plot: out of memory\n");
            return false;
        }
        p->ops = v;
        p->cap = cap;
    }
    const level *l = &p->lv[at];
    int rc = kind == OP_ASIDE    ? (still_regular(l->dir, name) ? -1 : move(l->dir, name, l->old))
             : kind == OP_PLACED ? move(l->stage, name, l->dir)
                                 : mkdirat(l->dir, name, 0777);
    if (rc != 0) {
        fprintf(stderr, "admitsim plot: %s/%s: cannot %s: %s\n", l->shown, name,
                kind == OP_ASIDE    ? "remove the earlier plot's file"
                : kind == OP_PLACED ? "put the new file in place"
                                    : "create the directory",
                strerror(errno));
        return false;
    }
    op *o = &p->ops[p->nops];
    *o = (op){.level = at, .kind = kind};
    snprintf(o->name, sizeof o->name, "%s", name);
    struct stat st;
    if (kind != OP_MADE &&
        fstatat(kind == OP_ASIDE ? l->old : l->dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        o->dev = st.st_dev;
        o->ino = st.st_ino;
    }
    p->nops++;
    return true;
}

/* Undoes every step in reverse, never over a file made meanwhile nor
** taking back anything but the very file a step moved (its device and
** inode); false (said) when one could not be (the stage then stays). */
static bool roll_back(pub *p) {
    bool all = true;
    while (p->nops) {
        const op *o = &p->ops[--p->nops];
        const level *l = &p->lv[o->level];
        int rc = o->kind == OP_ASIDE ? (still_moved(l->old, o) ? -1 : move(l->old, o->name, l->dir))
                 : o->kind == OP_PLACED
                     ? (still_moved(l->dir, o) ? -1 : move(l->dir, o->name, l->stage))
                     : unlinkat(l->dir, o->name, AT_REMOVEDIR);
        if (rc != 0 && errno == ESTALE) {
            fprintf(stderr,
                    "admitsim plot: note: %s/%s is no longer the file plot moved%s; left as it "
                    "is\n",
                    l->shown, o->name, o->kind == OP_ASIDE ? " aside (in the stage)" : "");
            all = false;
        } else if (rc != 0) {
            fprintf(stderr, "admitsim plot: %s/%s: cannot undo: %s\n", l->shown, o->name,
                    strerror(errno));
            all = false;
        }
    }
    return all;
}

/* What is at name in l's DIR: 0 (*st set), ENOENT, or the error (said). */
static int look(const level *l, const char *name, struct stat *st) {
    if (fstatat(l->dir, name, st, AT_SYMLINK_NOFOLLOW) == 0) return 0;
    int e = errno;
    if (e != ENOENT) fprintf(stderr, "admitsim plot: %s/%s: %s\n", l->shown, name, strerror(e));
    return e;
}

/* Every name this plot writes into l's DIR (made, and the list) is free or
** of its kind; false (said) for a name held by anything else. */
static bool check_targets(const level *l, const entries *made) {
    for (size_t i = 0; i <= made->n; i++) {
        const char *name = i < made->n ? made->v[i].name : LIST_NAME;
        bool dir = i < made->n && made->v[i].type == 'd';
        struct stat st;
        int e = look(l, name, &st);
        if (e == ENOENT) continue;
        if (e) return false;
        if (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) continue;
        fprintf(stderr,
                "admitsim plot: %s/%s is %s, not %s: admitsim plot does not replace it; move it "
                "away or plot into another directory\n",
                l->shown, name, kind_of(st.st_mode), dir ? "a directory" : "a regular file");
        return false;
    }
    return true;
}

/* A new level for the subdirectory name of level at; its stage directory
** is there unless gone.  -1 (said) when it cannot be opened; -2 (said)
** when it is gone and its directory cannot be opened: left as it is. */
static int open_level(pub *p, int at, const char *name, bool gone) {
    if (p->nlv == MAX_LEVELS) {
        fprintf(stderr, "admitsim plot: %s: too many subdirectories\n", p->lv[at].shown);
        return -1;
    }
    const level *up = &p->lv[at];
    level *l = &p->lv[p->nlv];
    char shown[sizeof l->shown];
    snprintf(shown, sizeof shown, "%s/%s", up->shown, name);
    *l = (level){.stage = -1, .dir = -1, .old = -1, .gone = gone};
    memcpy(l->shown, shown, sizeof shown);
    snprintf(l->name, sizeof l->name, "%s", name);
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int err = 0; /* the first call's failure */
    if ((l->dir = openat(up->dir, name, flags)) < 0 && gone) {
        fprintf(stderr,
                "admitsim plot: note: %s, of an earlier plot, cannot be opened (%s); "
                "left as it is\n",
                l->shown, strerror(errno));
        return -2;
    }
    if (l->dir < 0) err = errno;
    if (!gone && (l->stage = openat(up->stage, name, flags)) < 0 && !err) err = errno;
    if (mkdirat(up->old, name, 0700) == 0) l->old = openat(up->old, name, flags);
    if (l->old < 0 && !err) err = errno;
    if (l->dir < 0 || (!gone && l->stage < 0) || l->old < 0) {
        fprintf(stderr, "admitsim plot: %s: cannot open: %s\n", l->shown, strerror(err));
        if (l->dir >= 0) close(l->dir);
        if (l->stage >= 0) close(l->stage);
        if (l->old >= 0) close(l->old);
        return -1;
    }
    return p->nlv++;
}

static bool publish_level(pub *p, int at);

/* An earlier plot's entry that this plot does not write: a regular file
** (or a list) moved aside, a directory of the top level emptied of its
** listed files; anything else left as it is. */
static bool retire(pub *p, int at, const entry *e) {
    struct stat st;
    int err = look(&p->lv[at], e->name, &st);
    if (err) return err == ENOENT;
    if (e->type == 'f' && S_ISREG(st.st_mode)) return step(p, at, OP_ASIDE, e->name);
    if (e->type == 'd' && at == 0 && S_ISDIR(st.st_mode)) {
        int sub = open_level(p, at, e->name, true);
        return sub == -2 || (sub >= 0 && publish_level(p, sub));
    }
    fprintf(stderr, "admitsim plot: note: %s/%s, of an earlier plot, is now %s; left as it is\n",
            p->lv[at].shown, e->name, kind_of(st.st_mode));
    return true;
}

/* One name this plot writes: a file renamed into place (the earlier one
** moved aside), a directory made when missing and published. */
static bool place(pub *p, int at, const entry *e) {
    struct stat st;
    int err = look(&p->lv[at], e->name, &st);
    if (err && err != ENOENT) return false;
    if (e->type == 'd') {
        if (err == ENOENT && !step(p, at, OP_MADE, e->name)) return false;
        int sub = open_level(p, at, e->name, false);
        return sub >= 0 && publish_level(p, sub);
    }
    return (err == ENOENT || step(p, at, OP_ASIDE, e->name)) && step(p, at, OP_PLACED, e->name);
}

/* The earlier plot's list of l into old.  One that is not plot's (a
** link, a fifo, a directory, larger than 2 MiB) or cannot be read: at a
** level this plot writes, refused (false, said: plot does not replace
** it); in an earlier plot's subdirectory, left as it is with that
** directory's files (*leave, said). */
static bool earlier_list(const level *l, entries *old, bool *leave) {
    char why[128];
    list_state st = read_list(l->dir, old, why, sizeof why);
    *leave = l->gone && st != LIST_READ;
    if (*leave)
        fprintf(stderr,
                "admitsim plot: note: %s/%s %s%s%s; %s, of an earlier plot, is left as it is\n",
                l->shown, LIST_NAME, st == LIST_FOREIGN ? "" : "cannot be read: ", why,
                st == LIST_FOREIGN ? ", not admitsim plot's list" : "", l->shown);
    else if (st == LIST_FOREIGN)
        fprintf(stderr,
                "admitsim plot: %s/%s %s, not admitsim plot's list: admitsim plot does not "
                "replace it; move it away or plot into another directory\n",
                l->shown, LIST_NAME, why);
    else if (st == LIST_FAILED)
        fprintf(stderr, "admitsim plot: %s/%s: cannot read: %s\n", l->shown, LIST_NAME, why);
    return st == LIST_READ || *leave;
}

/* Publishes level at: the earlier entries retired, this plot's placed,
** then its list (a gone level's list retired). */
static bool publish_level(pub *p, int at) {
    const level *l = &p->lv[at];
    entries old = {0}, made = {0};
    bool leave = false;
    bool ok =
        earlier_list(l, &old, &leave) &&
        (l->gone || (list_stage(l->stage, at == 0, l->shown, &made) && check_targets(l, &made)));
    for (size_t i = 0; ok && i < old.n; i++)
        if (!has_entry(&made, old.v[i].name)) ok = retire(p, at, &old.v[i]);
    for (size_t i = 0; ok && i < made.n; i++)
        ok = place(p, at, &made.v[i]);
    entry list = {.type = 'f', .name = LIST_NAME};
    if (ok) fsync(l->dir); /* the files' renames on disk before the list names them */
    if (ok)
        ok = l->gone ? leave || retire(p, at, &list)
                     : write_list(l->stage, &made, l->shown) && place(p, at, &list);
    free(old.v);
    free(made.v);
    return ok;
}

/* Removes the directory name in parent (shown: its path), made by plot
** (depth 0: the stage, 1: .plot-old or an arm's, 2: an arm's in
** .plot-old): its regular files unlinked, the directories plot made in it
** removed the same way; anything else (a directory or link moved in while
** publishing) is left (said).  False when anything stays. */
static bool remove_tree(int parent, const char *name, const char *shown, int depth) {
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool ok = true, in_old = !strcmp(name, OLD_NAME);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", shown, de->d_name);
        struct stat st;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            ok = false;
        } else if (S_ISREG(st.st_mode)) {
            ok = unlinkat(fd, de->d_name, 0) == 0 && ok;
        } else if (S_ISDIR(st.st_mode) &&
                   ((depth == 0 && (!strcmp(de->d_name, OLD_NAME) || plot_subdir(de->d_name))) ||
                    (depth == 1 && in_old && plot_subdir(de->d_name)))) {
            ok = remove_tree(fd, de->d_name, path, depth + 1) && ok;
        } else {
            fprintf(stderr,
                    "admitsim plot: note: %s is %s admitsim plot did not make; left as it is\n",
                    path, kind_of(st.st_mode));
            ok = false;
        }
    }
    closedir(d);
    return unlinkat(parent, name, AT_REMOVEDIR) == 0 && ok;
}

static void close_levels(pub *p) {
    for (int i = 0; i < p->nlv; i++) {
        if (p->lv[i].stage >= 0) close(p->lv[i].stage);
        if (p->lv[i].dir >= 0) close(p->lv[i].dir);
        if (p->lv[i].old >= 0) close(p->lv[i].old);
    }
}

/* Waits for DIR's exclusive flock (one plot at a time publishes there),
** polling so that SIGINT/SIGTERM ends the wait: false then.  A wait is
** said once.  A file system without locks: said, and go on. */
static bool lock_dir(int dirfd, const char *shown) {
    const struct timespec tick = {.tv_nsec = 50 * 1000 * 1000};
    bool said = false;
    while (flock(dirfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK && !said) {
            fprintf(stderr, "admitsim plot: note: waiting for another admitsim plot in %s\n",
                    shown);
            said = true;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "admitsim plot: note: %s: cannot lock (%s); go on\n", shown,
                    strerror(errno));
            return true;
        }
        if (cli_stop_caught()) return false;
        nanosleep(&tick, NULL);
    }
    return true;
}

/* The stage (name in dirfd, DIR shown) into DIR, as the file's head
** says.  *keep: the stage holds earlier files that could not be put back
** (said), so it must stay. */
static bool publish(int dirfd, const char *shown, const char *name, bool *keep) {
    pub p = {.nlv = 1};
    level *top = &p.lv[0];
    *top = (level){.dir = dirfd, .old = -1};
    snprintf(top->shown, sizeof top->shown, "%s", shown);
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    top->stage = openat(dirfd, name, flags);
    if (top->stage >= 0 && mkdirat(top->stage, OLD_NAME, 0700) == 0)
        top->old = openat(top->stage, OLD_NAME, flags);
    bool ok = top->stage >= 0 && top->old >= 0;
    if (!ok) fprintf(stderr, "admitsim plot: %s/%s: %s\n", shown, name, strerror(errno));
    ok = ok && lock_dir(dirfd, shown) && publish_level(&p, 0);
    if (ok && cli_stop_caught()) ok = false; /* the last moment to stop: undo */
    if (ok) cli_stop_done();                 /* a signal from now on: the plot stays */
    if (!ok && p.nops) {
        *keep = !roll_back(&p);
        if (*keep)
            fprintf(stderr,
                    "admitsim plot: the earlier plot's files not put back are in %s/%s/%s\n", shown,
                    name, OLD_NAME);
        else
            fprintf(stderr, "admitsim plot: nothing in %s was changed\n", shown);
    }
    for (int i = 1; ok && i < p.nlv; i++) /* an earlier subdirectory left empty */
        if (p.lv[i].gone) unlinkat(dirfd, p.lv[i].name, AT_REMOVEDIR);
    for (int i = p.nlv - 1; ok && i >= 0; i--) /* the lists' renames on disk (best effort) */
        fsync(p.lv[i].dir);
    top->dir = -1; /* the caller's */
    close_levels(&p);
    free(p.ops);
    return ok;
}

bool plot_staged(char *dir, plot_draw_fn *draw, void *ctx) {
    char stage[PATH_MAX];
    int n = snprintf(stage, sizeof stage, "%s/.plot-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof stage) {
        fprintf(stderr, "admitsim plot: %.200s...: path too long\n", dir);
        return false;
    }
    cli_stop_catch();
    int dirfd = -1;
    bool ok = plot_make_dirs(dir), made = ok && mkdtemp(stage);
    if (made) dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ok && dirfd < 0) {
        fprintf(stderr, "admitsim plot: %s: cannot write a plot here: %s\n", dir, strerror(errno));
        if (made) rmdir(stage);
        ok = false;
    }
    if (ok) {
        const char *name = stage + strlen(dir) + 1;
        bool keep = false;
        ok = draw(stage, ctx) && !cli_stop_caught() && publish(dirfd, dir, name, &keep);
        if (!keep && !remove_tree(dirfd, name, stage, 0)) {
            fprintf(stderr, "admitsim plot: note: cannot remove all of %s\n", stage);
            keep = true;
        }
        if (keep) cli_stop_kept();
        close(dirfd);
    }
    cli_stop_release("plot");
    return ok;
}
