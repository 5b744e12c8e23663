/*
 * feed.c - the change feed: the commit log read back as row changes and DDL
 * (folio_feed_open, folio_feed_next, folio_feed_close).
 *
 * A COMMIT record names its tables by root page and holds b-tree entries:
 * records, not values. Turning a record into column values needs the
 * table's definition as it was at that point of the history, so the feed
 * keeps a schema of its own that walks with it: the "shadow", a database
 * in a temporary directory that holds the source's schema and no rows.
 * It begins as the schema of a base (the base is restored into the same
 * directory with folio_restore, its sqlite_schema read, and each CREATE
 * statement run in a fresh shadow), and every DDL statement of the log is
 * run on it in its place among the row changes. Rows are decoded against
 * the shadow's catalog as SQLite reads them: the INTEGER PRIMARY KEY column
 * is the rowid, fields a row lacks (written before ADD COLUMN) take their
 * default, REAL columns read integers as reals, VIRTUAL generated columns
 * are computed.
 *
 * Where the feed starts (from_version F: every version from F on): the
 * newest base at or before F - 1 gives the schema, and the records after
 * it up to F - 1 are walked for their DDL only. With no such base (F is 0,
 * or older than every base) the oldest base is fed first as a snapshot:
 * FOLIO_CHANGE_SNAPSHOT, its CREATE statements (tables, indexes, views,
 * triggers; SQLite's own tables left out), its rows as inserts (those of
 * sqlite_sequence last), FOLIO_CHANGE_COMMIT, all with the base's version.
 *
 * A GAP record (versions another engine made, or records lost with the
 * power) or versions missing from the log: the state after them is known
 * only from a base taken after them. The feed starts again from the first
 * such base: silently, when the base is older than F, else as a snapshot
 * (a resync: a replica rebuilds itself from it). With no base after the
 * gap the feed fails with FOLIO_NOTFOUND_ERR naming the versions.
 *
 * What a DDL statement did to rows itself is not fed as row changes when a
 * replica's own DDL does it again: the record says how many bytes of
 * entries before a DDL entry the statement made (commitlog.h); among them
 * the entries of the tables whose definition the statement changed or
 * removed (DROP COLUMN's rewrite, DROP TABLE's deletes) are passed over,
 * and the others (foreign key actions on other tables, sqlite_sequence)
 * are fed before the statement. A record names each root by the table's
 * name at the end of the commit: a table renamed later in the same commit
 * is named by its name at that point (the RENAME TO statements after an
 * entry undone in reverse), and an entry of a table the shadow does not
 * have at that point (dropped, its root page reused) is passed over.
 *
 * A DEL entry followed at once by an INS entry of the same rowid (or
 * primary key) is one UPDATE; an INS that replaced a row is an UPDATE with
 * the old row it carries.
 *
 * The feed never goes past the database's version (folio_version): a
 * record is appended before its commit reaches the WAL, and one whose
 * commit failed or did not happen is cut off the log later.
 */
#include "db/feed_int.h"

#include "base/status.h"
#include "schema/affinity.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- an arena: bytes that keep their address until it is reset ---- */

static void *arena_alloc(fd_block **head, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    fd_block *b = *head;
    if (!b || b->cap - b->n < n) {
        size_t cap = n > 16384 ? n : 16384;
        fd_block *nb = os_malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->n = 0;
        nb->cap = cap;
        *head = b = nb;
    }
    void *p = b->data + b->n;
    b->n += n;
    return p;
}

/* Forget every allocation, keeping the newest block. */
static void arena_reset(fd_block **head)
{
    fd_block *b = *head;
    if (!b)
        return;
    fd_block *o = b->next;
    while (o) {
        fd_block *x = o->next;
        os_free(o);
        o = x;
    }
    b->next = NULL;
    b->n = 0;
}

static void arena_free(fd_block **head)
{
    arena_reset(head);
    os_free(*head);
    *head = NULL;
}

int feed_fail(folio_feed *f, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    f->err_rc = rc;
    return db_err(f->db, rc, "%s", f->err);
}

int feed_nomem(folio_feed *f)
{
    return feed_fail(f, FOLIO_NOMEM, "out of memory");
}

/* A copy of n bytes with a NUL after them (NULL when out of memory). */
char *feed_dup_n(const char *p, size_t n)
{
    char *s = os_malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

char *feed_dup_s(const char *s)
{
    return s ? feed_dup_n(s, strlen(s)) : NULL;
}

void feed_free_strv(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        os_free(v[i]);
    os_free(v);
}

int feed_push_str(char ***v, int *n, const char *s)
{
    char **nv = os_realloc(*v, sizeof *nv * (size_t)(*n + 1));
    if (!nv)
        return FOLIO_NOMEM;
    *v = nv;
    if (!(nv[*n] = feed_dup_s(s)))
        return FOLIO_NOMEM;
    (*n)++;
    return 0;
}

int feed_str_in(char *const *v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (sch_ident_eq(v[i], s))
            return 1;
    return 0;
}

/* ---- values ---- */

static int grow_values(folio_feed *f, int ncols, int npk)
{
    if (ncols > f->vcap) {
        int cap = ncols < 16 ? 16 : ncols;
        folio_value *a = os_realloc(f->nv, sizeof *a * (size_t)cap);
        if (!a)
            return FOLIO_NOMEM;
        f->nv = a;
        folio_value *b = os_realloc(f->ov, sizeof *b * (size_t)cap);
        if (!b)
            return FOLIO_NOMEM;
        f->ov = b;
        f->vcap = cap;
    }
    if (ncols > f->ccap) {
        int cap = ncols < 16 ? 16 : ncols;
        const char **a = os_realloc(f->colnames, sizeof *a * (size_t)cap);
        if (!a)
            return FOLIO_NOMEM;
        f->colnames = a;
        unsigned char *g = os_realloc(f->gen, (size_t)cap);
        if (!g)
            return FOLIO_NOMEM;
        f->gen = g;
        f->ccap = cap;
    }
    if (npk > f->kcap) {
        int cap = npk < 8 ? 8 : npk;
        folio_value *k = os_realloc(f->kv, sizeof *k * (size_t)cap);
        if (!k)
            return FOLIO_NOMEM;
        f->kv = k;
        f->kcap = cap;
    }
    return 0;
}

/* The change's table part: name, columns, key. */
int feed_set_table(folio_feed *f, db_table *tab, const char *name)
{
    const sch_table *d = &tab->def;
    int npk = d->without_rowid ? d->npk : 0;
    if (grow_values(f, d->ncols, npk) < 0)
        return feed_nomem(f);
    for (int i = 0; i < d->ncols; i++) {
        f->colnames[i] = d->cols[i].name;
        f->gen[i] = tab->val_index && tab->val_index[i] < 0;
    }
    char *n = arena_alloc(&f->arena, strlen(name) + 1);
    if (!n)
        return feed_nomem(f);
    memcpy(n, name, strlen(name) + 1);
    f->ch.table = n;
    f->ch.without_rowid = d->without_rowid;
    f->ch.ncols = d->ncols;
    f->ch.colnames = f->colnames;
    f->ch.generated = f->gen;
    f->ch.nkey = npk;
    f->ch.key = npk ? f->kv : NULL;
    return 0;
}

void feed_key_of(folio_feed *f, const db_table *tab, const folio_value *row)
{
    for (int k = 0; k < f->ch.nkey; k++)
        f->kv[k] = row[tab->def.pk[k].col];
}

typedef struct vrow {
    const db_table *tab;
    const folio_value *v;
} vrow;

static int vrow_column(void *arg, int col, ex_value *out)
{
    const vrow *r = arg;
    const folio_value *x = &r->v[col];
    memset(out, 0, sizeof *out);
    out->type = (int)x->type;
    out->subtype = EX_SUBTYPE_NONE;
    if (x->type == FOLIO_INTEGER)
        out->u.i = x->u.i;
    else if (x->type == FOLIO_REAL)
        out->u.r = x->u.r;
    else if (x->type == FOLIO_TEXT || x->type == FOLIO_BLOB) {
        out->u.s.p = x->u.s.p;
        out->u.s.n = x->u.s.n;
    }
    return 0;
}

/* Text or blob bytes into the change's arena. */
static int keep_bytes(folio_feed *f, folio_value *v)
{
    if (v->type != FOLIO_TEXT && v->type != FOLIO_BLOB)
        return 0;
    uint8_t *p = arena_alloc(&f->arena, v->u.s.n + 1);
    if (!p)
        return FOLIO_NOMEM;
    if (v->u.s.n)
        memcpy(p, v->u.s.p, v->u.s.n);
    p[v->u.s.n] = 0;
    v->u.s.p = p;
    return 0;
}

/* The VIRTUAL generated columns of a decoded row, in dependency order. */
static int compute_virtuals(folio_feed *f, const db_table *tab, folio_value *out, int64_t rowid)
{
    if (!f->ecx && ex_ctx_new(&f->ecx) < 0)
        return feed_nomem(f);
    vrow vr = {tab, out};
    ex_row row = {.column = vrow_column, .arg = &vr, .rowid = rowid};
    for (int k = 0; k < tab->ngen; k++) {
        int col = tab->gen_order[k];
        const sch_column *cd = &tab->def.cols[col];
        if (cd->hidden != 2)
            continue;
        if (!tab->gen || !tab->gen[col] || tab->unsupported)
            return feed_fail(f, FOLIO_UNSUPPORTED,
                             "column %s.%s is a virtual generated column folio cannot compute",
                             tab->name, cd->name);
        ex_value v;
        int rc = ex_eval(tab->gen[col], f->ecx, &row, &v);
        if (rc < 0)
            return feed_fail(f, rc, "%s.%s: %s", tab->name, cd->name, ex_ctx_errmsg(f->ecx));
        fmt_value fv;
        memset(&fv, 0, sizeof fv);
        fv.type = v.type;
        if (v.type == EX_REAL)
            fv.u.r = v.u.r;
        else if (v.type == EX_TEXT || v.type == EX_BLOB)
            fv.u.s.p = v.u.s.p, fv.u.s.n = v.u.s.n;
        else
            fv.u.i = v.u.i;
        char num[SCH_NUMBER_TEXT_BYTES];
        if (cd->affinity != SCH_AFF_BLOB)
            sch_apply_affinity(&fv, cd->affinity, num, sizeof num);
        folio_value *o = &out[col];
        memset(o, 0, sizeof *o);
        o->type = (folio_type)fv.type;
        if (fv.type == FMT_REAL)
            o->u.r = fv.u.r;
        else if (fv.type == FMT_TEXT || fv.type == FMT_BLOB)
            o->u.s.p = fv.u.s.p, o->u.s.n = (size_t)fv.u.s.n;
        else
            o->u.i = fv.u.i;
        if (keep_bytes(f, o) < 0)
            return feed_nomem(f);
    }
    return 0;
}

/* Every column of `tab` from record `rec` of row `rowid`, as a cursor
 * reads it. */
static int decode_row(folio_feed *f, const db_table *tab, const uint8_t *rec, uint64_t n,
                      int64_t rowid, folio_value *out)
{
    const sch_table *d = &tab->def;
    int rc = row_decode(&f->rd, rec, n, n);
    if (rc < 0)
        return rc == FOLIO_NOMEM ? feed_nomem(f)
                                 : feed_fail(f, FOLIO_CORRUPT,
                                             "%s at offset %" PRIu64
                                             ": a malformed row of %s in version %" PRIu64,
                                             clog_reader_file(f->r), clog_reader_offset(f->r),
                                             tab->name, f->rec.version);
    int virt = 0;
    for (int c = 0; c < d->ncols; c++) {
        folio_value *o = &out[c];
        memset(o, 0, sizeof *o);
        const sch_column *cd = &d->cols[c];
        if (c == d->ipk) {
            o->type = FOLIO_INTEGER;
            o->u.i = rowid;
            continue;
        }
        int field = tab->col_field[c];
        if (field < 0) {
            o->type = FOLIO_NULL;
            virt = 1;
            continue;
        }
        fmt_value v;
        if ((uint32_t)field >= f->rd.nfields) {
            /* A row older than ALTER TABLE ADD COLUMN. */
            char *buf = arena_alloc(&f->arena, 64);
            if (!buf)
                return feed_nomem(f);
            if (row_default_value(cd, d->strict, &v, buf) < 0)
                return feed_fail(f, FOLIO_UNSUPPORTED,
                                 "default of column %s.%s is an expression folio cannot evaluate",
                                 tab->name, cd->name);
        } else {
            uint64_t st = f->rd.st[field], off = f->rd.off[field];
            if (off > n || fmt_serial_size(st) > n - off ||
                fmt_serial_decode(st, rec + off, &v) < 0)
                return feed_fail(
                    f, FOLIO_CORRUPT,
                    "%s at offset %" PRIu64 ": a malformed row of %s in version %" PRIu64,
                    clog_reader_file(f->r), clog_reader_offset(f->r), tab->name, f->rec.version);
        }
        o->type = (folio_type)v.type;
        if (v.type == FMT_INTEGER)
            o->u.i = v.u.i;
        else if (v.type == FMT_REAL) {
            o->u.r = v.u.r;
            if (v.u.r != v.u.r) /* a NaN reads as NULL */
                o->type = FOLIO_NULL;
        } else if (v.type == FMT_TEXT || v.type == FMT_BLOB) {
            o->u.s.p = v.u.s.p;
            o->u.s.n = (size_t)v.u.s.n;
        }
        if (cd->affinity == SCH_AFF_REAL && o->type == FOLIO_INTEGER) {
            o->type = FOLIO_REAL;
            o->u.r = (double)o->u.i;
        }
    }
    return virt ? compute_virtuals(f, tab, out, rowid) : 0;
}

/* ---- the record being fed ---- */

static void record_free(folio_feed *f)
{
    for (int i = 0; i < f->nddl; i++) {
        fd_ddl *d = &f->ddl[i];
        os_free(d->sql);
        os_free(d->table);
        os_free(d->ren_from);
        os_free(d->ren_to);
        feed_free_strv(d->gone, d->ngone);
    }
    f->nddl = 0;
    if (f->have_c)
        clog_commit_free(&f->c);
    f->have_c = 0;
}

/* The size of the change entry at p (0: the bytes hold none). */
static size_t entry_size(const uint8_t *p, size_t n)
{
    bt_log_entry e;
    if (n < sizeof e)
        return 0;
    memcpy(&e, p, sizeof e);
    if (e.size > n - sizeof e)
        return 0;
    size_t k = sizeof e + (size_t)e.size;
    if (e.op == BT_LOG_INS_ROW && e.had) {
        uint64_t old;
        if (n - k < 8)
            return 0;
        memcpy(&old, p + k, 8);
        if (old > n - k - 8)
            return 0;
        k += 8 + (size_t)old;
    }
    return k;
}

static int bad_record(folio_feed *f)
{
    return feed_fail(f, FOLIO_CORRUPT, "%s at offset %" PRIu64 ": a damaged commit record",
                     clog_reader_file(f->r), clog_reader_offset(f->r));
}

/* Parse the record's DDL statements (the record is in f->c). */
static int record_ddl(folio_feed *f)
{
    const uint8_t *p = f->c.changes;
    size_t n = f->c.changes_n;
    for (size_t o = 0; o < n;) {
        size_t k = entry_size(p + o, n - o);
        if (!k)
            return bad_record(f);
        bt_log_entry e;
        memcpy(&e, p + o, sizeof e);
        if (e.op == CLOG_DDL) {
            if (f->nddl == f->ddl_cap) {
                int cap = f->ddl_cap ? 2 * f->ddl_cap : 8;
                fd_ddl *v = os_realloc(f->ddl, sizeof *v * (size_t)cap);
                if (!v)
                    return feed_nomem(f);
                f->ddl = v;
                f->ddl_cap = cap;
            }
            fd_ddl *d = &f->ddl[f->nddl];
            memset(d, 0, sizeof *d);
            d->off = o;
            d->start = e.rowid > 0 && (uint64_t)e.rowid <= o ? o - (size_t)e.rowid : o;
            if (!(d->sql = feed_dup_n((const char *)p + o + sizeof e, (size_t)e.size)))
                return feed_nomem(f);
            f->nddl++;
            if (feed_ddl_names(f, d) < 0)
                return feed_nomem(f);
        }
        o += k;
    }
    return 0;
}

static int name_room(folio_feed *f, size_t n)
{
    if (f->name_cap >= n)
        return 0;
    char *b = os_realloc(f->name, n);
    if (!b)
        return FOLIO_NOMEM;
    f->name = b;
    f->name_cap = n;
    return 0;
}

/* The name of the table of root `root` at change offset `pos` into f->name
 * (its name at the end of the commit, with the RENAME TO statements after
 * pos undone), and its kind: 1, or 0 when the record does not name it, or
 * FOLIO_NOMEM. */
static int name_at(folio_feed *f, uint32_t root, size_t pos, int *kind)
{
    const clog_name *nm = NULL;
    for (uint32_t i = 0; i < f->c.nnames && !nm; i++)
        if (f->c.names[i].root == root)
            nm = &f->c.names[i];
    if (!nm)
        return 0;
    if (name_room(f, (size_t)nm->len + 1) < 0)
        return FOLIO_NOMEM;
    memcpy(f->name, nm->name, nm->len);
    f->name[nm->len] = 0;
    *kind = nm->kind;
    for (int j = f->nddl - 1; j >= 0; j--) {
        const fd_ddl *d = &f->ddl[j];
        if (d->off > pos && d->ren_to && d->ren_from && sch_ident_eq(f->name, d->ren_to)) {
            size_t l = strlen(d->ren_from);
            if (name_room(f, l + 1) < 0)
                return FOLIO_NOMEM;
            memcpy(f->name, d->ren_from, l + 1);
        }
    }
    return 1;
}

/* The DDL statement whose entries include offset pos, or -1. */
static int ddl_around(const folio_feed *f, size_t pos)
{
    for (int j = 0; j < f->nddl; j++)
        if (f->ddl[j].start <= pos && pos < f->ddl[j].off)
            return j;
    return -1;
}

/* Whether a DDL statement still to run has its entries begin at pos. */
static int ddl_starts_at(const folio_feed *f, size_t pos)
{
    for (int j = 0; j < f->nddl; j++)
        if (!f->ddl[j].done && f->ddl[j].start <= pos)
            return 1;
    return 0;
}

/* The row entry at f->pos: 1 with f->ch set (f->pos moved past what it
 * used), 0 when it is passed over (f->pos moved), or an error. */
static int row_change(folio_feed *f)
{
    const uint8_t *p = f->c.changes;
    size_t n = f->c.changes_n, pos = f->pos;
    size_t k = entry_size(p + pos, n - pos);
    bt_log_entry e;
    memcpy(&e, p + pos, sizeof e);
    f->pos = pos + k;
    if (e.op < BT_LOG_INS_ROW || e.op > BT_LOG_DEL_KEY)
        return 0;
    int kind;
    int rc = name_at(f, e.root, pos, &kind);
    if (rc <= 0)
        return rc < 0 ? feed_nomem(f) : 0;
    const char *name = f->name;
    if (strncmp(name, "sqlite_", 7) == 0 && !sch_ident_eq(name, "sqlite_sequence"))
        return 0;
    int j = ddl_around(f, pos);
    if (j >= 0 && feed_str_in(f->ddl[j].gone, f->ddl[j].ngone, name))
        return 0; /* the statement does it again on a replica */
    db_table *tab = catalog_find_table(f->stx->cat, name);
    if (!tab || !tab->parsed) {
        if (feed_str_in(f->broken, f->nbroken, name))
            return feed_fail(f, FOLIO_UNSUPPORTED,
                             "version %" PRIu64 ": the rows of table %s cannot be decoded (its "
                             "definition is one folio cannot make)",
                             f->rec.version, name);
        return 0; /* dropped, its root page used again */
    }
    int wr = tab->def.without_rowid;
    int rowop = e.op == BT_LOG_INS_ROW || e.op == BT_LOG_DEL_ROW;
    if (wr == rowop || wr != (kind == CLOG_TABLE_WR))
        return 0; /* not this table's entries */
    if ((rc = feed_set_table(f, tab, name)) < 0)
        return rc;
    const uint8_t *rec = p + pos + sizeof e;
    f->ch.rowid = wr ? 0 : e.rowid;
    if (e.op == BT_LOG_INS_ROW && e.had) {
        uint64_t on;
        memcpy(&on, rec + e.size, 8);
        if ((rc = decode_row(f, tab, rec, e.size, e.rowid, f->nv)) < 0 ||
            (rc = decode_row(f, tab, rec + e.size + 8, on, e.rowid, f->ov)) < 0)
            return rc;
        f->ch.op = FOLIO_CHANGE_UPDATE;
        f->ch.values = f->nv;
        f->ch.old = f->ov;
        return 1;
    }
    if (e.op == BT_LOG_INS_ROW || e.op == BT_LOG_INS_KEY) {
        if ((rc = decode_row(f, tab, rec, e.size, e.rowid, f->nv)) < 0)
            return rc;
        feed_key_of(f, tab, f->nv);
        f->ch.op = FOLIO_CHANGE_INSERT;
        f->ch.values = f->nv;
        return 1;
    }
    /* A delete: with the insert of the same row right after it, an update. */
    if ((rc = decode_row(f, tab, rec, e.size, e.rowid, f->ov)) < 0)
        return rc;
    feed_key_of(f, tab, f->ov);
    f->ch.op = FOLIO_CHANGE_DELETE;
    f->ch.old = f->ov;
    size_t q = f->pos;
    if (q < n && !ddl_starts_at(f, q) && ddl_around(f, q) == j) {
        size_t k2 = entry_size(p + q, n - q);
        bt_log_entry e2;
        if (!k2)
            return bad_record(f);
        memcpy(&e2, p + q, sizeof e2);
        const uint8_t *r2 = p + q + sizeof e2;
        int same = 0;
        if (!wr && e2.op == BT_LOG_INS_ROW && !e2.had && e2.root == e.root && e2.rowid == e.rowid)
            same = 1;
        if (wr && e2.op == BT_LOG_INS_KEY && e2.root == e.root) {
            /* The same primary key: the same bytes in its fields. */
            row_decoder a = {0}, b = {0};
            if (row_decode(&a, rec, e.size, e.size) == 0 &&
                row_decode(&b, r2, e2.size, e2.size) == 0 && a.nfields >= (uint32_t)tab->def.npk &&
                b.nfields >= (uint32_t)tab->def.npk) {
                same = 1;
                for (int i = 0; i < tab->def.npk && same; i++) {
                    int fld = tab->col_field[tab->def.pk[i].col];
                    if (fld < 0 || a.st[fld] != b.st[fld]) {
                        same = 0;
                        break;
                    }
                    uint64_t sz = fmt_serial_size(a.st[fld]);
                    same = a.off[fld] + sz <= e.size && b.off[fld] + sz <= e2.size &&
                           memcmp(rec + a.off[fld], r2 + b.off[fld], (size_t)sz) == 0;
                }
            }
            row_decoder_free(&a);
            row_decoder_free(&b);
        }
        if (same) {
            if ((rc = decode_row(f, tab, r2, e2.size, e2.rowid, f->nv)) < 0)
                return rc;
            f->ch.op = FOLIO_CHANGE_UPDATE;
            f->ch.values = f->nv;
            f->pos = q + k2;
        }
    }
    return 1;
}

/* The next change of the record: 1, 0 at its end, or an error. */
static int record_next(folio_feed *f)
{
    const uint8_t *p = f->c.changes;
    size_t n = f->c.changes_n;
    while (f->pos < n) {
        size_t pos = f->pos;
        size_t k = entry_size(p + pos, n - pos);
        if (!k)
            return bad_record(f);
        /* A statement whose own entries begin here runs on the shadow now. */
        for (int j = 0; j < f->nddl; j++) {
            if (f->ddl[j].done || f->ddl[j].start > pos)
                continue;
            int rc = feed_ddl_run(f, &f->ddl[j], f->rec.version);
            if (rc < 0)
                return rc;
        }
        bt_log_entry e;
        memcpy(&e, p + pos, sizeof e);
        if (e.op == CLOG_DDL) {
            f->pos = pos + k;
            for (int j = 0; j < f->nddl; j++) {
                if (f->ddl[j].off != pos)
                    continue;
                f->ch.op = FOLIO_CHANGE_EXEC;
                f->ch.sql = f->ddl[j].sql;
                f->ch.table = f->ddl[j].table;
                return 1;
            }
            continue;
        }
        int rc = row_change(f);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The record just read (f->rec, its payload): parsed, and fed or (older
 * than from) walked for its DDL. 1: there are changes to feed. */
static int record_begin(folio_feed *f, const uint8_t *payload)
{
    record_free(f);
    int rc = clog_commit_parse(payload, f->rec.raw, f->rec.flags, &f->c);
    if (rc < 0)
        return rc == FOLIO_NOMEM ? feed_nomem(f) : bad_record(f);
    f->have_c = 1;
    if ((rc = record_ddl(f)) < 0)
        return rc;
    if (f->rec.version < f->from) {
        for (int j = 0; j < f->nddl; j++) {
            fd_stmt s = {f->ddl[j].sql, NULL};
            if ((rc = feed_shadow_run(f, &s, 1, 1, f->rec.version)) < 0)
                return rc;
        }
        record_free(f);
        f->at = f->rec.version;
        return 0;
    }
    f->pos = 0;
    f->emitted = 0;
    f->phase = PH_REC;
    return 1;
}

/* The next record after f->at: 1 when one is set up to be fed (or a
 * snapshot), 0 at the end of the log for now, or an error. */
static int log_next(folio_feed *f)
{
    int refreshed = 0;
    for (;;) {
        const uint8_t *payload;
        int want = !(f->expect && f->expect <= f->at);
        int rc = clog_reader_next(f->r, &f->rec, &payload, want);
        if (rc == 0) {
            if (refreshed)
                return 0;
            refreshed = 1;
            if ((rc = clog_reader_refresh(f->r)) < 0)
                return rc == FOLIO_NOMEM ? feed_nomem(f)
                                         : feed_fail(f, rc, "%s", clog_reader_errmsg(f->r));
            continue;
        }
        if (rc < 0)
            return rc == FOLIO_NOMEM ? feed_nomem(f)
                                     : feed_fail(f, rc, "%s", clog_reader_errmsg(f->r));
        uint64_t first = f->rec.version, last = first;
        if (f->rec.type == CLOG_GAP) {
            last = 0;
            for (int i = 7; i >= 0; i--)
                last = last << 8 | payload[i];
        }
        f->expect = last + 1;
        if (last <= f->at)
            continue;
        /* Never past the database's version. */
        if (last > f->db_version) {
            if ((rc = folio_version(f->db, &f->db_version)) < 0)
                return feed_fail(f, rc, "%s", folio_errmsg(f->db));
            if (last > f->db_version) {
                clog_reader_unread(f->r);
                f->expect = 0;
                return 0;
            }
        }
        /* A commit taken from the WAL (another engine's, or folio's with
         * the log off) holds pages only: its row changes are unknown, so
         * to a feed it is a gap too. */
        int pages_only = f->rec.type == CLOG_COMMIT && (f->rec.flags & CLOG_REC_PAGES_ONLY);
        if (f->rec.type == CLOG_GAP || pages_only || first > f->at + 1) {
            /* Versions the log does not hold. */
            uint64_t to = f->rec.type == CLOG_GAP || pages_only ? last : first - 1;
            if ((rc = feed_after_gap(f, f->at + 1, to)) < 0)
                return rc;
            if (rc == 1) {
                /* (its base is not there yet: the end of the log for now) */
                clog_reader_unread(f->r);
                f->expect = 0;
                return 0;
            }
            if (f->rec.type != CLOG_GAP && !pages_only)
                clog_reader_unread(f->r), f->expect = 0;
            if (f->phase == PH_SNAP_BEGIN)
                return 1;
            continue;
        }
        if (!payload) {
            /* (not expanded: read it again with its payload) */
            clog_reader_unread(f->r);
            f->expect = 0;
            continue;
        }
        if ((rc = record_begin(f, payload)) != 0)
            return rc;
    }
}

/* ---- the API ---- */

static void change_reset(folio_feed *f, uint64_t version, int64_t time_us)
{
    arena_reset(&f->arena);
    memset(&f->ch, 0, sizeof f->ch);
    f->ch.version = version;
    f->ch.time_us = time_us;
}

static int step(folio_feed *f)
{
    int rc;
    for (;;) {
        switch (f->phase) {
        case PH_SNAP_BEGIN:
            change_reset(f, f->snap_version, f->snap_time);
            f->ch.op = FOLIO_CHANGE_SNAPSHOT;
            f->phase = PH_SNAP_DDL;
            return FOLIO_ROW;
        case PH_SNAP_DDL:
            if (f->snap_i < f->nsnap) {
                change_reset(f, f->snap_version, f->snap_time);
                f->ch.op = FOLIO_CHANGE_EXEC;
                f->ch.sql = f->snap[f->snap_i].sql;
                f->ch.table = f->snap[f->snap_i].table;
                f->snap_i++;
                return FOLIO_ROW;
            }
            f->phase = PH_SNAP_ROWS;
            continue;
        case PH_SNAP_ROWS:
            change_reset(f, f->snap_version, f->snap_time);
            if ((rc = feed_snap_row(f)) < 0)
                return rc;
            if (rc == 1)
                return FOLIO_ROW;
            f->phase = PH_SNAP_END;
            continue;
        case PH_SNAP_END:
            feed_snap_free(f);
            change_reset(f, f->snap_version, f->snap_time);
            f->ch.op = FOLIO_CHANGE_COMMIT;
            f->phase = PH_LOG;
            return FOLIO_ROW;
        case PH_LOG:
            if ((rc = log_next(f)) < 0)
                return rc;
            if (rc == 0)
                return FOLIO_DONE;
            continue;
        case PH_REC:
            change_reset(f, f->rec.version, f->rec.time_us);
            if ((rc = record_next(f)) < 0)
                return rc;
            if (rc == 1) {
                f->emitted = 1;
                return FOLIO_ROW;
            }
            f->phase = PH_REC_END;
            continue;
        case PH_REC_END:
            record_free(f);
            f->at = f->rec.version;
            f->phase = PH_LOG;
            if (f->emitted) {
                change_reset(f, f->rec.version, f->rec.time_us);
                f->ch.op = FOLIO_CHANGE_COMMIT;
                return FOLIO_ROW;
            }
            continue;
        default:
            return feed_fail(f, FOLIO_MISUSE, "the feed is in no known state");
        }
    }
}

int folio_feed_next(folio_feed *f, folio_change *change)
{
    if (!f)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(f->db, change != NULL);
    if (f->err_rc < 0)
        return db_err(f->db, f->err_rc, "%s", f->err);
    int rc = step(f);
    if (rc < 0) {
        if (f->err_rc >= 0)
            feed_fail(f, rc, "%s", folio_errmsg(f->db));
        return f->err_rc;
    }
    if (rc == FOLIO_ROW)
        *change = f->ch;
    return rc;
}

int folio_feed_source(folio_feed *f, const char **out)
{
    if (!f)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(f->db, out != NULL);
    *out = f->source;
    return FOLIO_OK;
}

int folio_feed_close(folio_feed *f)
{
    if (!f)
        return FOLIO_OK;
    record_free(f);
    os_free(f->ddl);
    feed_snap_free(f);
    feed_shadow_close(f);
    feed_free_strv(f->broken, f->nbroken);
    clog_reader_close(f->r);
    if (f->tmp[0])
        rmdir(f->tmp);
    arena_free(&f->arena);
    os_free(f->nv);
    os_free(f->ov);
    os_free(f->kv);
    os_free(f->colnames);
    os_free(f->gen);
    os_free(f->name);
    row_decoder_free(&f->rd);
    if (f->ecx)
        ex_ctx_free(f->ecx);
    os_free(f);
    return FOLIO_OK;
}

int folio_feed_open(folio_feed **out, folio_db *db, uint64_t from_version)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, out != NULL);
    *out = NULL;
    folio_feed *f = os_calloc(1, sizeof *f);
    if (!f)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    f->db = db;
    f->err_rc = 0;
    f->from = from_version;
    char *dir = clog_dir_of(pager_path(db->pager));
    if (!dir) {
        os_free(f);
        return db_err(db, FOLIO_NOMEM, "out of memory");
    }
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    os_free(dir);
    char err[1200] = "";
    int rc = clog_reader_open(&f->r, f->dir, err, sizeof err);
    if (rc < 0) {
        if (rc == FOLIO_NOTFOUND_ERR)
            snprintf(err, sizeof err, "%.1000s: the database has no commit log (folio_log_enable)",
                     f->dir);
        rc = rc == FOLIO_NOMEM ? feed_nomem(f) : feed_fail(f, rc, "%s", err);
        folio_feed_close(f);
        return rc;
    }
    clog_reader_set_follow(f->r, 1);
    f->m = *clog_reader_manifest(f->r);
    snprintf(f->source, sizeof f->source, "%08x-%016llx", (unsigned)f->m.dbid,
             (unsigned long long)f->m.logid);
    if ((rc = folio_version(db, &f->db_version)) < 0) {
        folio_feed_close(f);
        return rc;
    }
    /* The newest base before `from`; with none, the oldest as a snapshot. */
    uint64_t *bases;
    int n;
    if ((rc = feed_list_bases(f, &bases, &n)) < 0) {
        folio_feed_close(f);
        return rc;
    }
    int pick = -1;
    for (int i = 0; i < n && from_version > 0; i++)
        if (bases[i] <= from_version - 1)
            pick = i;
    if (n == 0) {
        rc = feed_fail(f, FOLIO_CORRUPT, "%s: the commit log has no base", f->dir);
    } else {
        f->phase = PH_LOG;
        rc = feed_from_base(f, bases[pick >= 0 ? pick : 0], pick < 0);
    }
    os_free(bases);
    if (rc < 0) {
        folio_feed_close(f);
        return rc;
    }
    *out = f;
    return FOLIO_OK;
}
