/*
 * options_env.c - folio_options from the environment (folio_options_from_env).
 *
 * Each variable, when set and not empty, replaces one field; a value that
 * does not parse leaves the options as they were and fails with
 * FOLIO_MISUSE, the message (folio_open_errmsg) naming the variable and the
 * value. Numbers are decimal, with no sign and no trailing characters.
 */
#include "db/db_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal number up to `max`; 0 or -1. */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int bad(const char *name, const char *value, const char *expected)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: expected %s, not '%.64s'", name, expected, value);
    db_set_open_err(msg);
    return FOLIO_MISUSE;
}

/* "on"/"1" -> 1, "off"/"0" -> 0, else -1. */
static int on_off(const char *v)
{
    if (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
        return 0;
    return -1;
}

int folio_options_from_env(folio_options *opts)
{
    if (!opts || opts->version < 1 || opts->version > FOLIO_OPTIONS_VERSION) {
        db_set_open_err("bad argument: initialise the options with FOLIO_OPTIONS_INIT");
        return FOLIO_MISUSE;
    }
    folio_options o = *opts;
    const char *v;
    uint64_t n;
    if ((v = getenv("FOLIO_SYNC")) && *v) {
        if (strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
            o.sync = FOLIO_SYNC_OFF;
        else if (strcasecmp(v, "normal") == 0 || strcmp(v, "1") == 0)
            o.sync = FOLIO_SYNC_NORMAL;
        else if (strcasecmp(v, "full") == 0 || strcmp(v, "2") == 0)
            o.sync = FOLIO_SYNC_FULL;
        else
            return bad("FOLIO_SYNC", v, "off, normal or full");
    }
    if ((v = getenv("FOLIO_CACHE_MB")) && *v) {
        if (parse_count(v, SIZE_MAX >> 20, &n) < 0 || n == 0)
            return bad("FOLIO_CACHE_MB", v, "a positive number of MiB");
        o.cache_bytes = (size_t)n << 20;
    }
    if ((v = getenv("FOLIO_MMAP_MB")) && *v) {
        if (parse_count(v, SIZE_MAX >> 20, &n) < 0)
            return bad("FOLIO_MMAP_MB", v, "a number of MiB (0: no map)");
        if (o.version >= 2)
            o.mmap_bytes = (size_t)n << 20;
    }
    if ((v = getenv("FOLIO_WAL_AUTOCHECKPOINT")) && *v) {
        if (parse_count(v, UINT32_MAX, &n) < 0)
            return bad("FOLIO_WAL_AUTOCHECKPOINT", v, "a number of frames (0: never automatic)");
        o.wal_autocheckpoint = (unsigned)n;
    }
    if ((v = getenv("FOLIO_BUSY_TIMEOUT_MS")) && *v) {
        if (parse_count(v, UINT32_MAX, &n) < 0)
            return bad("FOLIO_BUSY_TIMEOUT_MS", v, "a number of milliseconds");
        o.busy_timeout_ms = (unsigned)n;
    }
    if ((v = getenv("FOLIO_TXN_TIMEOUT_MS")) && *v) {
        if (parse_count(v, UINT32_MAX, &n) < 0)
            return bad("FOLIO_TXN_TIMEOUT_MS", v, "a number of milliseconds (0: none)");
        if (o.version >= 3)
            o.txn_timeout_ms = (unsigned)n;
    }
    if ((v = getenv("FOLIO_FOREIGN_KEYS")) && *v) {
        int on = on_off(v);
        if (on < 0)
            return bad("FOLIO_FOREIGN_KEYS", v, "on or off");
        if (o.version >= 4)
            o.foreign_keys = on;
    }
    if ((v = getenv("FOLIO_RECURSIVE_TRIGGERS")) && *v) {
        int on = on_off(v);
        if (on < 0)
            return bad("FOLIO_RECURSIVE_TRIGGERS", v, "on or off");
        if (o.version >= 5)
            o.recursive_triggers = on;
    }
    if ((v = getenv("FOLIO_MAX_WRITE_TXNS")) && *v) {
        if (parse_count(v, UINT32_MAX, &n) < 0)
            return bad("FOLIO_MAX_WRITE_TXNS", v, "a number of transactions (0: no limit)");
        if (o.version >= 6)
            o.max_write_txns = (unsigned)n;
    }
    if ((v = getenv("FOLIO_LOG_COMPRESSION")) && *v) {
        int c = strcmp(v, "zstd") == 0  ? FOLIO_LOG_ZSTD
                : strcmp(v, "lz4") == 0 ? FOLIO_LOG_LZ4
                                        : -2;
        if (c == -2)
            return bad("FOLIO_LOG_COMPRESSION", v, "zstd or lz4");
        if (o.version >= 7)
            o.log_compression = c;
    }
    *opts = o;
    db_set_open_err("");
    return FOLIO_OK;
}
