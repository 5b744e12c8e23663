/*
 * util.c: helpers shared by all commands of the folio tool: error lines,
 * opening databases with the global options, argument parsing, byte buffers
 * and checked output on stdout.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

cli_globals cli_global_opts = {-1, 0, 0, FOLIO_MMAP_DEFAULT, CLI_BUSY_TIMEOUT_MS, 0, 0, -1, -1, -2};

/* ---- Errors ---------------------------------------------------------------- */

static int error_printed;

int cli_error_printed(void)
{
    return error_printed;
}

/* Print `text` on stderr with line breaks turned into spaces, so that an error
 * is always exactly one line whatever the library's message contains. */
static void put_one_line(const char *text)
{
    for (const char *p = text; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
}

static void vfail(const char *fmt, va_list ap, const char *suffix)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fputs("folio: ", stderr);
    put_one_line(msg);
    if (suffix) {
        fputs(": ", stderr);
        put_one_line(suffix);
    }
    fputc('\n', stderr);
    fflush(stderr);
    error_printed = 1;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(fmt, ap, NULL);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_fail_db(const folio_db *db, int rc, const char *fmt, ...)
{
    const char *why = db ? folio_errmsg(db) : NULL;
    if (!why || !*why)
        why = folio_strerror(rc);
    va_list ap;
    va_start(ap, fmt);
    vfail(fmt, ap, why);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(fmt, ap, NULL);
    va_end(ap);
    cli_print_usage(stderr, cmd, 0);
    fflush(stderr);
    return CLI_EXIT_USAGE;
}

/* ---- Opening databases ----------------------------------------------------- */

/* Why `path` cannot be opened as a file, as far as stat() tells, or NULL. */
static const char *file_problem(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return strerror(errno);
    if (S_ISDIR(st.st_mode))
        return strerror(EISDIR);
    return NULL;
}

int cli_open_db(folio_db **out, const char *path, unsigned flags)
{
    /* The CLI's defaults, then the environment (FOLIO_SYNC, ...), then the
     * flags given. */
    folio_options opts = FOLIO_OPTIONS_INIT;
    opts.busy_timeout_ms = CLI_BUSY_TIMEOUT_MS;
    if (folio_options_from_env(&opts) < 0)
        return cli_fail("%s", folio_open_errmsg());
    opts.flags = flags;
    if (cli_global_opts.sync >= 0)
        opts.sync = cli_global_opts.sync;
    if (cli_global_opts.cache_bytes)
        opts.cache_bytes = cli_global_opts.cache_bytes;
    if (cli_global_opts.page_size)
        opts.page_size = cli_global_opts.page_size;
    if (cli_global_opts.mmap_given)
        opts.mmap_bytes = cli_global_opts.mmap_bytes;
    if (cli_global_opts.busy_given)
        opts.busy_timeout_ms = cli_global_opts.busy_timeout_ms;
    if (cli_global_opts.foreign_keys >= 0)
        opts.foreign_keys = cli_global_opts.foreign_keys;
    if (cli_global_opts.recursive_triggers >= 0)
        opts.recursive_triggers = cli_global_opts.recursive_triggers;
    if (cli_global_opts.log_compression != -2)
        opts.log_compression = cli_global_opts.log_compression;

    *out = NULL;
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &opts);
    if (rc < 0) {
        const char *why = folio_open_errmsg();
        if (!why || !*why)
            why = folio_strerror(rc);
        if (db)
            folio_close(db);
        const char *reason = rc == FOLIO_CANTOPEN ? file_problem(path) : NULL;
        if (reason && strstr(why, reason))
            reason = NULL;
        /* The library's message often names the file already. */
        if (strstr(why, path))
            cli_fail("%s%s%s", why, reason ? ": " : "", reason ? reason : "");
        else
            cli_fail("cannot open %s: %s%s%s", path, why, reason ? ": " : "", reason ? reason : "");
        return CLI_EXIT_FAIL;
    }
    *out = db;
    return CLI_EXIT_OK;
}

int cli_session_open(cli_session *s, const char *path)
{
    s->path = path;
    s->db = NULL;
    s->txn = NULL;
    if (cli_open_db(&s->db, path, FOLIO_OPEN_READONLY) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    int rc = folio_begin(&s->txn, s->db, FOLIO_TXN_READ);
    if (rc < 0) {
        cli_fail_db(s->db, rc, "%s: cannot begin a read transaction", path);
        s->txn = NULL;
        folio_close(s->db);
        s->db = NULL;
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_session_close(cli_session *s, int rc)
{
    if (s->txn) {
        int frc = rc == CLI_EXIT_OK ? folio_commit(s->txn) : folio_rollback(s->txn);
        s->txn = NULL;
        if (frc < 0 && rc == CLI_EXIT_OK)
            rc = cli_fail_db(s->db, frc, "%s: cannot end the read transaction", s->path);
    }
    if (s->db) {
        int frc = folio_close(s->db);
        if (frc < 0 && rc == CLI_EXIT_OK)
            rc = cli_fail("%s: cannot close: %s", s->path, folio_strerror(frc));
        s->db = NULL;
    }
    return rc;
}

/* ---- Arguments --------------------------------------------------------------- */

static const cli_opt *find_opt(const cli_opt *opts, const char *arg, size_t len)
{
    for (; opts && opts->name; opts++)
        if (strlen(opts->name) == len && memcmp(opts->name, arg, len) == 0)
            return opts;
    return NULL;
}

int cli_parse_args(const cli_command *cmd, int argc, char **argv, const cli_opt *opts, char **pos,
                   int min_pos, int max_pos, int *out_npos)
{
    int npos = 0;
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            if (npos >= max_pos)
                return cli_usage_error(cmd, "%s: unexpected argument: %s", cmd->name, arg);
            pos[npos++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_opt *o = find_opt(opts, arg, len);
        if (!o)
            return cli_usage_error(cmd, "%s: unknown option: %.*s", cmd->name, (int)len, arg);
        if (o->value) {
            if (eq) {
                *o->value = eq + 1;
            } else if (i + 1 < argc) {
                *o->value = argv[++i];
            } else {
                return cli_usage_error(cmd, "%s: option %s needs a value", cmd->name, o->name);
            }
        } else {
            if (eq)
                return cli_usage_error(cmd, "%s: option %s takes no value", cmd->name, o->name);
            if (o->flag)
                *o->flag = 1;
        }
    }
    if (npos < min_pos)
        return cli_usage_error(cmd, "%s: missing arguments", cmd->name);
    *out_npos = npos;
    return CLI_EXIT_OK;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int cli_parse_check_level(const char *s, int *out)
{
    if (!s || strcmp(s, "quick") == 0)
        *out = FOLIO_CHECK_QUICK;
    else if (strcmp(s, "full") == 0)
        *out = FOLIO_CHECK_FULL;
    else
        return -1;
    return 0;
}

/* ---- Byte buffers ------------------------------------------------------------ */

int cli_buf_grow(cli_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap - b->n >= extra)
        return 0;
    size_t need = b->n + extra;
    if (need < b->n) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void cli_buf_free(cli_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->oom = 0;
}

void cli_buf_put(cli_buf *b, const void *p, size_t n)
{
    if (n == 0 || cli_buf_grow(b, n) != 0)
        return;
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

void cli_buf_puts(cli_buf *b, const char *s)
{
    cli_buf_put(b, s, strlen(s));
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len < sizeof small) {
        cli_buf_put(b, small, (size_t)len);
        return;
    }
    if (cli_buf_grow(b, (size_t)len + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

/* ---- Arenas ------------------------------------------------------------------- */

struct cli_arena_block {
    cli_arena_block *next;
    size_t cap;
    size_t used;
    max_align_t data[]; /* aligned for any value the bytes may hold */
};

#define ARENA_MIN_BLOCK 4096

void *cli_arena_alloc(cli_arena *a, size_t n)
{
    /* Round up so that every allocation starts aligned. */
    size_t align = sizeof(max_align_t);
    if (n > SIZE_MAX - align)
        return NULL;
    n = (n + align - 1) / align * align;
    cli_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = a->want > ARENA_MIN_BLOCK ? a->want : ARENA_MIN_BLOCK;
        if (b && cap < 2 * b->cap)
            cap = 2 * b->cap;
        if (cap < n)
            cap = n;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        cli_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->cap = cap;
        nb->used = 0;
        a->head = b = nb;
        a->want = 0;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void cli_arena_reset(cli_arena *a)
{
    cli_arena_block *b = a->head;
    if (!b)
        return;
    if (!b->next) {
        b->used = 0;
        return;
    }
    /* Several blocks: replace them by one as large as all of them together
     * (allocated on the next use), so the same load fits in one next time. */
    size_t total = 0;
    while (b) {
        cli_arena_block *next = b->next;
        total += b->cap;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->want = total;
}

void cli_arena_free(cli_arena *a)
{
    cli_arena_reset(a);
    free(a->head);
    a->head = NULL;
    a->want = 0;
}

/* ---- Standard output ----------------------------------------------------------- */

/* Big enough that a dump makes few write() calls. */
static char out_buffer[1 << 20];
static int out_errno; /* errno of the first failed write, 0 while all is well */

void cli_out_init(void)
{
    setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
    /* A closed pipe must become EPIPE from write(), not a silent death, so
     * that the exit status is 1 as documented. */
    signal(SIGPIPE, SIG_IGN);
}

static int out_error(void)
{
    if (!out_errno)
        out_errno = errno ? errno : EIO;
    return -1;
}

int cli_out_write(const void *p, size_t n)
{
    if (out_errno)
        return -1;
    if (n == 0)
        return 0;
    errno = 0;
    if (fwrite(p, 1, n, stdout) != n)
        return out_error();
    return 0;
}

int cli_out_puts(const char *s)
{
    return cli_out_write(s, strlen(s));
}

int cli_out_printf(const char *fmt, ...)
{
    if (out_errno)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    int len = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return len < 0 ? out_error() : 0;
}

int cli_out_buf(cli_buf *b)
{
    if (b->oom) {
        if (!error_printed)
            cli_fail("out of memory");
        if (!out_errno)
            out_errno = ENOMEM;
        return -1;
    }
    int rc = cli_out_write(b->p, b->n);
    b->n = 0;
    return rc;
}

int cli_out_failed(void)
{
    return out_errno != 0;
}

int cli_out_finish(int rc)
{
    if (!out_errno) {
        errno = 0;
        if (fflush(stdout) != 0 || ferror(stdout))
            out_error();
    }
    if (!out_errno)
        return rc;
    if (out_errno != EPIPE && !error_printed)
        cli_fail("write error: %s", strerror(out_errno));
    return CLI_EXIT_FAIL;
}
