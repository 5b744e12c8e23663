/*
 * test_corrupt.c - damaged files. Valid files of several shapes (overflow
 * chains, many indexes, a freelist, WITHOUT ROWID, a live WAL) are mutated:
 * random bytes and bits anywhere, b-tree page header fields, cell pointers,
 * child, overflow and freelist pointers aimed at page 1, at themselves
 * (cycles) or past the end, record headers, database header fields, the
 * schema's root pages and SQL, WAL frames, and truncation. Then folio opens
 * each file, walks every table and index both ways reading every column, and
 * runs folio_check.
 *
 * Required of folio:
 *   - no crash, no hang (each file has a time limit), nothing ASan or UBSan
 *     reports;
 *   - every call returns a code folio.h defines;
 *   - every FOLIO_CORRUPT message names a page ("page N");
 *   - whenever libsqlite3's PRAGMA integrity_check is not "ok" (or libsqlite3
 *     cannot read the file), folio_check does not return FOLIO_OK;
 *   - a walk that hits FOLIO_CORRUPT means folio_check does not say FOLIO_OK.
 * Violations are collected and reported together with the seed, the shape,
 * the iteration and the mutation; the mutated file is kept as
 * mismatch-<shape>-<iteration>.sqlite in the test's directory.
 *
 * Replay: FOLIO_SEED=<seed>, FOLIO_CORRUPT_ONLY=<iteration>,
 * FOLIO_CORRUPT_ITERS=<n> (iterations per shape).
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORRUPT_HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORRUPT_HAVE_SANITIZER 1
#endif
#endif
#ifdef CORRUPT_HAVE_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

#define DEFAULT_ITERS    150
#define SECONDS_PER_FILE 30

/* ---- What is being done right now (for crash and hang reports) ------------- */

static char g_current[1024];

static void say_current(void)
{
    static const char head[] = "\n*** while reading mutated file: ";
    ssize_t w = write(2, head, sizeof head - 1);
    w = write(2, g_current, strlen(g_current));
    w = write(2, "\n", 1);
    (void)w;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "\n*** folio did not finish within the time limit (hang?)";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    say_current();
    _exit(77);
}

static void install_reporters(void)
{
    signal(SIGALRM, on_alarm);
#ifdef CORRUPT_HAVE_SANITIZER
    __sanitizer_set_death_callback(say_current);
#endif
}

/* ---- Pages of the pristine file ----------------------------------------------- */

enum { PT_OTHER = 0, PT_OVERFLOW = 1, PT_BTREE = 2 };

typedef struct page {
    int kind;      /* PT_* */
    uint32_t root; /* the b-tree it belongs to */
} page;

typedef struct shape {
    const char *name;
    char *path; /* pristine file */
    int wal;    /* the shape keeps a -wal */
    uint8_t *bytes;
    size_t len;
    uint32_t page_size, usable, npages;
    page *pages; /* [1..npages] */
    uint32_t *btree, nbtree;
    uint32_t *interior, ninterior;
    uint32_t *overflow, noverflow;
    uint32_t *roots, nroots;
    char **tables; /* names of tables with a root page */
    int ntables;
} shape;

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* SQLite varint at p (at most `room` bytes); returns its length. */
static int get_varint(const uint8_t *p, size_t room, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 9 && (size_t)i < room; i++) {
        if (i == 8) {
            *out = (v << 8) | p[i];
            return 9;
        }
        v = (v << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    *out = v;
    return (int)(room < 9 ? room : 9);
}

static void push(uint32_t **arr, uint32_t *n, uint32_t v)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    cr_assert(*arr != NULL);
    (*arr)[(*n)++] = v;
}

/* Learn the page layout from libsqlite3 (dbstat) and the file bytes. */
static void analyse(shape *sh)
{
    sh->bytes = compat_read_file(sh->path, &sh->len);
    sqlite3 *db = compat_sqlite_open_ro(sh->path);
    sh->page_size = (uint32_t)compat_query_int(db, "PRAGMA page_size");
    sh->npages = (uint32_t)compat_query_int(db, "PRAGMA page_count");
    sh->usable = sh->page_size - sh->bytes[20];
    sh->pages = calloc(sh->npages + 1, sizeof *sh->pages);
    cr_assert(sh->pages != NULL);
    sqlite3_stmt *st = compat_prepare(db, "SELECT name, path, pageno, pagetype FROM dbstat");
    /* Roots first (path "/"), to know each tree's root. */
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint32_t pgno = (uint32_t)sqlite3_column_int64(st, 2);
        const char *type = (const char *)sqlite3_column_text(st, 3);
        const char *path = (const char *)sqlite3_column_text(st, 1);
        if (pgno == 0 || pgno > sh->npages)
            continue;
        if (strcmp(type, "overflow") == 0) {
            sh->pages[pgno].kind = PT_OVERFLOW;
            push(&sh->overflow, &sh->noverflow, pgno);
        } else {
            sh->pages[pgno].kind = PT_BTREE;
            push(&sh->btree, &sh->nbtree, pgno);
            if (strcmp(type, "internal") == 0)
                push(&sh->interior, &sh->ninterior, pgno);
            if (strcmp(path, "/") == 0)
                push(&sh->roots, &sh->nroots, pgno);
        }
    }
    sqlite3_finalize(st);
    st = compat_prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND"
                            " rootpage > 0 ORDER BY rowid");
    while (sqlite3_step(st) == SQLITE_ROW) {
        sh->tables = realloc(sh->tables, (size_t)(sh->ntables + 1) * sizeof *sh->tables);
        cr_assert(sh->tables != NULL);
        sh->tables[sh->ntables++] = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    compat_sqlite_close(db);
}

static void free_shape(shape *sh)
{
    free(sh->bytes);
    free(sh->pages);
    free(sh->btree);
    free(sh->interior);
    free(sh->overflow);
    free(sh->roots);
    for (int i = 0; i < sh->ntables; i++)
        free(sh->tables[i]);
    free(sh->tables);
}

/* ---- Building the shapes ---------------------------------------------------- */

static void build_shape(shape *sh, const char *dir, const char *name)
{
    sh->name = name;
    sh->path = compat_path(dir, "pristine.sqlite");
    sqlite3 *db = compat_sqlite_open(sh->path);
    if (strcmp(name, "overflow") == 0) {
        compat_exec(db, "PRAGMA page_size=1024;"
                        "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b BLOB);"
                        "CREATE INDEX t_a ON t(a);" COMPAT_SERIES(
                            1, 60) "INSERT INTO t SELECT value, printf('%.*c', value * 61, 'a'),"
                                   " det_blob(value * 97, value) FROM series;"
                                   "CREATE TABLE u(x); INSERT INTO u VALUES(det_blob(9000, 7))");
    } else if (strcmp(name, "indexes") == 0) {
        compat_exec(
            db, "PRAGMA page_size=512;"
                "CREATE TABLE t(a INTEGER, b TEXT, c REAL, d);"
                "CREATE INDEX t_a ON t(a DESC);"
                "CREATE UNIQUE INDEX t_bc ON t(b, c);"
                "CREATE INDEX t_d ON t(d COLLATE NOCASE) WHERE d IS NOT NULL;" COMPAT_SERIES(
                    1, 700) "INSERT INTO t SELECT value % 50, printf('b%05d', value), value / 7.0,"
                            " CASE WHEN value % 3 THEN printf('D%d', value) END FROM series");
    } else if (strcmp(name, "freelist") == 0) {
        compat_exec(
            db,
            "PRAGMA page_size=512; PRAGMA secure_delete=OFF;"
            "CREATE TABLE keep(a, b); CREATE TABLE gone(x, y);"
            "CREATE INDEX gone_x ON gone(x);" COMPAT_SERIES(
                1, 400) "INSERT INTO keep SELECT value, det_blob(value % 300, value) FROM series;"
                        "INSERT INTO gone SELECT * FROM keep;"
                        "DROP TABLE gone; DELETE FROM keep WHERE a % 3 = 0");
    } else if (strcmp(name, "without_rowid") == 0) {
        compat_exec(db, "PRAGMA page_size=1024;"
                        "CREATE TABLE w(k TEXT, n INT, v, PRIMARY KEY(k DESC, n)) WITHOUT ROWID;"
                        "CREATE INDEX w_v ON w(v);" COMPAT_SERIES(
                            1, 600) "INSERT INTO w SELECT printf('key%04d', value % 150), value,"
                                    " det_blob(value % 700, value) FROM series");
    } else { /* wal */
        sh->wal = 1;
        compat_exec(db, "PRAGMA page_size=1024");
        compat_wal_mode(db);
        compat_exec(
            db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
                "CREATE INDEX t_v ON t(v);" COMPAT_SERIES(
                    1, 300) "INSERT INTO t SELECT value, det_blob(value % 900, value) FROM series;"
                            "PRAGMA wal_checkpoint(TRUNCATE);"
                            "UPDATE t SET v = zeroblob(50) WHERE id % 4 = 0;"
                            "DELETE FROM t WHERE id % 5 = 0;"
                            "INSERT INTO t(v) VALUES(det_blob(3000, 8))");
    }
    if (sh->wal)
        compat_sqlite_close_keep_wal(db);
    else
        compat_sqlite_close(db);
    char *ic = compat_integrity(sh->path);
    cr_assert(strcmp(ic, "ok") == 0, "pristine %s is not ok: %s", name, ic);
    free(ic);
    analyse(sh);
}

/* ---- Mutations ---------------------------------------------------------------- */

typedef struct mut {
    uint8_t *b; /* the database file image */
    size_t len;
    uint8_t *wal; /* the -wal image (wal shape), else NULL */
    size_t wal_len;
    char desc[600];
    size_t dlen;
    /* Applied with libsqlite3 after the bytes are written. */
    char schema_sql[300];
} mut;

static void note(mut *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(mut *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->desc + m->dlen, sizeof m->desc - m->dlen, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->dlen += (size_t)n < sizeof m->desc - m->dlen ? (size_t)n : sizeof m->desc - m->dlen - 1;
}

static uint32_t pick_from(uint64_t *rng, const uint32_t *arr, uint32_t n)
{
    return n ? arr[compat_below(rng, n)] : 0;
}

/* A page number that makes trouble: 1, itself, 0, past the end, a root, an
 * interior page, or one of the tree's own ancestors (a cycle). */
static uint32_t bad_pgno(const shape *sh, uint64_t *rng, uint32_t self)
{
    switch (compat_below(rng, 7)) {
    case 0:
        return 1;
    case 1:
        return self;
    case 2:
        return 0;
    case 3:
        return sh->npages + 1 + (uint32_t)compat_below(rng, 1000);
    case 4:
        return pick_from(rng, sh->roots, sh->nroots);
    case 5:
        return pick_from(rng, sh->interior, sh->ninterior)
                   ? pick_from(rng, sh->interior, sh->ninterior)
                   : 1;
    default:
        return 0xffffffffu - (uint32_t)compat_below(rng, 3);
    }
}

static size_t page_off(const shape *sh, uint32_t pgno)
{
    return (size_t)(pgno - 1) * sh->page_size;
}

static size_t hdr_off(const shape *sh, uint32_t pgno)
{
    return page_off(sh, pgno) + (pgno == 1 ? 100 : 0);
}

static int in_file(const mut *m, size_t off, size_t n)
{
    return off + n <= m->len;
}

static void mut_random_bytes(mut *m, uint64_t *rng)
{
    int n = 1 + (int)compat_below(rng, 8);
    note(m, "random bytes:");
    for (int i = 0; i < n && m->len; i++) {
        size_t off = (size_t)compat_below(rng, m->len);
        m->b[off] = (uint8_t)compat_rand(rng);
        note(m, " @%zu=%02x", off, m->b[off]);
    }
}

static void mut_bit_flips(mut *m, uint64_t *rng)
{
    int n = 1 + (int)compat_below(rng, 3);
    note(m, "bit flips:");
    for (int i = 0; i < n && m->len; i++) {
        size_t off = (size_t)compat_below(rng, m->len);
        int bit = (int)compat_below(rng, 8);
        m->b[off] ^= (uint8_t)(1u << bit);
        note(m, " @%zu bit %d", off, bit);
    }
}

static void mut_page_header(mut *m, const shape *sh, uint64_t *rng)
{
    uint32_t pg = pick_from(rng, sh->btree, sh->nbtree);
    size_t h = hdr_off(sh, pg);
    if (!pg || !in_file(m, h, 12))
        return;
    uint32_t v;
    switch (compat_below(rng, 6)) {
    case 0: {
        static const uint8_t types[] = {0, 1, 2, 5, 10, 13, 0xff};
        m->b[h] = types[compat_below(rng, sizeof types)];
        note(m, "page %u type := %u", pg, m->b[h]);
        break;
    }
    case 1:
        v = compat_below(rng, 2) ? (uint32_t)compat_below(rng, 65536) : sh->page_size - 1;
        put16(m->b + h + 1, v);
        note(m, "page %u first freeblock := %u", pg, v);
        break;
    case 2: {
        uint32_t n = get16(m->b + h + 3);
        static const int32_t delta[] = {1, -1, 5, 1000, 65535};
        v = (uint32_t)((int32_t)n + delta[compat_below(rng, 5)]) & 0xffff;
        if (compat_below(rng, 4) == 0)
            v = 0;
        put16(m->b + h + 3, v);
        note(m, "page %u cell count %u := %u", pg, n, v);
        break;
    }
    case 3:
        v = (uint32_t)compat_below(rng, 65536);
        put16(m->b + h + 5, v);
        note(m, "page %u cell content start := %u", pg, v);
        break;
    case 4:
        m->b[h + 7] = (uint8_t)compat_rand(rng);
        note(m, "page %u fragmented bytes := %u", pg, m->b[h + 7]);
        break;
    default:
        if (m->b[h] == 2 || m->b[h] == 5) {
            v = bad_pgno(sh, rng, pg);
            put32(m->b + h + 8, v);
            note(m, "page %u right child := %u", pg, v);
        } else {
            m->b[h] ^= 0x08; /* leaf <-> interior */
            note(m, "page %u leaf/interior flag flipped", pg);
        }
        break;
    }
}

/* Offset of cell i of page pg, or 0. */
static size_t cell_ptr_off(const mut *m, const shape *sh, uint32_t pg, uint32_t i)
{
    size_t h = hdr_off(sh, pg);
    if (!in_file(m, h, 12))
        return 0;
    int interior = m->b[h] == 2 || m->b[h] == 5;
    size_t p = h + (interior ? 12 : 8) + 2 * (size_t)i;
    return in_file(m, p, 2) ? p : 0;
}

static void mut_cell_pointer(mut *m, const shape *sh, uint64_t *rng)
{
    uint32_t pg = pick_from(rng, sh->btree, sh->nbtree);
    size_t h = hdr_off(sh, pg);
    if (!pg || !in_file(m, h, 12))
        return;
    uint32_t n = get16(m->b + h + 3);
    if (!n)
        return;
    uint32_t i = (uint32_t)compat_below(rng, n);
    size_t p = cell_ptr_off(m, sh, pg, i);
    if (!p)
        return;
    uint32_t v;
    switch (compat_below(rng, 5)) {
    case 0:
        v = (uint32_t)compat_below(rng, 65536);
        break;
    case 1:
        v = 0;
        break;
    case 2:
        v = sh->page_size - 1 - (uint32_t)compat_below(rng, 3);
        break;
    case 3: /* the same cell twice */
        v = get16(m->b + cell_ptr_off(m, sh, pg, (uint32_t)compat_below(rng, n)));
        break;
    default: /* into the page header */
        v = (uint32_t)(h - page_off(sh, pg)) + (uint32_t)compat_below(rng, 8);
        break;
    }
    note(m, "page %u cell %u pointer %u := %u", pg, i, get16(m->b + p), v);
    put16(m->b + p, v);
}

static void mut_child_pointer(mut *m, const shape *sh, uint64_t *rng)
{
    uint32_t pg = pick_from(rng, sh->interior, sh->ninterior);
    size_t h = hdr_off(sh, pg);
    if (!pg || !in_file(m, h, 12))
        return;
    uint32_t n = get16(m->b + h + 3);
    uint32_t v = bad_pgno(sh, rng, pg);
    if (n == 0 || compat_below(rng, 3) == 0) {
        put32(m->b + h + 8, v);
        note(m, "page %u right child := %u", pg, v);
        return;
    }
    uint32_t i = (uint32_t)compat_below(rng, n);
    size_t p = cell_ptr_off(m, sh, pg, i);
    size_t cell = p ? page_off(sh, pg) + get16(m->b + p) : 0;
    if (!p || !in_file(m, cell, 4))
        return;
    note(m, "page %u cell %u child %u := %u", pg, i, get32(m->b + cell), v);
    put32(m->b + cell, v);
}

/* Location of the overflow page number of cell i of page pg, or 0. */
static size_t overflow_ptr_off(const mut *m, const shape *sh, uint32_t pg, uint32_t i)
{
    size_t h = hdr_off(sh, pg);
    if (!in_file(m, h, 12))
        return 0;
    uint8_t type = m->b[h];
    if (type != 2 && type != 10 && type != 13)
        return 0;
    size_t p = cell_ptr_off(m, sh, pg, i);
    if (!p)
        return 0;
    size_t c = page_off(sh, pg) + get16(m->b + p);
    if (type == 2)
        c += 4;
    if (!in_file(m, c, 18))
        return 0;
    uint64_t payload, rowid;
    size_t k = (size_t)get_varint(m->b + c, 9, &payload);
    if (type == 13)
        k += (size_t)get_varint(m->b + c + k, 9, &rowid);
    uint64_t u = sh->usable;
    uint64_t x = type == 13 ? u - 35 : (u - 12) * 64 / 255 - 23;
    uint64_t mn = (u - 12) * 32 / 255 - 23;
    if (payload <= x)
        return 0;
    uint64_t kk = mn + (payload - mn) % (u - 4);
    uint64_t local = kk <= x ? kk : mn;
    size_t off = c + k + (size_t)local;
    return in_file(m, off, 4) ? off : 0;
}

static void mut_overflow_pointer(mut *m, const shape *sh, uint64_t *rng)
{
    /* Either a cell's first overflow page, or an overflow page's next. */
    if (sh->noverflow && compat_below(rng, 2)) {
        uint32_t ov = pick_from(rng, sh->overflow, sh->noverflow);
        size_t off = page_off(sh, ov);
        if (!in_file(m, off, 4))
            return;
        uint32_t v = compat_below(rng, 2) ? ov : bad_pgno(sh, rng, ov);
        if (compat_below(rng, 3) == 0)
            v = pick_from(rng, sh->overflow, sh->noverflow);
        note(m, "overflow page %u next %u := %u", ov, get32(m->b + off), v);
        put32(m->b + off, v);
        return;
    }
    for (int tries = 0; tries < 50; tries++) {
        uint32_t pg = pick_from(rng, sh->btree, sh->nbtree);
        size_t h = hdr_off(sh, pg);
        if (!pg || !in_file(m, h, 12))
            continue;
        uint32_t n = get16(m->b + h + 3);
        for (uint32_t i = 0; i < n; i++) {
            size_t off = overflow_ptr_off(m, sh, pg, i);
            if (!off)
                continue;
            uint32_t v = compat_below(rng, 3) == 0 ? pick_from(rng, sh->overflow, sh->noverflow)
                                                   : bad_pgno(sh, rng, pg);
            note(m, "page %u cell %u first overflow %u := %u", pg, i, get32(m->b + off), v);
            put32(m->b + off, v);
            return;
        }
    }
    mut_random_bytes(m, rng);
}

static void mut_record_header(mut *m, const shape *sh, uint64_t *rng)
{
    for (int tries = 0; tries < 50; tries++) {
        uint32_t pg = pick_from(rng, sh->btree, sh->nbtree);
        size_t h = hdr_off(sh, pg);
        if (!pg || !in_file(m, h, 12) || (m->b[h] != 13 && m->b[h] != 10))
            continue;
        uint32_t n = get16(m->b + h + 3);
        if (!n)
            continue;
        uint32_t i = (uint32_t)compat_below(rng, n);
        size_t p = cell_ptr_off(m, sh, pg, i);
        size_t c = p ? page_off(sh, pg) + get16(m->b + p) : 0;
        if (!p || !in_file(m, c, 24))
            continue;
        uint64_t payload, rowid, hsize;
        size_t k = (size_t)get_varint(m->b + c, 9, &payload);
        if (m->b[h] == 13)
            k += (size_t)get_varint(m->b + c + k, 9, &rowid);
        size_t hk = (size_t)get_varint(m->b + c + k, 9, &hsize);
        size_t at = c + k + (compat_below(rng, 4) == 0 ? 0 : hk + (size_t)compat_below(rng, 3));
        if (!in_file(m, at, 1))
            continue;
        static const uint8_t vals[] = {10, 11, 0x7f, 0xff, 0x81, 12, 13, 0, 7};
        uint8_t v = vals[compat_below(rng, sizeof vals)];
        note(m, "page %u cell %u record byte @%zu %02x := %02x", pg, i, at, m->b[at], v);
        m->b[at] = v;
        return;
    }
    mut_random_bytes(m, rng);
}

static void mut_freelist(mut *m, const shape *sh, uint64_t *rng)
{
    uint32_t trunk = get32(m->b + 32);
    unsigned kind = (unsigned)compat_below(rng, 5);
    if (trunk == 0 || trunk > sh->npages)
        kind = 0;
    uint32_t v;
    switch (kind) {
    case 0:
        v = bad_pgno(sh, rng, trunk);
        put32(m->b + 32, v);
        note(m, "header freelist trunk %u := %u", trunk, v);
        break;
    case 1: {
        v = compat_below(rng, 2) ? trunk : bad_pgno(sh, rng, trunk);
        size_t off = page_off(sh, trunk);
        if (!in_file(m, off, 8))
            return;
        put32(m->b + off, v);
        note(m, "trunk %u next := %u", trunk, v);
        break;
    }
    case 2: {
        size_t off = page_off(sh, trunk);
        if (!in_file(m, off, 8))
            return;
        static const uint32_t counts[] = {0, 1, 0xffff, 0xffffffffu, 200, 1000};
        v = counts[compat_below(rng, 6)];
        note(m, "trunk %u leaf count %u := %u", trunk, get32(m->b + off + 4), v);
        put32(m->b + off + 4, v);
        break;
    }
    case 3: {
        size_t off = page_off(sh, trunk);
        if (!in_file(m, off, 8))
            return;
        uint32_t n = get32(m->b + off + 4);
        if (n == 0 || n > sh->page_size / 4 - 2)
            return;
        uint32_t i = (uint32_t)compat_below(rng, n);
        if (!in_file(m, off + 8 + 4 * i, 4))
            return;
        v = bad_pgno(sh, rng, trunk);
        note(m, "trunk %u leaf %u := %u", trunk, i, v);
        put32(m->b + off + 8 + 4 * i, v);
        break;
    }
    default: {
        uint32_t n = get32(m->b + 36);
        static const int32_t delta[] = {1, -1, 100, -1000};
        v = (uint32_t)((int32_t)n + delta[compat_below(rng, 4)]);
        put32(m->b + 36, v);
        note(m, "header freelist count %u := %u", n, v);
        break;
    }
    }
}

static void mut_header_field(mut *m, const shape *sh, uint64_t *rng)
{
    uint32_t v;
    switch (compat_below(rng, 8)) {
    case 0: {
        static const uint32_t sizes[] = {512, 1024, 2048, 4096, 1, 0, 1000, 0xffff, 256};
        v = sizes[compat_below(rng, sizeof sizes / sizeof sizes[0])];
        put16(m->b + 16, v);
        note(m, "header page size %u := %u", sh->page_size, v);
        break;
    }
    case 1: {
        static const int32_t delta[] = {1, -1, 10, -5, 100000};
        uint32_t n = get32(m->b + 28);
        v = (uint32_t)((int32_t)n + delta[compat_below(rng, 5)]);
        if (compat_below(rng, 5) == 0)
            v = 0;
        put32(m->b + 28, v);
        note(m, "header page count %u := %u", n, v);
        break;
    }
    case 2:
        v = (uint32_t)compat_below(rng, 7);
        put32(m->b + 44, v);
        note(m, "header schema format := %u", v);
        break;
    case 3:
        v = (uint32_t)compat_below(rng, 5);
        put32(m->b + 56, v);
        note(m, "header text encoding := %u", v);
        break;
    case 4:
        m->b[20] = (uint8_t)compat_rand(rng);
        note(m, "header reserved bytes := %u", m->b[20]);
        break;
    case 5:
        m->b[18 + compat_below(rng, 2)] = (uint8_t)compat_below(rng, 4);
        note(m, "header file format versions := %u/%u", m->b[18], m->b[19]);
        break;
    case 6:
        put32(m->b + 52, (uint32_t)compat_below(rng, 3) ? 0 : 5);
        note(m, "header largest root page (auto-vacuum) := %u", get32(m->b + 52));
        break;
    default: /* the change counter no longer matches version-valid-for */
        put32(m->b + 24, get32(m->b + 24) + 1);
        put32(m->b + 28, get32(m->b + 28) + (uint32_t)compat_below(rng, 3));
        note(m, "header change counter bumped, page count %u", get32(m->b + 28));
        break;
    }
}

static void mut_truncate(mut *m, const shape *sh, uint64_t *rng)
{
    size_t old = m->len;
    switch (compat_below(rng, 5)) {
    case 0:
        m->len = (size_t)compat_below(rng, m->len);
        break;
    case 1:
        m->len = (size_t)(compat_below(rng, sh->npages) * sh->page_size);
        break;
    case 2:
        m->len = m->len > 1 ? m->len - 1 : 0;
        break;
    case 3:
        m->len = 100;
        break;
    default:
        m->len = sh->page_size;
        break;
    }
    note(m, "truncated %zu -> %zu bytes", old, m->len);
}

static void mut_schema(mut *m, const shape *sh, uint64_t *rng)
{
    if (!sh->ntables)
        return;
    const char *t = sh->tables[compat_below(rng, (uint64_t)sh->ntables)];
    switch (compat_below(rng, 4)) {
    case 0: {
        uint32_t v = bad_pgno(sh, rng, 2);
        snprintf(m->schema_sql, sizeof m->schema_sql,
                 "UPDATE sqlite_schema SET rootpage = %u WHERE name = '%s'", v, t);
        break;
    }
    case 1: /* two trees sharing a root */
        snprintf(m->schema_sql, sizeof m->schema_sql,
                 "UPDATE sqlite_schema SET rootpage = (SELECT max(rootpage) FROM sqlite_schema)"
                 " WHERE name = '%s'",
                 t);
        break;
    case 2:
        snprintf(m->schema_sql, sizeof m->schema_sql,
                 "UPDATE sqlite_schema SET sql = 'CREATE TABLE %s(' WHERE name = '%s'", t, t);
        break;
    default: /* an index over other columns than its entries hold */
        snprintf(m->schema_sql, sizeof m->schema_sql,
                 "UPDATE sqlite_schema SET sql = replace(sql, '(', '(rowid, ') WHERE"
                 " type = 'index' AND sql IS NOT NULL AND rowid = (SELECT max(rowid) FROM"
                 " sqlite_schema WHERE type = 'index' AND sql IS NOT NULL)");
        break;
    }
    note(m, "schema: %s", m->schema_sql);
}

static void mut_wal(mut *m, const shape *sh, uint64_t *rng)
{
    if (!m->wal || m->wal_len < 32 + 24) {
        mut_random_bytes(m, rng);
        return;
    }
    size_t frame = 24 + sh->page_size;
    size_t nframes = (m->wal_len - 32) / frame;
    switch (compat_below(rng, 4)) {
    case 0: {
        size_t off = 32 + (size_t)compat_below(rng, m->wal_len - 32);
        m->wal[off] = (uint8_t)compat_rand(rng);
        note(m, "wal byte @%zu := %02x", off, m->wal[off]);
        break;
    }
    case 1: {
        size_t f = nframes ? (size_t)compat_below(rng, nframes) : 0;
        uint32_t v = bad_pgno(sh, rng, 1);
        put32(m->wal + 32 + f * frame, v);
        note(m, "wal frame %zu page number := %u", f, v);
        break;
    }
    case 2: {
        size_t f = nframes ? (size_t)compat_below(rng, nframes) : 0;
        uint32_t v = (uint32_t)compat_below(rng, 3) ? sh->npages + 1000 : 1;
        put32(m->wal + 32 + f * frame + 4, v);
        note(m, "wal frame %zu commit size := %u", f, v);
        break;
    }
    default:
        m->wal_len = 32 + (size_t)compat_below(rng, m->wal_len - 32);
        note(m, "wal truncated to %zu bytes", m->wal_len);
        break;
    }
}

static void mutate(mut *m, const shape *sh, uint64_t *rng)
{
    int rounds = compat_below(rng, 5) == 0 ? 2 : 1;
    for (int r = 0; r < rounds; r++) {
        if (r)
            note(m, "; ");
        unsigned kind = (unsigned)compat_below(rng, sh->wal ? 13 : 12);
        switch (kind) {
        case 0:
            mut_random_bytes(m, rng);
            break;
        case 1:
            mut_bit_flips(m, rng);
            break;
        case 2:
        case 3:
            mut_page_header(m, sh, rng);
            break;
        case 4:
            mut_cell_pointer(m, sh, rng);
            break;
        case 5:
            mut_child_pointer(m, sh, rng);
            break;
        case 6:
            mut_overflow_pointer(m, sh, rng);
            break;
        case 7:
            mut_record_header(m, sh, rng);
            break;
        case 8:
            mut_freelist(m, sh, rng);
            break;
        case 9:
            mut_header_field(m, sh, rng);
            break;
        case 10:
            if (compat_below(rng, 2))
                mut_truncate(m, sh, rng);
            else
                mut_schema(m, sh, rng);
            break;
        default:
            mut_wal(m, sh, rng);
            break;
        }
    }
    if (m->dlen == 0)
        note(m, "(no change)");
}

/* ---- Reading a mutated file with folio ------------------------------------------ */

typedef struct verdict {
    int opened;
    int check_rc; /* folio_check's code, or the open/begin error */
    int quick_rc; /* folio_check_ex's at FOLIO_CHECK_QUICK (-1000: not run) */
    int walk_corrupt;
    char problem[400]; /* a rule folio broke, "" if none */
    char first_msg[200];
} verdict;

static void problem(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(verdict *v, const char *fmt, ...)
{
    if (v->problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->problem, sizeof v->problem, fmt, ap);
    va_end(ap);
}

/* Check one returned code: defined, and a CORRUPT message names a page. */
static int judge(verdict *v, folio_db *db, int rc, const char *call, const int *allowed, int n)
{
    if (!compat_rc_defined(rc)) {
        problem(v, "%s returned an undefined code %d", call, rc);
        return rc;
    }
    if (rc < 0) {
        const char *msg = db ? folio_errmsg(db) : folio_open_errmsg();
        if (!msg || !*msg)
            problem(v, "%s = %s without a message", call, compat_rc_name(rc));
        else if (rc == FOLIO_CORRUPT && !compat_names_page(msg))
            problem(v, "%s = FOLIO_CORRUPT, message names no page: %s", call, msg);
        if (rc == FOLIO_CORRUPT)
            v->walk_corrupt = 1;
        if (rc == FOLIO_MISUSE)
            problem(v, "%s = FOLIO_MISUSE on a damaged file: %s", call, msg ? msg : "");
        return rc;
    }
    for (int i = 0; i < n; i++)
        if (rc == allowed[i])
            return rc;
    problem(v, "%s returned %s", call, compat_rc_name(rc));
    return rc;
}

static int count_msg(void *arg, const char *msg)
{
    verdict *v = arg;
    if (!msg)
        problem(v, "folio_check passed a NULL message");
    else if (!v->first_msg[0])
        snprintf(v->first_msg, sizeof v->first_msg, "%s", msg);
    return 0;
}

static const int OK_ONLY[] = {FOLIO_OK};
static const int ROW_DONE[] = {FOLIO_ROW, FOLIO_DONE};

/* Walk one cursor both ways reading every column; at most `bound` steps. */
static void walk(verdict *v, folio_db *db, folio_cursor *c, int ncols, uint64_t bound)
{
    for (int dir = 0; dir < 2; dir++) {
        int rc = judge(v, db, dir ? folio_cursor_last(c) : folio_cursor_first(c),
                       dir ? "folio_cursor_last" : "folio_cursor_first", ROW_DONE, 2);
        uint64_t steps = 0;
        while (rc == FOLIO_ROW) {
            if (++steps > bound) {
                problem(v,
                        "a cursor walked %" PRIu64 " entries in a %" PRIu64 "-byte file: a cycle?",
                        steps, bound);
                return;
            }
            (void)folio_cursor_rowid(c);
            for (int col = 0; col < ncols; col++) {
                folio_value val;
                int crc = judge(v, db, folio_cursor_column(&val, c, col), "folio_cursor_column",
                                OK_ONLY, 1);
                if (crc == FOLIO_OK && (val.type == FOLIO_TEXT || val.type == FOLIO_BLOB) &&
                    val.u.s.n) {
                    /* Touch the bytes: ASan reports them if they are not ours. */
                    volatile uint8_t sink = ((const uint8_t *)val.u.s.p)[0];
                    sink = ((const uint8_t *)val.u.s.p)[val.u.s.n - 1];
                    (void)sink;
                }
            }
            rc = judge(v, db, dir ? folio_cursor_prev(c) : folio_cursor_next(c),
                       dir ? "folio_cursor_prev" : "folio_cursor_next", ROW_DONE, 2);
        }
    }
}

static void read_with_folio(verdict *v, const char *path, unsigned mode, size_t file_len)
{
    memset(v, 0, sizeof *v);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = mode == COMPAT_RO ? FOLIO_OPEN_READONLY : 0;
    o.mmap_bytes = compat_mmap_option();
    folio_db *db = NULL;
    int rc = judge(v, NULL, folio_open(&db, path, &o), "folio_open", OK_ONLY, 1);
    v->check_rc = v->quick_rc = rc;
    if (rc != FOLIO_OK) {
        if (db)
            problem(v, "folio_open failed and left a handle");
        return;
    }
    v->opened = 1;
    folio_txn *txn = NULL;
    rc = judge(v, db, folio_begin(&txn, db, FOLIO_TXN_READ), "folio_begin", OK_ONLY, 1);
    if (rc != FOLIO_OK) {
        v->check_rc = v->quick_rc = rc;
        judge(v, NULL, folio_close(db), "folio_close", OK_ONLY, 1);
        return;
    }
    uint64_t bound = (uint64_t)file_len + 1000;
    int n = folio_schema_count(txn);
    if (n < 0)
        judge(v, db, n, "folio_schema_count", OK_ONLY, 1);
    for (int i = 0; i < n && i < 1000; i++) {
        folio_schema_entry e;
        if (judge(v, db, folio_schema_get(&e, txn, i), "folio_schema_get", OK_ONLY, 1) != 0)
            continue;
        if (!e.type || !e.tbl_name || e.rootpage == 0)
            continue;
        int is_index = strcmp(e.type, "index") == 0;
        if (!is_index && strcmp(e.type, "table") != 0)
            continue;
        folio_table *t = NULL;
        rc = folio_table_open(&t, txn, e.tbl_name);
        if (rc == FOLIO_UNSUPPORTED || rc == FOLIO_NOTFOUND_ERR)
            continue; /* a table folio cannot describe (garbled schema) */
        if (judge(v, db, rc, "folio_table_open", OK_ONLY, 1) != FOLIO_OK)
            continue;
        folio_cursor *c = NULL;
        rc = folio_cursor_open(&c, t, is_index ? e.name : NULL);
        if (rc == FOLIO_UNSUPPORTED || rc == FOLIO_NOTFOUND_ERR)
            continue;
        if (judge(v, db, rc, "folio_cursor_open", OK_ONLY, 1) != FOLIO_OK)
            continue;
        walk(v, db, c, folio_table_ncols(t), bound);
        folio_cursor_close(c);
    }
    /* The quick check first (its messages counted as the full one's). */
    char first[200];
    memcpy(first, v->first_msg, sizeof first);
    v->quick_rc = folio_check_ex(txn, FOLIO_CHECK_QUICK, count_msg, v, 0);
    if (v->quick_rc != FOLIO_CORRUPT || !v->first_msg[0])
        judge(v, db, v->quick_rc, "folio_check_ex quick", OK_ONLY, 1);
    memcpy(v->first_msg, first, sizeof first);
    rc = folio_check(txn, count_msg, v, 0);
    v->check_rc = rc;
    if (v->quick_rc == FOLIO_CORRUPT && rc == FOLIO_OK)
        problem(v, "the quick check found problems the full check did not");
    if (rc == FOLIO_CORRUPT && v->first_msg[0]) {
        /* The problems went to the callback, each naming its page or
         * object; the return code only sums them up. */
        v->walk_corrupt = 0;
    } else {
        judge(v, db, rc, "folio_check", OK_ONLY, 1);
    }
    if (rc == FOLIO_OK && v->walk_corrupt)
        problem(v, "a cursor met FOLIO_CORRUPT but folio_check returned FOLIO_OK");
    if (rc == FOLIO_OK && v->first_msg[0])
        problem(v, "folio_check returned FOLIO_OK after reporting: %s", v->first_msg);
    judge(v, db, folio_commit(txn), "folio_commit", OK_ONLY, 1);
    judge(v, NULL, folio_close(db), "folio_close", OK_ONLY, 1);
}

/* ---- The loop ------------------------------------------------------------------- */

static void write_mutated(const shape *sh, const mut *m, const char *path)
{
    char *wal = compat_suffix(path, "-wal");
    char *shm = compat_suffix(path, "-shm");
    unlink(wal);
    unlink(shm); /* libsqlite3 must recover the WAL itself, as folio does */
    compat_write_file(path, m->b, m->len);
    if (sh->wal && m->wal)
        compat_write_file(wal, m->wal, m->wal_len);
    if (m->schema_sql[0]) {
        sqlite3 *db = NULL;
        if (sqlite3_open(path, &db) == SQLITE_OK) {
            sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
            sqlite3_exec(db, "PRAGMA writable_schema=ON", NULL, NULL, NULL);
            sqlite3_exec(db, m->schema_sql, NULL, NULL, NULL);
        }
        sqlite3_close(db);
        unlink(shm);
    }
    free(wal);
    free(shm);
}

static void run_shape(const char *name, uint64_t fallback)
{
    uint64_t seed = compat_seed(fallback);
    install_reporters();
    const char *e = getenv("FOLIO_CORRUPT_ITERS");
    int iters = e && *e ? atoi(e) : DEFAULT_ITERS;
    const char *only = getenv("FOLIO_CORRUPT_ONLY");
    char *dir = compat_tmpdir();
    shape sh;
    memset(&sh, 0, sizeof sh);
    build_shape(&sh, dir, name);
    size_t pristine_wal_len = 0;
    uint8_t *pristine_wal = NULL;
    if (sh.wal) {
        char *w = compat_suffix(sh.path, "-wal");
        pristine_wal = compat_read_file(w, &pristine_wal_len);
        free(w);
    }
    char *path = compat_path(dir, "mutated.sqlite");
    int violations = 0, sqlite_bad = 0, folio_flagged = 0, false_alarms = 0, files = 0;
    for (int it = 0; it < iters; it++) {
        if (only && *only && atoi(only) != it)
            continue;
        uint64_t rng = seed ^ ((uint64_t)(it + 1) * 0xd1b54a32d192ed03ull);
        files++;
        mut m;
        memset(&m, 0, sizeof m);
        m.b = malloc(sh.len);
        cr_assert(m.b != NULL);
        memcpy(m.b, sh.bytes, sh.len);
        m.len = sh.len;
        if (pristine_wal) {
            m.wal = malloc(pristine_wal_len);
            cr_assert(m.wal != NULL);
            memcpy(m.wal, pristine_wal, pristine_wal_len);
            m.wal_len = pristine_wal_len;
        }
        mutate(&m, &sh, &rng);
        write_mutated(&sh, &m, path);
        snprintf(g_current, sizeof g_current,
                 "shape %s, iteration %d (FOLIO_SEED=%" PRIu64 " FOLIO_CORRUPT_ONLY=%d): %s", name,
                 it, seed, it, m.desc);

        unsigned mode = compat_below(&rng, 4) == 0 ? COMPAT_RW : COMPAT_RO;
        verdict v;
        alarm(SECONDS_PER_FILE);
        read_with_folio(&v, path, COMPAT_RO, m.len);
        alarm(0);
        char *ic = compat_integrity(path);
        int sqlite_ok = strcmp(ic, "ok") == 0;
        /* The quick checks: where libsqlite3's finds the file damaged,
         * folio's must not pass it. */
        char *qc = compat_pragma_check(path, "quick_check");
        if (strcmp(qc, "ok") != 0 && v.quick_rc == FOLIO_OK && !v.problem[0])
            problem(&v,
                    "libsqlite3's quick_check finds the file damaged (%.150s), folio's "
                    "quick check returned FOLIO_OK",
                    qc);
        free(qc);
        sqlite_bad += !sqlite_ok;
        folio_flagged += v.check_rc != FOLIO_OK;
        int mismatch = !sqlite_ok && v.check_rc == FOLIO_OK;
        if (sqlite_ok && v.check_rc != FOLIO_OK) {
            /* Not a rule of this test (the file is damaged, just not in a
             * way libsqlite3 checks), but worth a look. */
            false_alarms++;
            fprintf(stderr, "note: %s\n  libsqlite3 reads it as ok; folio: %s%s%s\n", g_current,
                    compat_rc_name(v.check_rc), v.first_msg[0] ? ": " : "", v.first_msg);
        }
        if (mismatch || v.problem[0]) {
            violations++;
            char keep[64];
            snprintf(keep, sizeof keep, "mismatch-%s-%d.sqlite", name, it);
            char *kept = compat_path(dir, keep);
            write_mutated(&sh, &m, kept);
            fprintf(stderr,
                    "VIOLATION %s\n  %s\n  sqlite integrity_check: %.200s\n"
                    "  folio (read-only): %s%s%s\n  file kept: %s\n",
                    g_current,
                    mismatch ? "libsqlite3 finds the file damaged, folio_check returned FOLIO_OK"
                             : v.problem,
                    ic, compat_rc_name(v.check_rc), v.first_msg[0] ? ", first message: " : "",
                    v.first_msg, kept);
            free(kept);
        }
        free(ic);
        if (mode == COMPAT_RW) {
            /* A writable handle on the same damaged file: same rules (except
             * the comparison with libsqlite3, whose verdict stays above). */
            verdict w;
            alarm(SECONDS_PER_FILE);
            read_with_folio(&w, path, COMPAT_RW, m.len);
            alarm(0);
            if (w.problem[0]) {
                violations++;
                fprintf(stderr, "VIOLATION %s\n  folio (read-write): %s\n", g_current, w.problem);
            }
        }
        free(m.b);
        free(m.wal);
    }
    fprintf(stderr,
            "%s: %d files, libsqlite3 found %d damaged, folio_check flagged %d (%d that "
            "libsqlite3 reads as ok), %d violations\n",
            name, files, sqlite_bad, folio_flagged, false_alarms, violations);
    cr_assert(violations == 0, "%d violation(s) in shape %s (seed=%" PRIu64 "); see stderr",
              violations, name, seed);
    free(path);
    free(pristine_wal);
    free_shape(&sh);
    free(sh.path);
    compat_rmtree(dir);
    free(dir);
}

Test(compat_corrupt, overflow_chains, .timeout = 300)
{
    run_shape("overflow", 0xc0220001);
}
Test(compat_corrupt, many_indexes, .timeout = 300)
{
    run_shape("indexes", 0xc0220002);
}
Test(compat_corrupt, freelist, .timeout = 300)
{
    run_shape("freelist", 0xc0220003);
}
Test(compat_corrupt, without_rowid, .timeout = 300)
{
    run_shape("without_rowid", 0xc0220004);
}
Test(compat_corrupt, live_wal, .timeout = 300)
{
    run_shape("wal", 0xc0220005);
}
