/*
 * cmd_log.c: the commit log's commands: log (listing), log enable, log
 * disable, log prune, log ship and restore; and the ISO 8601 times they
 * print and read.
 *
 *   folio log DB [--json]                     every record and base, in order
 *   folio log enable DB [--compression zstd|lz4]
 *   folio log disable DB
 *   folio log prune DB --keep-versions N | --keep-days D
 *   folio log ship DB DIR
 *   folio restore SRC DEST --version V | --time ISO8601
 *
 * DB may also be a log directory where only the log is read (log, ship,
 * restore).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* timegm, gmtime_r */
#endif

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* ---- Times ------------------------------------------------------------------ */

void cli_time_iso(char *buf, size_t n, int64_t us)
{
    int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    long frac = (long)(us - sec * 1000000);
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* `n` decimal digits at *p (moved past them), or -1. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

int cli_parse_time(const char *s, int64_t *out_us)
{
    const char *p = s;
    int y = digits(&p, 4);
    if (y < 0 || *p++ != '-')
        return -1;
    int mo = digits(&p, 2);
    if (mo < 0 || *p++ != '-')
        return -1;
    int d = digits(&p, 2);
    if (d < 0 || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    int h = digits(&p, 2);
    if (h < 0 || *p++ != ':')
        return -1;
    int mi = digits(&p, 2);
    if (mi < 0 || *p++ != ':')
        return -1;
    int se = digits(&p, 2);
    if (se < 0)
        return -1;
    int64_t frac_us = 0;
    if (*p == '.' || *p == ',') {
        p++;
        int nd = 0;
        int64_t scale = 100000;
        for (; *p >= '0' && *p <= '9'; p++, nd++) {
            frac_us += (*p - '0') * scale; /* digits past microseconds are dropped */
            scale /= 10;
        }
        if (nd == 0)
            return -1;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = digits(&p, 2);
        if (oh < 0)
            return -1;
        if (*p == ':')
            p++;
        int om = digits(&p, 2);
        if (om < 0 || oh > 23 || om > 59)
            return -1;
        offset_s = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return -1; /* the zone must be said */
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    /* timegm carries a day past the month's end into the next month. */
    if (tm.tm_mday != d || tm.tm_mon != mo - 1)
        return -1;
    int64_t sec = (int64_t)t - offset_s;
    if (sec < 0 || sec > INT64_MAX / 1000000 - 1)
        return -1;
    *out_us = sec * 1000000 + frac_us;
    return 0;
}

/* ---- Helpers ----------------------------------------------------------------- */

static int close_db(folio_db *db, const char *path, int rc)
{
    int frc = db ? folio_close(db) : 0;
    if (frc < 0 && rc == CLI_EXIT_OK)
        rc = cli_fail("%s: cannot close: %s", path, folio_strerror(frc));
    return rc;
}

/* ---- log DB [--json] ----------------------------------------------------------- */

static const char *kind_name(folio_log_kind k)
{
    return k == FOLIO_LOG_COMMIT ? "commit" : k == FOLIO_LOG_GAP ? "gap" : "base";
}

static int list_text(void *arg, const folio_log_entry *e)
{
    (void)arg;
    char when[64];
    cli_time_iso(when, sizeof when, e->time_us);
    if (e->kind == FOLIO_LOG_GAP)
        cli_out_printf("%llu-%llu  %s  gap     no record of these versions\n",
                       (unsigned long long)e->version, (unsigned long long)e->last_version, when);
    else if (e->kind == FOLIO_LOG_BASE)
        cli_out_printf("%llu  %s  base    pages %u  raw %llu  stored %llu\n",
                       (unsigned long long)e->version, when, (unsigned)e->pages,
                       (unsigned long long)e->raw_bytes, (unsigned long long)e->stored_bytes);
    else
        cli_out_printf("%llu  %s  commit  changes %u  pages %u  raw %llu  stored %llu\n",
                       (unsigned long long)e->version, when, (unsigned)e->changes,
                       (unsigned)e->pages, (unsigned long long)e->raw_bytes,
                       (unsigned long long)e->stored_bytes);
    return cli_out_failed() ? 1 : 0;
}

static json_t *ju64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

static int list_json(void *arg, const folio_log_entry *e)
{
    int *oom = arg;
    char when[64];
    cli_time_iso(when, sizeof when, e->time_us);
    json_t *o = json_object();
    int ok = o != NULL;
#define PUT(k, v)                                                                                  \
    do {                                                                                           \
        json_t *v_ = (v);                                                                          \
        if (!v_ || json_object_set_new(o, k, v_) != 0)                                             \
            ok = 0;                                                                                \
    } while (0)
    if (ok) {
        PUT("kind", json_string(kind_name(e->kind)));
        PUT("version", ju64(e->version));
        if (e->kind == FOLIO_LOG_GAP)
            PUT("last_version", ju64(e->last_version));
        PUT("time", json_string(when));
        PUT("time_us", json_integer(e->time_us));
        PUT("changes", ju64(e->changes));
        PUT("pages", ju64(e->pages));
        PUT("raw_bytes", ju64(e->raw_bytes));
        PUT("stored_bytes", ju64(e->stored_bytes));
        /* A path that is not UTF-8 is left out rather than mangled. */
        json_t *f = json_string(e->file);
        if (f)
            PUT("file", f);
        PUT("offset", ju64(e->offset));
    }
#undef PUT
    char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) {
        *oom = 1;
        return 1;
    }
    cli_out_puts(text);
    cli_out_puts("\n");
    free(text);
    return cli_out_failed() ? 1 : 0;
}

static int log_list(const cli_command *cmd, int argc, char **argv)
{
    int json = 0;
    const cli_opt opts[] = {{"--json", NULL, &json}, {NULL, NULL, NULL}};
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    int oom = 0;
    int frc =
        json ? folio_log_list(pos[0], list_json, &oom) : folio_log_list(pos[0], list_text, NULL);
    if (frc < 0)
        return cli_fail("%s", folio_open_errmsg());
    if (oom)
        return cli_fail("out of memory");
    return cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- log enable / disable --------------------------------------------------------- */

static int log_enable(const cli_command *cmd, int argc, char **argv, int on)
{
    const char *compression = NULL;
    const cli_opt opts_on[] = {{"--compression", &compression, NULL}, {NULL, NULL, NULL}};
    const cli_opt opts_off[] = {{NULL, NULL, NULL}};
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, on ? opts_on : opts_off, pos, 1, 1, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    int codec = FOLIO_LOG_ZSTD;
    if (compression && strcmp(compression, "lz4") == 0)
        codec = FOLIO_LOG_LZ4;
    else if (compression && strcmp(compression, "zstd") != 0)
        return cli_usage_error(cmd, "log enable: --compression: expected zstd or lz4, not '%s'",
                               compression);
    const char *path = pos[0];
    folio_db *db = NULL;
    if (cli_open_db(&db, path, 0) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    int frc = on ? folio_log_enable(db, codec) : folio_log_disable(db);
    if (frc < 0)
        rc = cli_fail_db(db, frc, "%s: cannot turn the commit log %s", path, on ? "on" : "off");
    else if (on)
        cli_out_printf("commit log on: %s-log (%s)\n", path,
                       codec == FOLIO_LOG_LZ4 ? "lz4" : "zstd");
    else
        cli_out_printf("commit log off (its files stay in %s-log)\n", path);
    return close_db(db, path, rc);
}

/* ---- log prune ------------------------------------------------------------------ */

/* A positive decimal number of days, fractions allowed (0.5 is 12 hours),
 * as seconds. */
static int parse_days(const char *s, int64_t *out_s)
{
    char *end = NULL;
    double d = strtod(s, &end);
    if (!s[0] || end == s || *end || !(d > 0) || d > 1e8)
        return -1;
    double sec = d * 86400.0;
    *out_s = sec < 1 ? 1 : (int64_t)sec;
    return 0;
}

static int log_prune(const cli_command *cmd, int argc, char **argv)
{
    const char *keep_v = NULL, *keep_d = NULL;
    const cli_opt opts[] = {
        {"--keep-versions", &keep_v, NULL}, {"--keep-days", &keep_d, NULL}, {NULL, NULL, NULL}};
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    uint64_t versions = 0;
    int64_t seconds = 0;
    if (!keep_v == !keep_d)
        return cli_usage_error(cmd, "log prune: give one of --keep-versions and --keep-days");
    if (keep_v && (cli_parse_u64(keep_v, &versions) != 0 || versions == 0))
        return cli_usage_error(
            cmd, "log prune: --keep-versions: expected a positive number, not '%s'", keep_v);
    if (keep_d && parse_days(keep_d, &seconds) != 0)
        return cli_usage_error(cmd, "log prune: --keep-days: expected a positive number, not '%s'",
                               keep_d);
    const char *path = pos[0];
    folio_db *db = NULL;
    if (cli_open_db(&db, path, 0) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_log_stats_data before, after;
    int frc = folio_log_stats(db, &before);
    if (frc == 0 && !before.present)
        rc = cli_fail("%s: the database has no commit log (%s-log)", path, path);
    else if (frc < 0 || (frc = folio_log_prune(db, versions, seconds)) < 0 ||
             (frc = folio_log_stats(db, &after)) < 0)
        rc = cli_fail_db(db, frc, "%s: cannot prune the commit log", path);
    if (rc == CLI_EXIT_OK) {
        cli_out_printf("before: %llu bytes, %u segments, %u bases\n",
                       (unsigned long long)before.disk_bytes, (unsigned)before.segments,
                       (unsigned)before.bases);
        cli_out_printf("after:  %llu bytes, %u segments, %u bases\n",
                       (unsigned long long)after.disk_bytes, (unsigned)after.segments,
                       (unsigned)after.bases);
        cli_out_printf("oldest restorable version: %llu\n", (unsigned long long)after.oldest_base);
    }
    return close_db(db, path, rc);
}

/* ---- log ship ---------------------------------------------------------------- */

static int log_ship(const cli_command *cmd, int argc, char **argv)
{
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, NULL, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    folio_log_ship_data st;
    if (folio_log_ship(pos[0], pos[1], &st) < 0)
        return cli_fail("%s", folio_open_errmsg());
    cli_out_printf("copied: %u files, resumed: %u, unchanged: %u, bytes: %llu\n",
                   (unsigned)st.files_copied, (unsigned)st.files_resumed,
                   (unsigned)st.files_skipped, (unsigned long long)st.bytes_copied);
    return cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_log(const cli_command *cmd, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "enable") == 0)
        return log_enable(cmd, argc - 1, argv + 1, 1);
    if (strcmp(sub, "disable") == 0)
        return log_enable(cmd, argc - 1, argv + 1, 0);
    if (strcmp(sub, "prune") == 0)
        return log_prune(cmd, argc - 1, argv + 1);
    if (strcmp(sub, "ship") == 0)
        return log_ship(cmd, argc - 1, argv + 1);
    return log_list(cmd, argc, argv);
}

/* ---- restore ------------------------------------------------------------------ */

int cmd_restore(const cli_command *cmd, int argc, char **argv)
{
    const char *ver_s = NULL, *time_s = NULL, *check_s = NULL;
    const cli_opt opts[] = {{"--version", &ver_s, NULL},
                            {"--time", &time_s, NULL},
                            {"--check", &check_s, NULL},
                            {NULL, NULL, NULL}};
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!ver_s == !time_s)
        return cli_usage_error(cmd, "restore: give one of --version and --time");
    uint64_t version = 0;
    int64_t time_us = -1;
    if (ver_s && (cli_parse_u64(ver_s, &version) != 0 || version == 0))
        return cli_usage_error(cmd, "restore: --version: expected a positive number, not '%s'",
                               ver_s);
    if (time_s && cli_parse_time(time_s, &time_us) != 0)
        return cli_usage_error(cmd,
                               "restore: --time: expected an ISO 8601 time such as "
                               "2026-12-07T18:30:00Z or 2026-12-07T18:30:00.25Z, not '%s'",
                               time_s);
    int check;
    if (cli_parse_check_level(check_s, &check) != 0)
        return cli_usage_error(cmd, "restore: --check: expected quick or full, not '%s'", check_s);
    uint64_t got = 0;
    if (folio_restore_ex(pos[0], pos[1], version, time_us, check, &got) < 0)
        return cli_fail("%s", folio_open_errmsg());
    cli_out_printf("version %llu\n", (unsigned long long)got);
    return cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
