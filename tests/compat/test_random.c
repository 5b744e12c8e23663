/*
 * test_random.c - random schemas and random data written by libsqlite3, then
 * every table and index compared with folio (compare_db). Schemas draw column
 * counts, declared types (with the affinity traps: "FLOATING POINT" is
 * INTEGER, "STRING" is NUMERIC, none at all), collations, INTEGER PRIMARY KEY
 * and its look-alikes, composite and DESC keys, WITHOUT ROWID, STRICT, and
 * indexes (unique, multi-column, DESC, collated, partial, on expressions).
 * Data draws every type and size, then deletes, updates, ALTER TABLE ADD
 * COLUMN and DROP TABLE. Page size, encoding, journal mode and auto-vacuum
 * vary by flavour.
 *
 * Replay: FOLIO_SEED=<seed> reruns everything; FOLIO_RANDOM_ONLY=<n> runs only
 * database n of each flavour (the failure message names it);
 * FOLIO_RANDOM_TRACE=1 prints the SQL that built each database.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COLS 9

typedef struct rcol {
    const char *type;
    const char *coll; /* "" or " COLLATE X" */
    int strict_kind;  /* STRICT tables: 0 ANY, 1 INT, 2 REAL, 3 TEXT, 4 BLOB */
    int ipk;          /* the rowid alias: integers (or NULL) only */
} rcol;

typedef struct rtable {
    char name[16];
    int ncols;
    rcol cols[MAX_COLS + 4];
    int without_rowid;
    int strict;
} rtable;

typedef struct flavour {
    const char *name;
    int ndbs;
    int utf16;
    int wal;
    int alter_and_drop;
    int without_rowid_bias;
} flavour;

static const char *const loose_types[] = {
    "",
    "INTEGER",
    "INT",
    "TEXT",
    "BLOB",
    "REAL",
    "NUMERIC",
    "VARCHAR(20)",
    "DOUBLE",
    "FLOAT",
    "BOOLEAN",
    "DATETIME",
    "BIGINT",
    "CLOB",
    "CHARINT",
    "DECIMAL(10,5)",
    "FLOATING POINT",
    "STRING",
    "DOUBLE PRECISION",
    "NVARCHAR(5)",
    "UNSIGNED BIG INT",
    "ANY",
};
static const char *const strict_types[] = {"ANY", "INT", "REAL", "TEXT", "BLOB", "INTEGER"};
static const int strict_kinds[] = {0, 1, 2, 3, 4, 1};
static const char *const colls[] = {
    "", "", "", " COLLATE NOCASE", " COLLATE RTRIM", " COLLATE BINARY"};

static uint64_t pick(uint64_t *rng, uint64_t n)
{
    return compat_below(rng, n);
}

static void add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        cr_assert(n >= 0);
        if (*len + (size_t)n < *cap) {
            *len += (size_t)n;
            return;
        }
        *cap = *cap * 2 + (size_t)n;
        *buf = realloc(*buf, *cap);
        cr_assert(*buf != NULL);
    }
}

/* Build CREATE TABLE for a random table; fills `t`. */
static char *random_table(uint64_t *rng, rtable *t, int index, const flavour *fl)
{
    size_t len = 0, cap = 256;
    char *sql = malloc(cap);
    cr_assert(sql != NULL);
    sql[0] = 0;
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "t%d", index);
    t->ncols = 1 + (int)pick(rng, MAX_COLS);
    t->without_rowid = (int)pick(rng, 10) < 2 + fl->without_rowid_bias;
    t->strict = pick(rng, 6) == 0;
    /* Primary key shape: 0 none, 1 column INTEGER PRIMARY KEY, 2 look-alike
     * column key, 3 table constraint of 1-3 columns. */
    int pk_shape = (int)pick(rng, 4);
    if (t->without_rowid && pk_shape < 2)
        pk_shape = 2 + (int)pick(rng, 2);
    else if (pk_shape == 1 && t->strict)
        pk_shape = 0;
    int pk_col = (int)pick(rng, (uint64_t)t->ncols);
    add(&sql, &len, &cap, "CREATE TABLE %s(", t->name);
    for (int c = 0; c < t->ncols; c++) {
        rcol *col = &t->cols[c];
        if (c == pk_col && pk_shape == 1) {
            /* Exactly "INTEGER PRIMARY KEY": the rowid alias. */
            col->type = "INTEGER";
            col->coll = "";
            col->ipk = 1;
            col->strict_kind = 1;
            add(&sql, &len, &cap, "%sc%d INTEGER PRIMARY KEY", c ? ", " : "", c);
            continue;
        }
        if (t->strict) {
            int k = (int)pick(rng, 6);
            col->type = strict_types[k];
            col->strict_kind = strict_kinds[k];
        } else {
            col->type = loose_types[pick(rng, sizeof loose_types / sizeof loose_types[0])];
        }
        col->coll = colls[pick(rng, sizeof colls / sizeof colls[0])];
        add(&sql, &len, &cap, "%sc%d %s%s", c ? ", " : "", c, col->type, col->coll);
        /* "INT PRIMARY KEY" and "INTEGER PRIMARY KEY DESC" are not aliases;
         * an INTEGER one without DESC is (inserting text then fails and the
         * row is skipped). */
        if (c == pk_col && pk_shape == 2)
            add(&sql, &len, &cap, " PRIMARY KEY%s", pick(rng, 2) ? " DESC" : "");
    }
    if (pk_shape == 3) {
        int n = 1 + (int)pick(rng, (uint64_t)(t->ncols < 3 ? t->ncols : 3));
        int first = (int)pick(rng, (uint64_t)t->ncols);
        add(&sql, &len, &cap, ", PRIMARY KEY(");
        for (int i = 0; i < n; i++)
            add(&sql, &len, &cap, "%sc%d%s%s", i ? ", " : "", (first + i) % t->ncols,
                pick(rng, 3) == 0 ? " COLLATE NOCASE" : "", pick(rng, 2) ? " DESC" : "");
        add(&sql, &len, &cap, ")");
    }
    if (pick(rng, 5) == 0) {
        int u = (int)pick(rng, (uint64_t)t->ncols);
        add(&sql, &len, &cap, ", UNIQUE(c%d)", u);
    }
    add(&sql, &len, &cap, ")%s%s", t->strict ? " STRICT" : "",
        t->without_rowid ? (t->strict ? ", WITHOUT ROWID" : " WITHOUT ROWID") : "");
    return sql;
}

static char *random_index(uint64_t *rng, const rtable *t, int index, const flavour *fl)
{
    size_t len = 0, cap = 256;
    char *sql = malloc(cap);
    cr_assert(sql != NULL);
    sql[0] = 0;
    int unique = pick(rng, 4) == 0;
    add(&sql, &len, &cap, "CREATE %sINDEX %s_i%d ON %s(", unique ? "UNIQUE " : "", t->name, index,
        t->name);
    int n = 1 + (int)pick(rng, 3);
    for (int i = 0; i < n; i++) {
        int c = (int)pick(rng, (uint64_t)t->ncols);
        /* No expression indexes in UTF-16 files: libsqlite3 itself reports
         * them malformed after a DELETE when they index lower() of blobs. */
        unsigned kind = fl->utf16 ? 12 : (unsigned)pick(rng, 12);
        if (kind == 0)
            add(&sql, &len, &cap, "%slower(c%d)", i ? ", " : "", c);
        else if (kind == 1)
            add(&sql, &len, &cap, "%slength(c%d)", i ? ", " : "", c);
        else
            add(&sql, &len, &cap, "%sc%d", i ? ", " : "", c);
        add(&sql, &len, &cap, "%s%s", colls[pick(rng, sizeof colls / sizeof colls[0])],
            pick(rng, 3) == 0 ? " DESC" : "");
    }
    add(&sql, &len, &cap, ")");
    unsigned partial = (unsigned)pick(rng, 8);
    int pc = (int)pick(rng, (uint64_t)t->ncols);
    if (partial == 0)
        add(&sql, &len, &cap, " WHERE c%d IS NOT NULL", pc);
    else if (partial == 1)
        add(&sql, &len, &cap, " WHERE typeof(c%d) IN ('integer', 'real')", pc);
    return sql;
}

/* Bind a value a STRICT column accepts (any value for other columns). */
static void bind_for(sqlite3_stmt *st, int param, const rtable *t, const rcol *col, uint64_t *rng,
                     int maxlen)
{
    if (col->ipk) {
        if (pick(rng, 4) == 0)
            sqlite3_bind_null(st, param);
        else
            sqlite3_bind_int64(st, param,
                               pick(rng, 3)
                                   ? (int64_t)pick(rng, 100000) - 1000
                                   : compat_int_boundaries[pick(rng, compat_n_int_boundaries)]);
        return;
    }
    if (!t->strict || col->strict_kind == 0) {
        compat_bind_random(st, param, rng, maxlen);
        return;
    }
    if (pick(rng, 8) == 0) {
        sqlite3_bind_null(st, param);
        return;
    }
    switch (col->strict_kind) {
    case 1:
        sqlite3_bind_int64(st, param, (int64_t)compat_rand(rng) >> pick(rng, 64));
        break;
    case 2:
        sqlite3_bind_double(st, param, compat_special_reals[pick(rng, compat_n_special_reals)]);
        break;
    case 3: {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "text %" PRIu64, compat_rand(rng) >> pick(rng, 64));
        sqlite3_bind_text(st, param, buf, n, SQLITE_TRANSIENT);
        break;
    }
    default: {
        uint64_t v = compat_rand(rng);
        sqlite3_bind_blob(st, param, &v, (int)pick(rng, sizeof v + 1), SQLITE_TRANSIENT);
        break;
    }
    }
}

static void fill_table(sqlite3 *db, const rtable *t, uint64_t *rng, int page_size)
{
    char sql[256];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s VALUES(", t->name);
    for (int c = 0; c < t->ncols; c++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s?", c ? "," : "");
    snprintf(sql + len, sizeof sql - len, ")");
    sqlite3_stmt *st = compat_prepare(db, sql);
    int rows = (int)pick(rng, 4) == 0 ? (int)pick(rng, 5) : (int)pick(rng, 250);
    int maxlen = pick(rng, 4) == 0 ? page_size * 2 : 40;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < t->ncols; c++)
            bind_for(st, c + 1, t, &t->cols[c], rng, pick(rng, 20) == 0 ? maxlen * 4 : maxlen);
        int rc = sqlite3_step(st);
        /* OR IGNORE skips duplicate and NULL keys; a rowid alias declared as
         * a table constraint rejects non-integers (SQLITE_MISMATCH): skipped
         * too. Anything else is a harness bug. */
        cr_assert(rc == SQLITE_DONE || (rc & 0xff) == SQLITE_MISMATCH ||
                      (rc & 0xff) == SQLITE_CONSTRAINT,
                  "sqlite: %s in %s", sqlite3_errmsg(db), sql);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
}

static const char *const defaults[] = {
    "",
    " DEFAULT 0",
    " DEFAULT -17",
    " DEFAULT 'dflt'",
    " DEFAULT x'beef'",
    " DEFAULT NULL",
    " DEFAULT 2.5",
    " DEFAULT -1e999",
    " DEFAULT ''",
    " DEFAULT 9223372036854775807",
};

static int trace_sql(unsigned type, void *ctx, void *p, void *x)
{
    (void)type;
    (void)ctx;
    (void)x;
    char *sql = sqlite3_expanded_sql(p);
    fprintf(stderr, "  sql: %.300s\n", sql ? sql : "?");
    sqlite3_free(sql);
    return 0;
}

static void random_db(const char *path, uint64_t dbseed, const flavour *fl)
{
    uint64_t rng = dbseed;
    static const int sizes[] = {512, 512, 1024, 1024, 2048, 4096, 4096, 8192, 65536};
    int page_size = sizes[pick(&rng, sizeof sizes / sizeof sizes[0])];
    sqlite3 *db = compat_sqlite_open(path);
    if (getenv("FOLIO_RANDOM_TRACE"))
        sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_sql, NULL);
    compat_execf(db, "PRAGMA page_size=%d", page_size);
    if (fl->utf16)
        compat_exec(db,
                    pick(&rng, 2) ? "PRAGMA encoding='UTF-16le'" : "PRAGMA encoding='UTF-16be'");
    if (pick(&rng, 8) == 0)
        compat_exec(db, "PRAGMA auto_vacuum=FULL");
    if (pick(&rng, 3) == 0)
        compat_exec(db, "PRAGMA secure_delete=OFF");
    if (fl->wal)
        compat_wal_mode(db);
    int ntables = 1 + (int)pick(&rng, 3);
    rtable tables[3];
    compat_exec(db, "BEGIN");
    for (int i = 0; i < ntables; i++) {
        char *sql = random_table(&rng, &tables[i], i, fl);
        compat_exec(db, sql);
        free(sql);
        int nidx = (int)pick(&rng, 4);
        for (int k = 0; k < nidx; k++) {
            sql = random_index(&rng, &tables[i], k, fl);
            compat_exec(db, sql);
            free(sql);
        }
    }
    if (fl->alter_and_drop)
        compat_exec(db, "CREATE TABLE doomed(x, y); CREATE INDEX doomed_x ON doomed(x)");
    compat_exec(db, "COMMIT");
    if (fl->wal && pick(&rng, 2))
        compat_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    for (int i = 0; i < ntables; i++)
        fill_table(db, &tables[i], &rng, page_size);
    if (fl->alter_and_drop) {
        compat_exec(db, COMPAT_SERIES(1, 500) "INSERT INTO doomed SELECT value, zeroblob(value)"
                                              " FROM series");
        for (int i = 0; i < ntables; i++) {
            if (tables[i].strict || pick(&rng, 2))
                continue;
            int n = 1 + (int)pick(&rng, 3);
            for (int k = 0; k < n && tables[i].ncols < MAX_COLS + 4; k++) {
                int c = tables[i].ncols++;
                tables[i].cols[c].type = loose_types[pick(&rng, 8)];
                tables[i].cols[c].coll = "";
                compat_execf(db, "ALTER TABLE %s ADD COLUMN c%d %s%s", tables[i].name, c,
                             tables[i].cols[c].type,
                             defaults[pick(&rng, sizeof defaults / sizeof defaults[0])]);
            }
            fill_table(db, &tables[i], &rng, page_size);
        }
    }
    /* Deletes and updates, chosen by the data so they replay exactly. */
    for (int i = 0; i < ntables; i++) {
        if (pick(&rng, 2))
            compat_execf(db, "DELETE FROM %s WHERE length(CAST(c0 AS BLOB)) %% %d = %d",
                         tables[i].name, 2 + (int)pick(&rng, 3), (int)pick(&rng, 2));
        if (pick(&rng, 3) == 0 && !tables[i].strict) {
            int c = (int)pick(&rng, (uint64_t)tables[i].ncols);
            if (!tables[i].cols[c].ipk)
                compat_execf(db,
                             "UPDATE OR IGNORE %s SET c%d = quote(c%d) WHERE"
                             " length(CAST(c0 AS BLOB)) %% 3 = 1",
                             tables[i].name, c, c);
        }
    }
    if (fl->alter_and_drop)
        compat_exec(db, "DROP TABLE doomed");
    if (fl->wal)
        compat_sqlite_close_keep_wal(db);
    else
        compat_sqlite_close(db);
}

static void run_flavour(const flavour *fl, uint64_t fallback)
{
    uint64_t seed = compat_seed(fallback);
    const char *only = getenv("FOLIO_RANDOM_ONLY");
    char *dir = compat_tmpdir();
    /* make test: half of the flavour's databases; make soak: all of them. */
    const char *soak = getenv("FOLIO_SOAK");
    int ndbs = soak && *soak && strcmp(soak, "0") != 0 ? fl->ndbs : (fl->ndbs + 1) / 2;
    for (int i = 0; i < ndbs; i++) {
        if (only && *only && atoi(only) != i)
            continue;
        uint64_t dbseed = seed ^ ((uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull);
        char name[32];
        snprintf(name, sizeof name, "db%03d.sqlite", i);
        char *path = compat_path(dir, name);
        fprintf(stderr, "%s: database %d (FOLIO_SEED=%" PRIu64 " FOLIO_RANDOM_ONLY=%d): %s\n",
                fl->name, i, seed, i, path);
        random_db(path, dbseed, fl);
        uint64_t r = dbseed ^ 0x5151;
        unsigned modes = (unsigned)(1 + pick(&r, 3)); /* RO, RW or both */
        compare_db_modes(path, modes, 12);
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t k = 0; k < sizeof sfx / sizeof sfx[0]; k++) {
            char *p = compat_suffix(path, sfx[k]);
            unlink(p);
            free(p);
        }
        free(path);
    }
    compat_rmtree(dir);
    free(dir);
}

Test(compat_random, utf8_rollback, .timeout = 300)
{
    static const flavour fl = {"utf8_rollback", 110, 0, 0, 0, 0};
    run_flavour(&fl, 0x7a1d0001);
}

Test(compat_random, utf8_wal, .timeout = 300)
{
    static const flavour fl = {"utf8_wal", 60, 0, 1, 0, 0};
    run_flavour(&fl, 0x7a1d0002);
}

Test(compat_random, without_rowid_heavy, .timeout = 300)
{
    static const flavour fl = {"without_rowid_heavy", 50, 0, 0, 0, 5};
    run_flavour(&fl, 0x7a1d0003);
}

Test(compat_random, alter_and_drop, .timeout = 300)
{
    static const flavour fl = {"alter_and_drop", 50, 0, 0, 1, 0};
    run_flavour(&fl, 0x7a1d0004);
}

Test(compat_random, utf16, .timeout = 300)
{
    static const flavour fl = {"utf16", 40, 1, 0, 0, 1};
    run_flavour(&fl, 0x7a1d0005);
}
