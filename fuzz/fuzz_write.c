/*
 * fuzz_write.c - the write path: a random schema, random operations through
 * the public API, then libsqlite3 must find the file sound.
 *
 * The input is read as a stream of bytes (reads past its end give 0):
 *
 *   options  page size 512 << (b & 7); b & 0x08: automatic checkpoints in
 *            the committing thread; cache 64 KiB << ((b >> 4) & 7)
 *   schema   1 + b % 3 tables, each:
 *              width    b < 0xff: 1 + b % 12 columns, else a 16-bit count
 *                       (1..2000)
 *              shape    b & 1 WITHOUT ROWID, b & 2 STRICT, b & 4 a rowid alias
 *                       (INTEGER PRIMARY KEY), b & 8 AUTOINCREMENT on it;
 *                       (b >> 4) & 3 the primary key: none, one column, 1..4
 *                       columns, a 16-bit count of columns
 *              key      its first column; a byte whose bits make key columns
 *                       DESC
 *              columns  a byte each for the first 16 columns: type (& 15),
 *                       collation ((b >> 4) & 3), NOT NULL (& 0x40 when b & 3
 *                       is 0), DEFAULT (& 0x80); later columns vary them
 *              indexes  b < 0xff: b % 4 of them, else 0..100; each: a flags
 *                       byte (& 1 UNIQUE; b >> 1 below 127: 1 + (b >> 1) % 4
 *                       columns, else a 16-bit count up to 2000), its first
 *                       column, a byte of DESC and collation bits
 *   ops      a byte selects each operation (insert, update, upsert, patch,
 *            delete, delete_key, update_key, a cursor walk or seek, commit,
 *            rollback, checkpoint, CREATE/DROP INDEX, DROP TABLE, reopen, a
 *            burst of inserts); its operands follow
 *
 * Calls may fail (bad values, constraints, refusals): what counts is that
 * nothing crashes or trips a sanitizer and that, once folio has closed the
 * file, libsqlite3's PRAGMA integrity_check says "ok" and count(*) of each
 * table is what folio counted. Otherwise the target prints why and aborts.
 * Sizes are bounded so that an input stays cheap (a wide table, many
 * indexes or long values buy fewer operations). Each run works in a fresh
 * directory that it removes. FOLIO_FUZZ_TRACE=1 prints what an input did:
 * its schema, the rows of each table and the calls that worked or failed.
 */
#include <dirent.h>
#include <folio.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TABLES_MAX     3
#define COLS_MAX       2000 /* SQLite's SQLITE_MAX_COLUMN */
#define INDEXES_MAX    100
#define RECENT         16
#define VALUE_BYTES    (1u << 17) /* longest TEXT or BLOB */
#define BYTES_BUDGET   (8u << 20) /* of values, per input */
#define CELLS_BUDGET   200000     /* values written, per input */
#define ROWS_COUNT_MAX 1000000
#define WEIGHT_MAX     4000 /* columns of a table and of its indexes */

/* ---- the input ------------------------------------------------------------ */

typedef struct input {
    const uint8_t *p;
    size_t n, i;
} input;

static unsigned u8(input *in)
{
    return in->i < in->n ? in->p[in->i++] : 0;
}

static unsigned u16(input *in)
{
    unsigned lo = u8(in);
    return lo | u8(in) << 8;
}

static uint64_t u64(input *in)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | u8(in);
    return v;
}

/* ---- SQL text ------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->cap ? vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && b->n + (size_t)n < b->cap) {
            b->n += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (n > 0 ? (size_t)n : 0) + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
}

/* ---- the state of one run ----------------------------------------------------- */

typedef struct findex {
    char name[16];
    int width; /* key columns */
} findex;

typedef struct ftable {
    int live;
    char name[8];
    int ncols, without_rowid;
    int npk, pk[COLS_MAX]; /* WITHOUT ROWID: the key columns in key order */
    uint8_t is_key[COLS_MAX];
    int nidx;
    findex idx[INDEXES_MAX + 8];
    int weight;             /* its columns, its indexes and their columns: the cost of a row */
    int64_t rowids[RECENT]; /* rowids seen lately (rowid tables), a ring */
    int nrowids, next_rowid;
    folio_value *keys[RECENT]; /* keys seen lately (WITHOUT ROWID), owned, a ring */
    int nkeys, next_key;
    int64_t rows; /* counted by folio at the end */
} ftable;

typedef struct fz {
    input in;
    char dir[512], path[600];
    folio_options opts;
    folio_db *db;
    folio_txn *tx;
    ftable t[TABLES_MAX];
    int ntables, heaviest, index_seq;
    folio_value vals[COLS_MAX];
    int cols[COLS_MAX];
    size_t bytes_left;
    long cells_left;
    size_t long_max;  /* longest value for the table at hand */
    size_t copies;    /* how many times a value is stored: the row, each index */
    uint32_t x;       /* cheap values: xorshift state */
    sbuf log;         /* the schema, for the report of a failure */
    long calls[7][2]; /* write calls that failed, succeeded */
    long visited;     /* rows visited by cursors */
} fz;

static fz g_fz; /* large (the column arrays): not on the stack */
static uint8_t g_pattern[VALUE_BYTES];

/* ---- values ------------------------------------------------------------------ */

static const char *const words[] = {"",
                                    "a",
                                    "A",
                                    "a ",
                                    "A  ",
                                    "abc",
                                    "ABC",
                                    "abc ",
                                    "b",
                                    "0",
                                    "1",
                                    "-1",
                                    "12",
                                    " 12",
                                    "12 ",
                                    "1.5",
                                    "1e3",
                                    "-0",
                                    "0x10",
                                    "3.0",
                                    "inf",
                                    "NaN",
                                    "\xc3\xa9",
                                    "\xc3\x89",
                                    "9223372036854775807",
                                    "9223372036854775808",
                                    "-9223372036854775809",
                                    "1e400"};

static const int64_t ints[] = {0,         1,          -1,          127,
                               128,       -129,       32767,       -32768,
                               8388607,   2147483647, -2147483648, 140737488355327,
                               INT64_MAX, INT64_MIN};

static double special_real(unsigned k)
{
    static const double r[] = {0.0, -0.0, 1.5, -2.5, 3.0, 1e300, -1e-310, 1e15, 0.1};
    switch (k % 12) {
    case 9:
        return INFINITY;
    case 10:
        return -INFINITY;
    case 11:
        return NAN; /* stored as NULL, as SQLite does */
    default:
        return r[k % 12];
    }
}

/* A byte string from the input itself (no copy: the input outlives the run). */
static void from_input(fz *f, folio_value *v, folio_type type, size_t n)
{
    input *in = &f->in;
    size_t room = in->n - in->i;
    if (n > room)
        n = room;
    v->type = type;
    v->u.s.p = in->p + in->i;
    v->u.s.n = n;
    in->i += n;
}

static void long_value(fz *f, folio_value *v, folio_type type)
{
    size_t n = (size_t)u16(&f->in) * 3 % f->long_max;
    if (n * f->copies > f->bytes_left)
        n = 0;
    f->bytes_left -= n * f->copies;
    v->type = type;
    v->u.s.p = g_pattern + (VALUE_BYTES - n) / 2;
    v->u.s.n = n;
}

static folio_value gen_value(fz *f)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    unsigned b = u8(&f->in);
    switch (b % 11) {
    case 0:
        v.type = FOLIO_NULL;
        break;
    case 1:
        v.type = FOLIO_INTEGER;
        v.u.i = (int8_t)u8(&f->in); /* small: duplicates and collisions */
        break;
    case 2:
        v.type = FOLIO_INTEGER;
        v.u.i = ints[u8(&f->in) % (sizeof ints / sizeof ints[0])];
        break;
    case 3:
        v.type = FOLIO_INTEGER;
        v.u.i = (int64_t)u64(&f->in);
        break;
    case 4:
        v.type = FOLIO_REAL;
        v.u.r = special_real(u8(&f->in));
        break;
    case 5:
    case 6: {
        const char *w = words[u8(&f->in) % (sizeof words / sizeof words[0])];
        v.type = FOLIO_TEXT;
        v.u.s.p = w;
        v.u.s.n = strlen(w);
        break;
    }
    case 7:
        from_input(f, &v, FOLIO_TEXT, u8(&f->in) % 24);
        break;
    case 8:
        from_input(f, &v, FOLIO_BLOB, u8(&f->in) % 24);
        break;
    case 9:
        long_value(f, &v, FOLIO_TEXT);
        break;
    default:
        long_value(f, &v, FOLIO_BLOB);
        break;
    }
    return v;
}

static uint32_t next_x(fz *f)
{
    f->x ^= f->x << 13;
    f->x ^= f->x >> 17;
    f->x ^= f->x << 5;
    return f->x;
}

/*
 * Values for n columns into f->vals, the first `drawn` of them from the
 * input, the rest from a generator that one byte of the input stirs (so a
 * wide row, or a burst of rows, costs few bytes). Key columns of a WITHOUT
 * ROWID table (all n values when `all_key`) mostly get a value: the key is
 * NOT NULL. Fails when the budget of cells is spent.
 */
static int gen_row(fz *f, const ftable *t, int n, int drawn, int all_key)
{
    if (f->cells_left < n)
        return -1;
    f->cells_left -= n;
    f->x ^= u8(&f->in) * 0x9e3779b9u;
    for (int c = 0; c < n; c++) {
        folio_value *v = &f->vals[c];
        if (c < drawn) {
            *v = gen_value(f);
            continue;
        }
        uint32_t x = next_x(f);
        const char *w = words[(x >> 8) % (sizeof words / sizeof words[0])];
        switch (x % 16) {
        case 0:
            v->type = FOLIO_NULL;
            break;
        case 1:
        case 2:
        case 3:
            v->type = FOLIO_REAL;
            v->u.r = special_real(x >> 4);
            break;
        case 4:
        case 5:
        case 6:
        case 7:
        case 8:
            v->type = x & 0x100 ? FOLIO_TEXT : FOLIO_BLOB;
            v->u.s.p = w;
            v->u.s.n = strlen(w);
            break;
        default:
            v->type = FOLIO_INTEGER;
            v->u.i = (int64_t)(x >> 4) % 2000 - 1000;
            break;
        }
    }
    if (t->without_rowid && (u8(&f->in) & 7) != 0)
        for (int c = 0; c < n; c++)
            if ((all_key || t->is_key[c]) && f->vals[c].type == FOLIO_NULL) {
                f->vals[c].type = FOLIO_INTEGER;
                f->vals[c].u.i = next_x(f) % 1000;
            }
    return 0;
}

/* ---- the schema ------------------------------------------------------------- */

static const char *const loose_types[] = {
    "",      "INTEGER", "INT",     "TEXT",   "BLOB",   "REAL", "NUMERIC", "VARCHAR(10)",
    "FLOAT", "BOOLEAN", "CHARINT", "STRING", "DOUBLE", "CLOB", "ANY",     "FLOATING POINT"};
static const char *const strict_types[] = {"ANY", "INT", "INTEGER", "REAL", "TEXT", "BLOB"};
static const char *const collations[] = {"", " COLLATE NOCASE", " COLLATE RTRIM",
                                         " COLLATE BINARY"};
static const char *const defaults[] = {"0", "'x'", "-1.5", "NULL", "x'00ff'", "'  12 '"};

static int exec(fz *f, const char *sql)
{
    int rc = folio_exec(f->tx, sql);
    if (rc == FOLIO_OK) {
        sb_add(&f->log, "%.300s%s;\n", sql, strlen(sql) > 300 ? "..." : "");
    }
    return rc;
}

static int ensure_txn(fz *f)
{
    if (f->tx)
        return 0;
    return folio_begin(&f->tx, f->db, FOLIO_TXN_WRITE) == FOLIO_OK ? 0 : -1;
}

/* CREATE INDEX on table t from the input; remembers it when made. */
static void make_index(fz *f, ftable *t)
{
    if (t->nidx >= (int)(sizeof t->idx / sizeof t->idx[0]))
        return;
    unsigned flags = u8(&f->in);
    int width = (flags >> 1) < 127 ? 1 + (int)(flags >> 1) % 4 : 1 + (int)(u16(&f->in) % COLS_MAX);
    int first = (int)(u8(&f->in) % (unsigned)t->ncols);
    unsigned decor = u8(&f->in);
    if (t->weight + width > WEIGHT_MAX)
        width = WEIGHT_MAX - t->weight;
    if (width < 1)
        return;
    findex *x = &t->idx[t->nidx];
    snprintf(x->name, sizeof x->name, "i%d", f->index_seq++);
    x->width = width;
    sbuf sql = {0};
    sb_add(&sql, "CREATE %sINDEX %s ON %s(", flags & 1 ? "UNIQUE " : "", x->name, t->name);
    for (int j = 0; j < width; j++) {
        /* Past the table's width the columns repeat, as SQLite allows. */
        sb_add(&sql, "%sc%d%s%s", j ? ", " : "", (first + j) % t->ncols,
               collations[(decor >> (j % 4 * 2)) & 3], (decor >> (j % 8)) & 1 ? " DESC" : "");
    }
    sb_add(&sql, ")");
    if (exec(f, sql.p) == FOLIO_OK) {
        t->nidx++;
        t->weight += width + 16;
        if (t->weight > f->heaviest)
            f->heaviest = t->weight;
    }
    free(sql.p);
}

static void make_table(fz *f, ftable *t, int i)
{
    input *in = &f->in;
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "t%d", i);
    unsigned w = u8(in);
    t->ncols = w < 0xff ? 1 + (int)(w % 12) : 1 + (int)(u16(in) % COLS_MAX);
    unsigned shape = u8(in);
    int strict = (shape & 2) != 0;
    t->without_rowid = shape & 1;
    int alias = !t->without_rowid && (shape & 4);
    int pk_kind = (int)(shape >> 4) & 3;
    if (t->without_rowid && pk_kind == 0)
        pk_kind = 1;
    if (alias)
        pk_kind = 0;
    int first = (int)(u8(in) % (unsigned)t->ncols);
    unsigned desc = u8(in);
    int npk = 0;
    if (pk_kind == 1)
        npk = 1;
    else if (pk_kind == 2)
        npk = 1 + (int)(u8(in) % 4);
    else if (pk_kind == 3)
        npk = (int)(u16(in) % COLS_MAX);
    if (npk > t->ncols)
        npk = t->ncols;
    if (npk == 0 && pk_kind)
        npk = 1;
    unsigned colbyte[16];
    for (int c = 0; c < 16; c++)
        colbyte[c] = c < t->ncols ? u8(in) : 0;

    sbuf sql = {0};
    sb_add(&sql, "CREATE TABLE %s(", t->name);
    for (int c = 0; c < t->ncols; c++) {
        unsigned b = colbyte[c % 16] ^ (unsigned)(c / 16);
        sb_add(&sql, "%sc%d", c ? ", " : "", c);
        if (alias && c == first) {
            sb_add(&sql, " INTEGER PRIMARY KEY%s", shape & 8 ? " AUTOINCREMENT" : "");
            continue;
        }
        const char *type = strict ? strict_types[(b & 15) % 6] : loose_types[b & 15];
        sb_add(&sql, "%s%s%s", *type ? " " : "", type, collations[(b >> 4) & 3]);
        if ((b & 0x40) && (b & 3) == 0)
            sb_add(&sql, " NOT NULL");
        if (b & 0x80)
            sb_add(&sql, " DEFAULT %s", defaults[b % 6]);
    }
    if (npk) {
        sb_add(&sql, ", PRIMARY KEY(");
        for (int k = 0; k < npk; k++) {
            t->pk[k] = (first + k) % t->ncols;
            t->is_key[t->pk[k]] = 1;
            sb_add(&sql, "%sc%d%s", k ? ", " : "", t->pk[k], (desc >> (k % 8)) & 1 ? " DESC" : "");
        }
        sb_add(&sql, ")");
    }
    t->npk = npk;
    sb_add(&sql, ")%s%s", strict ? " STRICT" : "",
           t->without_rowid ? (strict ? ", WITHOUT ROWID" : " WITHOUT ROWID") : "");
    t->live = exec(f, sql.p) == FOLIO_OK;
    free(sql.p);
    if (!t->live)
        return;
    t->weight = t->ncols;
    if (t->weight > f->heaviest)
        f->heaviest = t->weight;
    unsigned nb = u8(in);
    int nidx = nb < 0xff ? (int)(nb % 4) : (int)(u8(in) % (INDEXES_MAX + 1));
    if (t->ncols > 300 && nidx > 2)
        nidx = 2; /* each CREATE parses the whole wide schema again */
    for (int k = 0; k < nidx; k++)
        make_index(f, t);
}

/* ---- remembered rows ----------------------------------------------------------- */

static void key_free(const ftable *t, folio_value *k)
{
    for (int j = 0; k && j < t->npk; j++)
        if (k[j].type == FOLIO_TEXT || k[j].type == FOLIO_BLOB)
            free((void *)k[j].u.s.p);
    free(k);
}

static void keys_free(ftable *t)
{
    for (int k = 0; k < t->nkeys; k++)
        key_free(t, t->keys[k]);
    t->nkeys = 0;
}

static void remember_rowid(ftable *t, int64_t rowid)
{
    t->rowids[t->next_rowid] = rowid;
    t->next_rowid = (t->next_rowid + 1) % RECENT;
    if (t->nrowids < RECENT)
        t->nrowids++;
}

/* Copy the key of the cursor's row (WITHOUT ROWID), to delete or update by
 * it later. */
static void remember_key(ftable *t, folio_cursor *c)
{
    if (t->npk == 0)
        return;
    folio_value *k = calloc((size_t)t->npk, sizeof *k);
    if (!k)
        abort();
    for (int j = 0; j < t->npk; j++) {
        folio_value v;
        if (folio_cursor_column(&v, c, t->pk[j]) != FOLIO_OK) {
            v.type = FOLIO_NULL;
        }
        k[j] = v;
        if (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB) {
            void *p = malloc(v.u.s.n ? v.u.s.n : 1);
            if (!p)
                abort();
            if (v.u.s.n)
                memcpy(p, v.u.s.p, v.u.s.n);
            k[j].u.s.p = p;
        }
    }
    if (t->nkeys == RECENT)
        key_free(t, t->keys[t->next_key]);
    else
        t->nkeys++;
    t->keys[t->next_key] = k;
    t->next_key = (t->next_key + 1) % RECENT;
}

/* ---- operations ------------------------------------------------------------------ */

static ftable *pick_table(fz *f)
{
    unsigned b = u8(&f->in);
    for (int k = 0; k < f->ntables; k++) {
        ftable *t = &f->t[(b + (unsigned)k) % (unsigned)f->ntables];
        if (t->live)
            return t;
    }
    return NULL;
}

static folio_table *open_table(fz *f, ftable *t)
{
    /* Long values in many indexes are dear: shorter ones there. */
    f->copies = 1 + (size_t)t->nidx;
    f->long_max = VALUE_BYTES >> (t->nidx < 5 ? t->nidx : 5);
    folio_table *h = NULL;
    if (ensure_txn(f) < 0 || folio_table_open(&h, f->tx, t->name) != FOLIO_OK)
        return NULL;
    return h;
}

static int64_t pick_rowid(fz *f, const ftable *t)
{
    unsigned b = u8(&f->in);
    if (t->nrowids && (b & 3))
        return t->rowids[(b >> 2) % (unsigned)t->nrowids];
    if (b & 4)
        return ints[(b >> 3) % (sizeof ints / sizeof ints[0])];
    return (int8_t)u8(&f->in);
}

/* A key for delete_key / update_key: one seen lately, or made up. */
static const folio_value *pick_key(fz *f, ftable *t, int *nkey)
{
    unsigned b = u8(&f->in);
    *nkey = t->npk;
    if (t->nkeys && (b & 3))
        return t->keys[(b >> 2) % (unsigned)t->nkeys];
    if (b & 4) /* a wrong count, now and then */
        *nkey = (int)(u8(&f->in) % (unsigned)(t->npk + 2));
    if (gen_row(f, t, t->npk, 16, 1) < 0)
        return NULL;
    return f->vals;
}

static int row_width(fz *f, const ftable *t)
{
    unsigned b = u8(&f->in);
    return (b & 15) == 0 ? (int)(u8(&f->in) % (unsigned)(t->ncols + 1)) : t->ncols;
}

static const char *const op_names[] = {"insert", "update",     "upsert",    "patch",
                                       "delete", "delete_key", "update_key"};

static void op_write(fz *f, unsigned op)
{
    ftable *t = pick_table(f);
    folio_table *h = t ? open_table(f, t) : NULL;
    if (!h)
        return;
    int64_t rowid = 0, r;
    int rc = 1, n, nkey; /* 1: not called (the budget ran out) */
    const folio_value *key;
    switch (op) {
    case 0:
        n = row_width(f, t);
        if (gen_row(f, t, n, 16, 0) == 0)
            rc = folio_insert(&rowid, h, f->vals, n);
        break;
    case 1:
        r = pick_rowid(f, t);
        n = row_width(f, t);
        if (gen_row(f, t, n, 16, 0) == 0)
            rc = folio_update(h, r, f->vals, n);
        break;
    case 2:
        r = pick_rowid(f, t);
        n = row_width(f, t);
        if (gen_row(f, t, n, 16, 0) == 0)
            rc = folio_upsert(&rowid, h, r, f->vals, n);
        break;
    case 3:
        r = pick_rowid(f, t);
        n = 1 + (int)(u8(&f->in) % 4);
        for (int k = 0; k < n; k++)
            f->cols[k] = (int)(u16(&f->in) % (unsigned)t->ncols);
        if (gen_row(f, t, n, 16, 0) == 0)
            rc = folio_patch(h, r, f->cols, f->vals, n);
        break;
    case 4:
        rc = folio_delete(h, pick_rowid(f, t));
        break;
    case 5:
        key = pick_key(f, t, &nkey);
        if (key)
            rc = folio_delete_key(h, key, nkey);
        break;
    default: /* the key is copied: gen_row reuses f->vals for the new values */
        key = pick_key(f, t, &nkey);
        if (!key || t->npk == 0)
            break;
        folio_value *copy = malloc(sizeof *copy * (size_t)(nkey ? nkey : 1));
        if (!copy)
            abort();
        memcpy(copy, key, sizeof *copy * (size_t)nkey);
        n = row_width(f, t);
        if (gen_row(f, t, n, 16, 0) == 0)
            rc = folio_update_key(h, copy, nkey, f->vals, n);
        free(copy);
        break;
    }
    if (rc == FOLIO_OK && (op == 0 || op == 2) && !t->without_rowid)
        remember_rowid(t, rowid);
    if (rc != 1)
        f->calls[op][rc == FOLIO_OK]++;
}

/* Touch every column of the cursor's row; remember its rowid or key. */
static void visit(ftable *t, folio_cursor *c)
{
    for (int k = 0; k < t->ncols; k++) {
        folio_value v;
        if (folio_cursor_column(&v, c, k) == FOLIO_OK &&
            (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB) && v.u.s.n) {
            volatile uint8_t last = ((const uint8_t *)v.u.s.p)[v.u.s.n - 1];
            (void)last;
        }
    }
    if (t->without_rowid)
        remember_key(t, c);
    else
        remember_rowid(t, folio_cursor_rowid(c));
}

static void op_cursor(fz *f)
{
    ftable *t = pick_table(f);
    folio_table *h = t ? open_table(f, t) : NULL;
    if (!h)
        return;
    unsigned which = u8(&f->in) % (unsigned)(t->nidx + 1);
    const findex *x = which ? &t->idx[which - 1] : NULL;
    folio_cursor *c = NULL;
    if (folio_cursor_open(&c, h, x ? x->name : NULL) != FOLIO_OK)
        return;
    unsigned how = u8(&f->in);
    int steps = (int)(u8(&f->in) % 48);
    int rc;
    switch (how % 4) {
    case 0:
        rc = folio_cursor_first(c);
        break;
    case 1:
        rc = folio_cursor_last(c);
        break;
    case 2:
        rc = folio_cursor_seek_rowid(c, pick_rowid(f, t));
        break;
    default: {
        int width = x ? x->width : t->without_rowid ? t->npk : 1;
        int nkey = 1 + (int)(u8(&f->in) % (unsigned)(width + 1));
        if (nkey > COLS_MAX || gen_row(f, t, nkey, 16, x == NULL) < 0) {
            rc = FOLIO_DONE;
            break;
        }
        if (!x && !t->without_rowid)
            f->vals[0].type = FOLIO_INTEGER; /* a rowid */
        rc = folio_cursor_seek(c, f->vals, nkey, (int)(u8(&f->in) % 5));
        break;
    }
    }
    for (int k = 0; rc == FOLIO_ROW && k <= steps; k++) {
        visit(t, c);
        f->visited++;
        rc = how & 4 ? folio_cursor_prev(c) : folio_cursor_next(c);
    }
    folio_cursor_close(c);
}

static void op_ddl(fz *f)
{
    ftable *t = pick_table(f);
    if (!t || ensure_txn(f) < 0)
        return;
    unsigned b = u8(&f->in);
    if (b % 8 < 5) {
        make_index(f, t);
    } else if (b % 8 < 7 && t->nidx) {
        int k = (int)(u8(&f->in) % (unsigned)t->nidx);
        char sql[64];
        snprintf(sql, sizeof sql, "DROP INDEX %s", t->idx[k].name);
        if (exec(f, sql) == FOLIO_OK) {
            t->idx[k] = t->idx[t->nidx - 1];
            t->nidx--;
        }
    } else if (b % 8 == 7 && (b & 0x80)) {
        char sql[64];
        snprintf(sql, sizeof sql, "DROP TABLE %s", t->name);
        if (exec(f, sql) == FOLIO_OK)
            t->live = 0; /* a rollback may bring it back: counted as unknown */
    }
}

static void end_txn(fz *f, int commit)
{
    if (!f->tx)
        return;
    if (commit)
        (void)folio_commit(f->tx);
    else
        (void)folio_rollback(f->tx);
    f->tx = NULL;
}

static int open_db(fz *f)
{
    f->db = NULL;
    return folio_open(&f->db, f->path, &f->opts) == FOLIO_OK ? 0 : -1;
}

/* ---- the end: folio counts, libsqlite3 checks ------------------------------------- */

static void count_rows(fz *f)
{
    folio_txn *tx;
    for (int k = 0; k < f->ntables; k++)
        f->t[k].rows = -1;
    if (folio_begin(&tx, f->db, FOLIO_TXN_READ) != FOLIO_OK)
        return;
    for (int k = 0; k < f->ntables; k++) {
        ftable *t = &f->t[k];
        folio_table *h;
        folio_cursor *c;
        if (!t->live || folio_table_open(&h, tx, t->name) != FOLIO_OK ||
            folio_cursor_open(&c, h, NULL) != FOLIO_OK)
            continue;
        int64_t n = 0;
        int rc;
        for (rc = folio_cursor_first(c); rc == FOLIO_ROW && n < ROWS_COUNT_MAX;
             rc = folio_cursor_next(c))
            n++;
        if (rc == FOLIO_DONE)
            t->rows = n;
        folio_cursor_close(c);
    }
    (void)folio_commit(tx);
}

static void fail(fz *f, const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_write: %s: %s\npage size %u; schema:\n%s", what, detail,
            f->opts.page_size, f->log.p ? f->log.p : "(none)\n");
    abort();
}

static void sqlite_check(fz *f)
{
    sqlite3 *s = NULL;
    if (sqlite3_open_v2(f->path, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail(f, "libsqlite3 cannot open folio's file", s ? sqlite3_errmsg(s) : "no handle");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        fail(f, "libsqlite3 cannot check folio's file", sqlite3_errmsg(s));
    sbuf report = {0};
    int rc, ok = 0, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        ok = rows++ == 0 && line && strcmp(line, "ok") == 0;
        sb_add(&report, "%s\n", line ? line : "(null)");
    }
    if (rc != SQLITE_DONE)
        fail(f, "PRAGMA integrity_check failed", sqlite3_errmsg(s));
    if (!ok || rows != 1)
        fail(f, "PRAGMA integrity_check", report.p);
    sqlite3_finalize(st);
    free(report.p);
    for (int k = 0; k < f->ntables; k++) {
        ftable *t = &f->t[k];
        if (!t->live || t->rows < 0)
            continue;
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t->name);
        if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
            fail(f, "libsqlite3 does not find a table folio made", sqlite3_errmsg(s));
        if (sqlite3_step(st) != SQLITE_ROW)
            fail(f, "libsqlite3 cannot count a table", sqlite3_errmsg(s));
        int64_t n = sqlite3_column_int64(st, 0);
        if (n != t->rows) {
            char msg[160];
            snprintf(msg, sizeof msg, "table %s: folio counted %lld rows, libsqlite3 %lld", t->name,
                     (long long)t->rows, (long long)n);
            fail(f, "row counts differ", msg);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(s);
}

/* FOLIO_FUZZ_TRACE=1: what an input did (to see that seeds reach deep). */
static void trace(const fz *f)
{
    fprintf(stderr, "page size %u\n%s", f->opts.page_size, f->log.p ? f->log.p : "");
    for (int k = 0; k < f->ntables; k++)
        if (f->t[k].live)
            fprintf(stderr, "%s: %d columns, %d indexes, %lld rows\n", f->t[k].name, f->t[k].ncols,
                    f->t[k].nidx, (long long)f->t[k].rows);
    for (int op = 0; op < 7; op++)
        fprintf(stderr, "%s: %ld ok, %ld failed\n", op_names[op], f->calls[op][1], f->calls[op][0]);
    fprintf(stderr, "cursor rows: %ld\n", f->visited);
}

/* Remove the run's directory and whatever folio left in it (the -wal,
 * sorter runs). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ---- the target ------------------------------------------------------------------- */

static void run(fz *f)
{
    input *in = &f->in;
    unsigned o = u8(in);
    f->opts = (folio_options)FOLIO_OPTIONS_INIT;
    f->opts.sync = FOLIO_SYNC_OFF;
    f->opts.page_size = 512u << (o & 7);
    f->opts.cache_bytes = (size_t)65536 << ((o >> 4) & 7);
    f->opts.wal_autocheckpoint = 64;
    if (o & 8)
        f->opts.flags |= FOLIO_OPEN_INLINE_CHECKPOINT;
    if (open_db(f) < 0)
        return;
    if (ensure_txn(f) < 0)
        return;
    f->ntables = 1 + (int)(u8(in) % TABLES_MAX);
    for (int k = 0; k < f->ntables; k++)
        make_table(f, &f->t[k], k);
    end_txn(f, 1);

    /* Wide tables and indexes make every operation dear: fewer of them. */
    int w = f->heaviest;
    int ops = w <= 100 ? 400 : w <= 600 ? 100 : w <= 2500 ? 30 : 15;
    for (int k = 0; k < ops && in->i < in->n && f->db; k++) {
        unsigned op = u8(in) % 20;
        if (op < 12) {
            /* insert, update, upsert, patch, delete, delete_key, update_key */
            static const unsigned write_ops[12] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6};
            op_write(f, write_ops[op]);
        } else if (op < 14) {
            op_cursor(f);
        } else if (op == 14) {
            end_txn(f, 1);
        } else if (op == 15) {
            end_txn(f, 0);
        } else if (op == 16) {
            end_txn(f, 1);
            (void)folio_checkpoint(f->db, (int)(u8(in) % 4), NULL, NULL);
        } else if (op == 17) {
            op_ddl(f);
        } else if (op == 18) {
            end_txn(f, u8(in) & 1);
            (void)folio_close(f->db);
            f->opts.cache_bytes = (size_t)65536 << (u8(in) % 8);
            if (open_db(f) < 0)
                f->db = NULL;
        } else { /* a burst of inserts, to split pages */
            ftable *t = pick_table(f);
            folio_table *h = t ? open_table(f, t) : NULL;
            int n = (int)(u8(in) % 64);
            for (int r = 0; h && r < n; r++) {
                int64_t rowid;
                if (gen_row(f, t, t->ncols, 0, 0) < 0)
                    break;
                if (folio_insert(&rowid, h, f->vals, t->ncols) == FOLIO_OK && !t->without_rowid)
                    remember_rowid(t, rowid);
            }
        }
    }
    if (!f->db)
        return;
    end_txn(f, 1);
    count_rows(f);
    if (folio_close(f->db) != FOLIO_OK)
        fail(f, "folio_close", "failed");
    f->db = NULL;
    sqlite_check(f);
    if (getenv("FOLIO_FUZZ_TRACE"))
        trace(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz *f = &g_fz;
    if (!g_pattern[0])
        for (size_t i = 0; i < VALUE_BYTES; i++)
            g_pattern[i] = (uint8_t)('a' + (i * 7 + i / 26) % 26);
    memset(f->t, 0, sizeof f->t);
    f->in = (input){data, size, 0};
    f->tx = NULL;
    f->db = NULL;
    f->heaviest = 0;
    f->x = 0x2545f491u;
    memset(f->calls, 0, sizeof f->calls);
    f->visited = 0;
    f->index_seq = 0;
    f->bytes_left = BYTES_BUDGET;
    f->long_max = VALUE_BYTES;
    f->copies = 1;
    f->cells_left = CELLS_BUDGET;
    const char *base = getenv("FOLIO_FUZZ_TMP"); /* run_fuzz.sh: a directory of its own */
    snprintf(f->dir, sizeof f->dir, "%s/fuzz-write-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(f->dir))
        abort();
    snprintf(f->path, sizeof f->path, "%s/db", f->dir);
    run(f);
    if (f->tx)
        end_txn(f, 0);
    if (f->db)
        (void)folio_close(f->db);
    for (int k = 0; k < f->ntables; k++)
        keys_free(&f->t[k]);
    /* As many frees as mallocs, or libFuzzer runs the input again to look
     * for a leak. */
    free(f->log.p);
    memset(&f->log, 0, sizeof f->log);
    remove_dir(f->dir);
    return 0;
}
