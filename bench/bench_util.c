/*
 * bench_util.c - clock, files, peak RSS, the heap-call counter, and the
 * import workload's CSV file and child programs.
 *
 * The counter: the bench is linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc, so every such call made by folio's static objects (and by
 * the bench itself) lands in __wrap_* here, which counts it and forwards to
 * the C library. No LD_PRELOAD is involved. Calls made inside shared
 * libraries (libsqlite3, liblmdb, libc itself) are not seen by the wrap.
 * fdatasync and fsync are wrapped and counted the same way.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* ---- sync counter (fdatasync/fsync of folio's static objects) ---- */

static atomic_uint_fast64_t sync_call_count;

int __real_fdatasync(int fd);
int __real_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_fsync(int fd);

int __wrap_fdatasync(int fd)
{
    atomic_fetch_add_explicit(&sync_call_count, 1, memory_order_relaxed);
    return __real_fdatasync(fd);
}

int __wrap_fsync(int fd)
{
    atomic_fetch_add_explicit(&sync_call_count, 1, memory_order_relaxed);
    return __real_fsync(fd);
}

uint64_t sync_calls(void)
{
    return atomic_load_explicit(&sync_call_count, memory_order_relaxed);
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

/* ---- the commit log's directory ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

uint64_t log_dir_bytes(const char *db_path, const char *suffix)
{
    char dir[BENCH_PATH_LEN + 8], file[2 * BENCH_PATH_LEN];
    snprintf(dir, sizeof dir, "%s-log", db_path);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, suffix))
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        sum += file_bytes(file);
    }
    closedir(d);
    return sum;
}

void remove_log_dir(const char *db_path)
{
    char dir[BENCH_PATH_LEN + 8], file[2 * BENCH_PATH_LEN];
    snprintf(dir, sizeof dir, "%s-log", db_path);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        unlink(file);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- import: the CSV file and child programs ---- */

/* Append `v` (>= 0) in decimal. */
static char *put_uint(char *o, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0)
        *o++ = tmp[--n];
    return o;
}

int write_user_csv(const char *path, int64_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        bench_fail("create %s: %s", path, strerror(errno));
        return -1;
    }
    static char buf[1 << 20];
    static const char header[] = "id,area,age,active\n";
    size_t len = sizeof header - 1;
    memcpy(buf, header, len);
    bench_row r;
    int rc = 0;
    for (int64_t id = 1; id <= n || len > 0;) {
        /* A row is at most 20 + 1 + 6 + 1 + 2 + 1 + 1 + 1 bytes. */
        while (id <= n && len + 64 <= sizeof buf) {
            gen_row(&r, id++);
            char *o = put_uint(buf + len, (uint64_t)r.id);
            *o++ = ',';
            memcpy(o, r.area, AREA_LEN);
            o += AREA_LEN;
            *o++ = ',';
            o = put_uint(o, (uint64_t)r.age);
            *o++ = ',';
            o = put_uint(o, (uint64_t)r.active);
            *o++ = '\n';
            len = (size_t)(o - buf);
        }
        for (size_t off = 0; off < len;) {
            ssize_t w = write(fd, buf + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                bench_fail("write %s: %s", path, w < 0 ? strerror(errno) : "short write");
                rc = -1;
                break;
            }
            off += (size_t)w;
        }
        len = 0;
        if (rc < 0)
            break;
    }
    if (close(fd) != 0 && rc == 0) {
        bench_fail("close %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

int find_executable(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        snprintf(out, cap, "%.*s%s%s", (int)len, p, len ? "/" : "", name);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 0;
        if (!end)
            break;
        p = end + 1;
    }
    out[0] = 0;
    return -1;
}

/* The last non-empty line of a (log) file, at most cap-1 bytes; "" if none. */
void file_last_line(const char *path, char *out, size_t cap)
{
    out[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    char buf[2048];
    uint64_t size = file_bytes(path);
    off_t from = size > sizeof buf - 1 ? (off_t)(size - (sizeof buf - 1)) : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (n <= 0)
        return;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = 0;
    char *line = strrchr(buf, '\n');
    snprintf(out, cap, "%s", line ? line + 1 : buf);
}

int run_program(char *const argv[], const char *in_path, const char *out_path, double *secs)
{
    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        bench_fail("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
            dup2(out, STDERR_FILENO) < 0)
            _exit(126);
        close(in);
        close(out);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            bench_fail("waitpid %s: %s", argv[0], strerror(errno));
            return -1;
        }
    }
    *secs = now_s() - t0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char last[300];
    file_last_line(out_path, last, sizeof last);
    if (WIFSIGNALED(status))
        bench_fail("%s died with signal %d (%s)%s%s", argv[0], WTERMSIG(status),
                   strsignal(WTERMSIG(status)), last[0] ? ": " : "", last);
    else
        bench_fail("%s exited with status %d: %s", argv[0], WEXITSTATUS(status),
                   last[0] ? last : "(no output)");
    return -1;
}
