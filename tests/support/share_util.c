/*
 * share_util.c - processes, probes and a remote-controlled libsqlite3
 * connection for the sharing suite (see share_util.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* F_OFD_*, prctl */
#endif

#include "share_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

unsigned share_child_limit_s = 600;

/* ---- Time and knobs ------------------------------------------------------- */

uint64_t share_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void share_sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void share_sleep_ms(unsigned ms)
{
    share_sleep_us(ms * 1000u);
}

int share_soak(void)
{
    const char *e = getenv("FOLIO_SOAK");
    return e && *e && strcmp(e, "0") != 0;
}

/* ---- Children --------------------------------------------------------------- */

enum { MAX_KIDS = 256 };
static pid_t kids[MAX_KIDS];
static int nkids;

static void kid_add(pid_t pid)
{
    if (nkids < MAX_KIDS)
        kids[nkids++] = pid;
}

static void kid_remove(pid_t pid)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid) {
            kids[i] = kids[--nkids];
            return;
        }
}

static int kept(int fd, const int *keep, int nkeep)
{
    for (int i = 0; i < nkeep; i++)
        if (keep[i] == fd)
            return 1;
    return 0;
}

/* Close every inherited descriptor >= 3 but the kept ones. The numbers are
 * collected first: the directory stream has a descriptor of its own. */
static void close_inherited(const int *keep, int nkeep)
{
    int fds[1024];
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) && n < (int)(sizeof fds / sizeof fds[0])) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9')
                continue;
            int fd = atoi(e->d_name);
            if (fd >= 3 && fd != self && !kept(fd, keep, nkeep))
                fds[n++] = fd;
        }
        closedir(d);
    } else {
        for (int fd = 3; fd < 1024; fd++)
            if (!kept(fd, keep, nkeep))
                fds[n++] = fd;
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* What every child does first: die with the test, and within the limit. */
static void child_setup(pid_t parent, const int *keep, int nkeep)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(99); /* the parent is already gone */
    signal(SIGALRM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    alarm(share_child_limit_s);
    nkids = 0; /* the parent's children are not ours */
    close_inherited(keep, nkeep);
}

pid_t share_spawn(int (*fn)(void *arg), void *arg, const int *keep, int nkeep)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        child_setup(parent, keep, nkeep);
        int rc = fn(arg);
        _exit(rc & 0xff);
    }
    kid_add(pid);
    return pid;
}

pid_t share_spawn_exec(char *const argv[], const char *in_path, const char *out_path)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        child_setup(parent, NULL, 0);
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        close(in);
        close(out);
        execvp(argv[0], argv);
        _exit(127);
    }
    kid_add(pid);
    return pid;
}

int share_wait(pid_t pid, unsigned timeout_ms, int *out_status)
{
    uint64_t deadline = share_now_ms() + timeout_ms;
    unsigned nap = 1;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            kid_remove(pid);
            if (out_status)
                *out_status = r == pid ? st : 0;
            return 1;
        }
        if (share_now_ms() >= deadline)
            return 0;
        share_sleep_ms(nap);
        if (nap < 20)
            nap *= 2;
    }
}

int share_kill(pid_t pid)
{
    int st = 0;
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    kid_remove(pid);
    return st;
}

void share_kill_all(void)
{
    while (nkids > 0)
        share_kill(kids[nkids - 1]);
}

void share_fini(void)
{
    share_kill_all();
}

const char *share_status_str(int status)
{
    static char buf[64];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, sizeof buf, "status 0x%x", status);
    return buf;
}

/* ---- Files the children write --------------------------------------------- */

int share_log_open(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
}

void share_log(int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w;
    do {
        w = write(fd, buf, (size_t)n);
    } while (w < 0 && errno == EINTR);
}

/* ---- Pipes ---------------------------------------------------------------------- */

/* Read exactly n bytes, waiting up to timeout_ms in all. 1 done, 0 end of
 * file, -1 timeout or error. */
static int read_full(int fd, void *buf, size_t n, unsigned timeout_ms)
{
    uint64_t deadline = share_now_ms() + timeout_ms;
    size_t got = 0;
    while (got < n) {
        uint64_t now = share_now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

static int write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* ---- Looking from another process ------------------------------------------ */

typedef struct probe_job {
    const char *path;
    share_probe *probes;
    int n;
    int out;
} probe_job;

static int probe_child(void *arg)
{
    probe_job *j = arg;
    int fd = open(j->path, O_RDWR);
    if (fd < 0)
        fd = open(j->path, O_RDONLY);
    if (fd < 0)
        return 2;
    for (int i = 0; i < j->n; i++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = j->probes[i].type;
        fl.l_whence = SEEK_SET;
        fl.l_start = (off_t)j->probes[i].start;
        fl.l_len = (off_t)j->probes[i].len;
        if (fcntl(fd, F_GETLK, &fl) != 0)
            return 3;
        int rec[2] = {fl.l_type, fl.l_type == F_UNLCK ? 0 : (int)fl.l_pid};
        if (write_full(j->out, rec, sizeof rec) != 0)
            return 4;
    }
    return 0;
}

void share_probe_locks(const char *path, share_probe *probes, int n)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    probe_job j = {path, probes, n, p[1]};
    pid_t pid = share_spawn(probe_child, &j, &p[1], 1);
    close(p[1]);
    for (int i = 0; i < n; i++) {
        int rec[2];
        int rc = read_full(p[0], rec, sizeof rec, 60000);
        if (rc != 1) {
            int st = 0;
            share_wait(pid, 60000, &st);
            close(p[0]);
            cr_assert_fail("lock probe of %s failed (%s)", path, share_status_str(st));
        }
        probes[i].found = (short)rec[0];
        probes[i].pid = rec[1];
    }
    close(p[0]);
    int st = 0;
    cr_assert(share_wait(pid, 60000, &st), "lock probe child did not end");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "lock probe child: %s", share_status_str(st));
}

short share_lock_at(const char *path, int64_t start, int64_t len)
{
    share_probe q = {start, len, F_WRLCK, 0, 0};
    share_probe_locks(path, &q, 1);
    return q.found;
}

typedef struct read_job {
    const char *path;
    int64_t off;
    size_t n;
    int out;
} read_job;

static int read_child(void *arg)
{
    read_job *j = arg;
    char *buf = malloc(j->n ? j->n : 1);
    if (!buf)
        return 2;
    uint64_t got = 0;
    int fd = open(j->path, O_RDONLY);
    if (fd >= 0) {
        while (got < j->n) {
            ssize_t r = pread(fd, buf + got, j->n - got, (off_t)(j->off + (int64_t)got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (uint64_t)r;
        }
    }
    if (write_full(j->out, &got, sizeof got) != 0 || write_full(j->out, buf, got) != 0)
        return 3;
    return 0;
}

size_t share_read_bytes(const char *path, int64_t off, void *buf, size_t n)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    read_job j = {path, off, n, p[1]};
    pid_t pid = share_spawn(read_child, &j, &p[1], 1);
    close(p[1]);
    uint64_t got = 0;
    int rc = read_full(p[0], &got, sizeof got, 60000);
    if (rc == 1 && got)
        rc = read_full(p[0], buf, got, 60000);
    close(p[0]);
    int st = 0;
    cr_assert(share_wait(pid, 60000, &st), "reader child did not end");
    cr_assert(rc == 1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "reading %s in a child: %s", path,
              share_status_str(st));
    return (size_t)got;
}

void share_cksum_native(const uint8_t *p, size_t n, uint32_t out[2])
{
    uint32_t s1 = 0, s2 = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint32_t w0, w1;
        memcpy(&w0, p + i, 4);
        memcpy(&w1, p + i + 4, 4);
        s1 += w0 + s2;
        s2 += w1 + s1;
    }
    out[0] = s1;
    out[1] = s2;
}

static uint32_t u32n(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

void share_read_shm(const char *dbpath, share_shm *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(dbpath);
    char *shm = malloc(n + 5);
    cr_assert_not_null(shm);
    memcpy(shm, dbpath, n);
    memcpy(shm + n, "-shm", 5);
    out->got = share_read_bytes(shm, 0, out->raw, sizeof out->raw);
    free(shm);
    if (out->got < sizeof out->raw)
        return;
    const uint8_t *h = out->raw;
    out->copies_equal = memcmp(h, h + 48, 48) == 0;
    uint32_t ck[2];
    share_cksum_native(h, 40, ck);
    out->cksum_ok = ck[0] == u32n(h + 40) && ck[1] == u32n(h + 44);
    out->version = u32n(h);
    out->change = u32n(h + 8);
    out->is_init = h[12];
    out->big_end = h[13];
    uint16_t sz;
    memcpy(&sz, h + 14, 2);
    out->page_size = (uint32_t)(sz & 0xfe00u) + ((uint32_t)(sz & 1u) << 16);
    out->mx_frame = u32n(h + 16);
    out->npage = u32n(h + 20);
    memcpy(out->salt, h + 32, 8);
    out->backfill = u32n(h + 96);
    for (int i = 0; i < 5; i++)
        out->mark[i] = u32n(h + 100 + 4 * i);
    out->attempted = u32n(h + 128);
}

/* ---- A libsqlite3 connection in a child process ------------------------------ */

typedef struct sql_job {
    const char *path;
    int busy_ms;
    int in, out;
} sql_job;

typedef struct growbuf {
    char *p;
    size_t n, cap;
} growbuf;

static void gb_add(growbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            _exit(5);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

/* Run every statement of `sql`; rows into `b`. Returns the extended code
 * of the first failure (its message replaces the rows) or SQLITE_OK. */
static int sql_run_all(sqlite3 *db, const char *sql, growbuf *b)
{
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        int rc = sqlite3_prepare_v2(db, tail, -1, &st, &next);
        if (rc != SQLITE_OK)
            goto fail;
        if (!st) {
            if (next == tail)
                break;
            tail = next;
            continue;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int nc = sqlite3_column_count(st);
            for (int c = 0; c < nc; c++) {
                if (c)
                    gb_add(b, "|", 1);
                const char *t = (const char *)sqlite3_column_text(st, c);
                if (t)
                    gb_add(b, t, strlen(t));
                else
                    gb_add(b, "NULL", 4);
            }
            gb_add(b, "\n", 1);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            goto fail;
        tail = next;
    }
    return SQLITE_OK;
fail:
    b->n = 0;
    {
        const char *m = sqlite3_errmsg(db);
        gb_add(b, m, strlen(m));
    }
    return sqlite3_extended_errcode(db);
}

static int sql_child(void *arg)
{
    sql_job *j = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        return 2;
    sqlite3_busy_timeout(db, j->busy_ms);
    for (;;) {
        uint32_t len;
        if (read_full(j->in, &len, sizeof len, 3600u * 1000u) != 1)
            break;
        char *sql = malloc((size_t)len + 1);
        if (!sql || read_full(j->in, sql, len, 60000) != 1)
            return 3;
        sql[len] = 0;
        growbuf b = {0};
        gb_add(&b, "", 0);
        int32_t rc = sql_run_all(db, sql, &b);
        uint32_t n = (uint32_t)b.n;
        if (write_full(j->out, &rc, sizeof rc) != 0 || write_full(j->out, &n, sizeof n) != 0 ||
            write_full(j->out, b.p, n) != 0)
            return 4;
        free(b.p);
        free(sql);
    }
    return sqlite3_close(db) == SQLITE_OK ? 0 : 6;
}

void share_sql_start(share_sql *s, const char *path, int busy_ms)
{
    int req[2], rep[2];
    cr_assert_eq(pipe(req), 0);
    cr_assert_eq(pipe(rep), 0);
    sql_job j = {path, busy_ms, req[0], rep[1]};
    int keep[2] = {req[0], rep[1]};
    s->pid = share_spawn(sql_child, &j, keep, 2);
    close(req[0]);
    close(rep[1]);
    s->to = req[1];
    s->from = rep[0];
}

static int sql_vrun(share_sql *s, char *out, size_t n, const char *fmt, va_list ap)
{
    char *sql = NULL;
    int len = vasprintf(&sql, fmt, ap);
    cr_assert(len >= 0);
    uint32_t l = (uint32_t)len;
    cr_assert(write_full(s->to, &l, sizeof l) == 0 && write_full(s->to, sql, l) == 0,
              "the SQL child (pid %d) is gone", (int)s->pid);
    int32_t rc;
    uint32_t rn;
    int r = read_full(s->from, &rc, sizeof rc, 60000);
    if (r == 1)
        r = read_full(s->from, &rn, sizeof rn, 60000);
    char *text = NULL;
    if (r == 1) {
        text = malloc((size_t)rn + 1);
        cr_assert_not_null(text);
        r = rn ? read_full(s->from, text, rn, 60000) : 1;
        text[rn] = 0;
    }
    if (r != 1) {
        int st = 0;
        int ended = share_wait(s->pid, 100, &st);
        cr_assert_fail("SQL child gave no answer to \"%s\" (%s)", sql,
                       ended ? share_status_str(st) : "no answer in 60 s");
    }
    if (out && n) {
        snprintf(out, n, "%s", text);
    }
    free(text);
    free(sql);
    return rc;
}

int share_sql_run(share_sql *s, char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sql_vrun(s, out, n, fmt, ap);
    va_end(ap);
    return rc;
}

int64_t share_sql_int(share_sql *s, const char *fmt, ...)
{
    char out[4096];
    va_list ap;
    va_start(ap, fmt);
    int rc = sql_vrun(s, out, sizeof out, fmt, ap);
    va_end(ap);
    cr_assert_eq(rc, SQLITE_OK, "sqlite3 child: %s (%d)", out, rc);
    return strtoll(out, NULL, 10);
}

void share_sql_stop(share_sql *s)
{
    if (s->pid <= 0)
        return;
    close(s->to);
    int st = 0;
    int ended = share_wait(s->pid, 60000, &st);
    close(s->from);
    pid_t pid = s->pid;
    s->pid = 0;
    cr_assert(ended, "SQL child %d did not end", (int)pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SQL child: %s", share_status_str(st));
}

void share_sql_kill(share_sql *s)
{
    if (s->pid <= 0)
        return;
    share_kill(s->pid);
    close(s->to);
    close(s->from);
    s->pid = 0;
}

/* ---- folio in the test process ------------------------------------------------ */

folio_db *share_folio_open(const char *path, unsigned busy_ms, unsigned autockpt)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = busy_ms;
    o.wal_autocheckpoint = autockpt;
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &o);
    cr_assert_eq(rc, FOLIO_OK, "folio_open %s: %d %s", path, rc, folio_open_errmsg());
    return db;
}

void share_folio_exec(folio_db *db, const char *ddl)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
    cr_assert_eq(rc, FOLIO_OK, "begin: %d %s", rc, folio_errmsg(db));
    rc = folio_exec(t, ddl);
    cr_assert_eq(rc, FOLIO_OK, "%s: %d %s", ddl, rc, folio_errmsg(db));
    rc = folio_commit(t);
    cr_assert_eq(rc, FOLIO_OK, "commit: %d %s", rc, folio_errmsg(db));
}

int64_t share_folio_get_int(folio_txn *txn, const char *table, int64_t rowid, int col)
{
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, table), FOLIO_OK, "no table %s", table);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    int rc = folio_cursor_seek_rowid(c, rowid);
    cr_assert_eq(rc, FOLIO_ROW, "%s: row %lld: %d", table, (long long)rowid, rc);
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, col), FOLIO_OK);
    cr_assert_eq(v.type, FOLIO_INTEGER, "%s: row %lld column %d is not an integer", table,
                 (long long)rowid, col);
    int64_t out = v.u.i;
    folio_cursor_close(c);
    return out;
}

static int first_msg(void *arg, const char *msg)
{
    char **out = arg;
    if (!*out)
        *out = strdup(msg);
    return 0;
}

char *share_folio_check(folio_db *db)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_READ);
    cr_assert_eq(rc, FOLIO_OK, "begin: %d %s", rc, folio_errmsg(db));
    char *msg = NULL;
    rc = folio_check(t, first_msg, &msg, 10);
    folio_commit(t);
    if (rc == FOLIO_OK && !msg)
        return strdup("ok");
    if (!msg && asprintf(&msg, "folio_check: %d %s", rc, folio_errmsg(db)) < 0)
        msg = NULL;
    return msg;
}
