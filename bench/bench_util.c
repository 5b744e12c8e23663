/*
 * bench_util.c - clock, files, peak RSS and the heap-call counter.
 *
 * The counter: the bench is linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc, so every such call made by folio's static objects (and by
 * the bench itself) lands in __wrap_* here, which counts it and forwards to
 * the C library. No LD_PRELOAD is involved. Calls made inside shared
 * libraries (libsqlite3, liblmdb, libc itself) are not seen by the wrap.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char bench_errbuf[BENCH_ERR_LEN];

/* ---- heap-call counter ---- */

static atomic_uint_fast64_t heap_call_count;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    atomic_fetch_add_explicit(&heap_call_count, 1, memory_order_relaxed);
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&heap_call_count, 1, memory_order_relaxed);
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&heap_call_count, 1, memory_order_relaxed);
    return __real_realloc(p, n);
}

uint64_t heap_calls(void)
{
    return atomic_load_explicit(&heap_call_count, memory_order_relaxed);
}

/* ---- clock, memory ---- */

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* ---- errors ---- */

void bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(bench_errbuf, sizeof bench_errbuf, fmt, ap);
    va_end(ap);
    /* One line: multi-line messages (integrity_check) are joined. */
    for (char *p = bench_errbuf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "\n*** %s\n", bench_errbuf);
    fflush(stderr);
}

/* ---- files ---- */

uint64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY);
    if (in < 0) {
        bench_fail("copy %s: %s", from, strerror(errno));
        return -1;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        bench_fail("copy to %s: %s", to, strerror(errno));
        close(in);
        return -1;
    }
    static char buf[1 << 20];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            bench_fail("copy %s: read: %s", from, strerror(errno));
            rc = -1;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                bench_fail("copy to %s: write: %s", to, strerror(errno));
                rc = -1;
                break;
            }
            off += w;
        }
        if (rc < 0)
            break;
    }
    close(in);
    if (close(out) != 0 && rc == 0) {
        bench_fail("copy to %s: close: %s", to, strerror(errno));
        rc = -1;
    }
    return rc;
}

void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-journal", "-shm", "-lock"};
    char buf[BENCH_PATH_LEN + 16];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", path, suffixes[i]);
        unlink(buf);
    }
}
