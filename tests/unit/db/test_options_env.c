/*
 * folio_options_from_env: each variable sets its field, empty ones are
 * ignored, a bad value fails naming the variable and leaves the options as
 * they were; and the CLI takes them below its flags.
 */
#include "folio.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const vars[] = {"FOLIO_SYNC",
                                   "FOLIO_CACHE_MB",
                                   "FOLIO_MMAP_MB",
                                   "FOLIO_WAL_AUTOCHECKPOINT",
                                   "FOLIO_BUSY_TIMEOUT_MS",
                                   "FOLIO_MAX_WRITE_TXNS"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

Test(options_env, nothing_set_changes_nothing)
{
    clear_env();
    folio_options a = FOLIO_OPTIONS_INIT, b = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_options_from_env(&a), FOLIO_OK);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
    setenv("FOLIO_SYNC", "", 1); /* empty: ignored */
    cr_assert_eq(folio_options_from_env(&a), FOLIO_OK);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
    clear_env();
}

Test(options_env, each_variable_sets_its_field)
{
    clear_env();
    folio_options o = FOLIO_OPTIONS_INIT;
    setenv("FOLIO_SYNC", "FULL", 1);
    setenv("FOLIO_CACHE_MB", "8", 1);
    setenv("FOLIO_MMAP_MB", "0", 1);
    setenv("FOLIO_WAL_AUTOCHECKPOINT", "250", 1);
    setenv("FOLIO_BUSY_TIMEOUT_MS", "1234", 1);
    setenv("FOLIO_MAX_WRITE_TXNS", "3", 1);
    cr_assert_eq(folio_options_from_env(&o), FOLIO_OK, "%s", folio_open_errmsg());
    cr_assert_eq(o.max_write_txns, 3);
    cr_assert_eq(o.sync, FOLIO_SYNC_FULL);
    cr_assert_eq(o.cache_bytes, (size_t)8 << 20);
    cr_assert_eq(o.mmap_bytes, 0);
    cr_assert_eq(o.wal_autocheckpoint, 250);
    cr_assert_eq(o.busy_timeout_ms, 1234);
    setenv("FOLIO_SYNC", "0", 1);
    cr_assert_eq(folio_options_from_env(&o), FOLIO_OK);
    cr_assert_eq(o.sync, FOLIO_SYNC_OFF);
    setenv("FOLIO_SYNC", "normal", 1);
    cr_assert_eq(folio_options_from_env(&o), FOLIO_OK);
    cr_assert_eq(o.sync, FOLIO_SYNC_NORMAL);
    clear_env();
}

Test(options_env, a_bad_value_names_the_variable)
{
    static const struct {
        const char *var, *value, *msg;
    } bad[] = {
        {"FOLIO_SYNC", "sometimes", "FOLIO_SYNC: expected off, normal or full, not 'sometimes'"},
        {"FOLIO_CACHE_MB", "0", "FOLIO_CACHE_MB: expected a positive number of MiB, not '0'"},
        {"FOLIO_CACHE_MB", "12x", "FOLIO_CACHE_MB: expected a positive number of MiB, not '12x'"},
        {"FOLIO_MMAP_MB", "-1", "FOLIO_MMAP_MB: expected a number of MiB (0: no map), not '-1'"},
        {"FOLIO_WAL_AUTOCHECKPOINT", "4294967296",
         "FOLIO_WAL_AUTOCHECKPOINT: expected a number of frames (0: never automatic), not "
         "'4294967296'"},
        {"FOLIO_BUSY_TIMEOUT_MS", " 5",
         "FOLIO_BUSY_TIMEOUT_MS: expected a number of milliseconds, "
         "not ' 5'"},
        {"FOLIO_MAX_WRITE_TXNS", "many",
         "FOLIO_MAX_WRITE_TXNS: expected a number of transactions (0: no limit), not 'many'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env();
        setenv("FOLIO_SYNC", "full", 1); /* a good one before: not applied either */
        if (strcmp(bad[i].var, "FOLIO_SYNC") == 0)
            unsetenv("FOLIO_SYNC");
        setenv(bad[i].var, bad[i].value, 1);
        folio_options o = FOLIO_OPTIONS_INIT, before = FOLIO_OPTIONS_INIT;
        cr_assert_eq(folio_options_from_env(&o), FOLIO_MISUSE, "%s=%s", bad[i].var, bad[i].value);
        cr_assert_str_eq(folio_open_errmsg(), bad[i].msg);
        cr_assert_eq(memcmp(&o, &before, sizeof o), 0, "%s: the options changed", bad[i].var);
    }
    clear_env();
    cr_assert_eq(folio_options_from_env(NULL), FOLIO_MISUSE);
    folio_options z;
    memset(&z, 0, sizeof z);
    cr_assert_eq(folio_options_from_env(&z), FOLIO_MISUSE);
}

/* Run the CLI with `args`; its exit status, the seconds it took, stderr in err. */
static int run_cli(const char *const *args, double *secs, char *err, size_t errcap)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert(cli && *cli);
    char errpath[] = "/tmp/folio-env-err-XXXXXX";
    int efd = mkstemp(errpath);
    cr_assert(efd >= 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(efd, 2);
        char *argv[16];
        int n = 0;
        argv[n++] = (char *)cli;
        for (; args[n - 1]; n++)
            argv[n] = (char *)args[n - 1];
        argv[n] = NULL;
        execv(cli, argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ssize_t got = pread(efd, err, errcap - 1, 0);
    err[got > 0 ? got : 0] = 0;
    close(efd);
    unlink(errpath);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/*
 * The CLI: a bad variable is an error naming it; FOLIO_BUSY_TIMEOUT_MS=0
 * makes a write fail at once against a writer of libsqlite3 (the CLI's own
 * default waits 5 s), and --busy-timeout given on the command line wins.
 */
Test(options_env, the_cli_takes_them_below_its_flags, .timeout = 60)
{
    clear_env();
    const char *base = getenv("FOLIO_TMP");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/envcli-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/e.db", dir);
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(path, &s), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(s, "PRAGMA journal_mode=WAL; CREATE TABLE t(a)", NULL, NULL, NULL),
                 SQLITE_OK);
    char err[1024];
    double secs;
    setenv("FOLIO_SYNC", "bogus", 1);
    int st = run_cli((const char *const[]){"tables", path, NULL}, &secs, err, sizeof err);
    cr_assert_eq(st, 1, "%s", err);
    cr_assert(strstr(err, "FOLIO_SYNC: expected off, normal or full, not 'bogus'"), "%s", err);
    clear_env();

    /* A writer of libsqlite3 holds the WAL's write lock. */
    cr_assert_eq(sqlite3_exec(s, "BEGIN IMMEDIATE; INSERT INTO t VALUES(1)", NULL, NULL, NULL),
                 SQLITE_OK);
    setenv("FOLIO_BUSY_TIMEOUT_MS", "0", 1);
    st = run_cli((const char *const[]){"exec", path, "CREATE TABLE u(b)", NULL}, &secs, err,
                 sizeof err);
    cr_assert_eq(st, 1, "%s", err);
    cr_assert(strstr(err, "locked"), "%s", err);
    cr_assert_lt(secs, 3.0, "FOLIO_BUSY_TIMEOUT_MS=0 still waited %.1f s", secs);
    st = run_cli(
        (const char *const[]){"--busy-timeout", "3500", "exec", path, "CREATE TABLE u(b)", NULL},
        &secs, err, sizeof err);
    cr_assert_eq(st, 1, "%s", err);
    cr_assert_geq(secs, 3.0, "--busy-timeout 3500 waited only %.1f s", secs);
    clear_env();
    cr_assert_eq(sqlite3_exec(s, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    unlink(path);
    char side[700];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    rmdir(dir);
}
