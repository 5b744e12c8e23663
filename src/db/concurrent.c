/*
 * concurrent.c - FOLIO_TXN_CONCURRENT: write transactions that run on their
 * snapshot beside each other and are checked and applied at commit.
 *
 * A concurrent transaction is a write transaction whose pager transaction
 * reads its snapshot under a read mark (it keeps no one out) and changes
 * private copies of pages (pager.h, PAGER_CONCURRENT). So it reads its own
 * writes through the ordinary code, constraints, indexes, triggers and
 * foreign key actions included. The b-tree layer records every entry it
 * adds or removes, in order, with a hash of the row a change replaces or
 * removes (btree.h, bt_log_entry).
 *
 * folio_commit then takes the writer role (waiting in arrival order, as
 * plain write transactions do), and replays the log on the newest trees:
 *  - a row change finds the row as the transaction saw it (same hash), or
 *    the row absent where it was absent: otherwise another commit changed
 *    it after the snapshot, and the commit fails with FOLIO_CONFLICT (first
 *    committer wins). This compares values, so it sees every commit after
 *    the snapshot: this handle's, other handles' and other processes'
 *    (sqlite3 among them), at the granularity of rows;
 *  - an index entry removed must be there byte for byte; an entry added must
 *    not be (for a WITHOUT ROWID table: no row with its PRIMARY KEY), and a
 *    UNIQUE index must not hold its key for another row: a concurrent insert
 *    of the same key loses with FOLIO_CONFLICT;
 *  - sqlite_sequence rows (AUTOINCREMENT) are merged: the larger value wins,
 *    so that inserts into one AUTOINCREMENT table do not conflict.
 * Automatic rowids come from a per-table counter of the handle that never
 * goes back (db_rowid_reserve), so that inserts of different transactions
 * take different rowids and never conflict.
 *
 * The replay goes through the b-tree's ordinary insert and delete (splits,
 * merges, the freelist), in a plain write transaction, which then commits
 * as any other: an ordinary SQLite WAL transaction (group commit included).
 * A schema change after the snapshot fails the commit with FOLIO_CONFLICT;
 * DDL inside a concurrent transaction is refused (FOLIO_MISUSE).
 */
#include "db/write_int.h"

#include <stdio.h>
#include <string.h>

#include "schema/record_order.h"

/* What a root page of the snapshot's catalog is. */
typedef struct root_info {
    uint32_t root;
    db_table *tab;
    db_index *ix; /* NULL: the table's own tree */
    sch_order full, prefix;
    int ready, has_prefix;
} root_info;

typedef struct applier {
    folio_txn *txn;
    root_info *roots;
    uint32_t nroots, cap; /* open addressing by root */
    db_table *seq;        /* sqlite_sequence, if the catalog has it */
    char msg[400];
} applier;

static root_info *root_slot(applier *a, uint32_t root)
{
    uint32_t i = (root * 2654435761u) & (a->cap - 1);
    while (a->roots[i].root && a->roots[i].root != root)
        i = (i + 1) & (a->cap - 1);
    return &a->roots[i];
}

static int roots_build(applier *a)
{
    db_catalog *cat = a->txn->cat;
    uint32_t n = 1;
    for (int i = 0; i < cat->ntables; i++)
        n += 1 + (uint32_t)cat->tables[i]->nidx;
    a->cap = 16;
    while (a->cap < 2 * n)
        a->cap *= 2;
    a->roots = os_calloc(a->cap, sizeof *a->roots);
    if (!a->roots)
        return FOLIO_NOMEM;
    for (int i = 0; i < cat->ntables; i++) {
        db_table *t = cat->tables[i];
        if (t->root) {
            root_info *r = root_slot(a, t->root);
            r->root = t->root;
            r->tab = t;
        }
        for (int j = 0; j < t->nidx; j++) {
            root_info *r = root_slot(a, t->idx[j]->root);
            r->root = t->idx[j]->root;
            r->tab = t;
            r->ix = t->idx[j];
        }
    }
    a->seq = catalog_find_table(cat, "sqlite_sequence");
    return 0;
}

static void roots_free(applier *a)
{
    for (uint32_t i = 0; a->roots && i < a->cap; i++) {
        if (a->roots[i].ready) {
            sch_order_free(&a->roots[i].full);
            sch_order_free(&a->roots[i].prefix);
        }
    }
    os_free(a->roots);
    a->roots = NULL;
}

/* The orders of an index tree (or a WITHOUT ROWID table's): whole entries,
 * and the key prefix whose repetition a UNIQUE index forbids. */
static int root_orders(applier *a, root_info *r)
{
    if (r->ready)
        return 0;
    int enc = a->txn->cat->text_encoding;
    int rc;
    if (r->ix) {
        rc = sch_order_init(&r->full, r->ix->nfields, r->ix->fdesc, r->ix->fcoll, enc);
        if (rc == 0 && r->ix->unique) {
            rc = sch_order_init(&r->prefix, r->ix->ncols, r->ix->fdesc, r->ix->fcoll, enc);
            r->has_prefix = 1;
        }
    } else {
        /* A WITHOUT ROWID table: entries are ordered (and unique) by the
         * PRIMARY KEY fields. */
        rc = sch_order_init(&r->full, r->tab->def.npk, r->tab->pk_desc, r->tab->pk_coll, enc);
    }
    r->ready = 1;
    return rc;
}

typedef struct rec_probe {
    sch_order *o;
    const uint8_t *rec;
    uint64_t n;
} rec_probe;

static int probe_cmp(void *ctx, const uint8_t *rec, uint64_t size, int *out)
{
    rec_probe *p = ctx;
    return sch_record_compare(p->o, rec, size, p->rec, p->n, out);
}

/* Whether one of the first `n` fields of the record is NULL (then a UNIQUE
 * index does not hold it against another row). */
static int prefix_has_null(const uint8_t *rec, uint64_t size, int n)
{
    fmt_record r;
    if (fmt_record_open(&r, rec, size, size) < 0)
        return 0;
    uint64_t st, off;
    for (int i = 0; i < n && fmt_record_next(&r, &st, &off) == 1; i++)
        if (st == 0)
            return 1;
    return 0;
}

/* Up to `n` fields of a record as text, for messages: "(1, 'x')". */
static void rec_text(char *buf, size_t cap, const uint8_t *rec, uint64_t size, int n)
{
    fmt_record r;
    size_t k = 0;
    buf[0] = 0;
    if (fmt_record_open(&r, rec, size, size) < 0)
        return;
    k += (size_t)snprintf(buf + k, cap - k, "(");
    uint64_t st, off;
    for (int i = 0; i < n && k < cap && fmt_record_next(&r, &st, &off) == 1; i++) {
        fmt_value v;
        if (fmt_serial_decode(st, rec + off, &v) < 0)
            break;
        const char *sep = i ? ", " : "";
        if (v.type == FMT_NULL)
            k += (size_t)snprintf(buf + k, cap - k, "%sNULL", sep);
        else if (v.type == FMT_INTEGER)
            k += (size_t)snprintf(buf + k, cap - k, "%s%lld", sep, (long long)v.u.i);
        else if (v.type == FMT_REAL)
            k += (size_t)snprintf(buf + k, cap - k, "%s%.17g", sep, v.u.r);
        else if (v.type == FMT_TEXT)
            k += (size_t)snprintf(buf + k, cap - k, "%s'%.*s'", sep,
                                  (int)(v.u.s.n > 40 ? 40 : v.u.s.n), (const char *)v.u.s.p);
        else
            k += (size_t)snprintf(buf + k, cap - k, "%sx'...'", sep);
    }
    if (k < cap)
        snprintf(buf + k, cap - k, ")");
}

static const char *root_name(const root_info *r)
{
    return r->ix ? r->ix->name : r->tab->name;
}

/* sqlite_sequence: the larger value wins. */
static int apply_seq(applier *a, const uint8_t *rec, uint64_t size)
{
    fmt_record r;
    uint64_t st, off;
    fmt_value name = {0}, seq = {0};
    if (fmt_record_open(&r, rec, size, size) < 0 || fmt_record_next(&r, &st, &off) != 1 ||
        fmt_serial_decode(st, rec + off, &name) < 0 || fmt_record_next(&r, &st, &off) != 1 ||
        fmt_serial_decode(st, rec + off, &seq) < 0 || name.type != FMT_TEXT ||
        seq.type != FMT_INTEGER)
        return db_err(a->txn->db, FOLIO_CORRUPT, "a malformed sqlite_sequence row in the log");
    char nm[256];
    snprintf(nm, sizeof nm, "%.*s", (int)(name.u.s.n < 255 ? name.u.s.n : 255),
             (const char *)name.u.s.p);
    db_table *tab = catalog_find_table(a->txn->cat, nm);
    if (!tab)
        return 0;
    int64_t cur = 0;
    int rc = autoinc_get(a->txn, tab, &cur);
    if (rc == 0 && seq.u.i > cur)
        rc = autoinc_set(a->txn, tab, seq.u.i);
    return rc;
}

static int conflict(applier *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int conflict(applier *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    return FOLIO_CONFLICT;
}

/* A serializable transaction's read (btree_track.c), checked in the
 * database as the replay has made it so far. */
static int check_read(applier *a, root_info *r, const bt_log_entry *e, const uint8_t *p)
{
    ptxn *w = a->txn->pt;
    int intkey = e->op == BT_LOG_RD_ROW || (e->had & BT_RD_INTKEY);
    bt_cursor c;
    bt_cursor_init(&c, w, e->root, intkey);
    int rc;
    const char *what = r->ix ? "index" : "table";
    if (e->op == BT_LOG_RD_ROW) {
        rc = bt_seek_rowid(&c, e->rowid);
        if (rc < 0)
            goto done;
        int here = rc == FOLIO_ROW;
        uint64_t h = 0;
        if (here) {
            const uint8_t *old;
            uint64_t n;
            if ((rc = bt_payload(&c, &old, &n)) < 0)
                goto done;
            h = bt_log_hash(old, n);
        }
        rc = 0;
        if (here != e->had || (here && h != e->hash))
            rc = conflict(a,
                          "table %s, rowid %lld: read by this transaction (serializable), %s by "
                          "a commit after it began",
                          r->tab->name, (long long)e->rowid,
                          !e->had ? "inserted"
                          : here  ? "changed"
                                  : "deleted");
        goto done;
    }
    uint64_t nb;
    memcpy(&nb, p, 8);
    const uint8_t *bound = p + 8, *res = p + 8 + nb;
    uint64_t nres = e->size - 8 - nb;
    int fwd = e->op == BT_LOG_RD_NEXT;
    if (!intkey) {
        if ((rc = root_orders(a, r)) < 0)
            goto done;
    }
    if (e->had & BT_RD_NOBOUND) {
        rc = fwd ? bt_first(&c) : bt_last(&c);
    } else if (intkey) {
        int64_t b;
        memcpy(&b, bound, 8);
        rc = bt_seek_rowid_ge(&c, b, !fwd);
        if (!fwd)
            rc = rc == FOLIO_ROW ? bt_prev(&c) : rc == FOLIO_DONE ? bt_last(&c) : rc;
    } else {
        rec_probe pr = {&r->full, bound, nb};
        rc = bt_seek_ge(&c, probe_cmp, &pr, !fwd);
        if (!fwd)
            rc = rc == FOLIO_ROW ? bt_prev(&c) : rc == FOLIO_DONE ? bt_last(&c) : rc;
    }
    if (rc < 0)
        goto done;
    int same;
    if (e->had & BT_RD_NONE) {
        same = rc != FOLIO_ROW;
    } else if (rc != FOLIO_ROW) {
        same = 0;
    } else {
        const uint8_t *cur;
        uint64_t ncur;
        if ((rc = bt_payload(&c, &cur, &ncur)) < 0)
            goto done;
        if (intkey) {
            int64_t want;
            memcpy(&want, res, 8);
            same = bt_rowid(&c) == want && bt_log_hash(cur, ncur) == e->hash;
        } else {
            same = ncur == nres && memcmp(cur, res, (size_t)nres) == 0;
        }
    }
    rc = same ? 0
              : conflict(a,
                         "%s %s: a range read by this transaction (serializable) gained, lost "
                         "or changed a row by a commit after it began",
                         what, root_name(r));
done:
    bt_cursor_release(&c);
    return rc < 0 ? rc : 0;
}

static int apply_entry(applier *a, const bt_log_entry *e, const uint8_t *rec)
{
    ptxn *w = a->txn->pt;
    root_info *r = root_slot(a, e->root);
    if (!r->root && e->op >= BT_LOG_RD_ROW && e->op <= BT_LOG_RD_PREV)
        return 0; /* (sqlite_schema: the schema cookie speaks for it) */
    if (!r->root)
        return db_err(a->txn->db, FOLIO_CORRUPT, "the change log names page %u, not a tree",
                      (unsigned)e->root);
    if (e->op >= BT_LOG_RD_ROW && e->op <= BT_LOG_RD_PREV)
        return check_read(a, r, e, rec);
    if (r->tab == a->seq && !r->ix && e->op == BT_LOG_INS_ROW)
        return apply_seq(a, rec, e->size);
    bt_cursor c;
    int intkey = e->op == BT_LOG_INS_ROW || e->op == BT_LOG_DEL_ROW;
    bt_cursor_init(&c, w, e->root, intkey);
    int rc = 0;
    if (intkey) {
        rc = bt_seek_rowid(&c, e->rowid);
        if (rc < 0)
            goto done;
        int here = rc == FOLIO_ROW;
        uint64_t h = 0;
        if (here) {
            const uint8_t *old;
            uint64_t n;
            if ((rc = bt_payload(&c, &old, &n)) < 0)
                goto done;
            h = bt_log_hash(old, n);
        }
        if (here != e->had || (here && h != e->hash)) {
            rc = conflict(a, "table %s, rowid %lld: %s by a commit after this transaction began",
                          r->tab->name, (long long)e->rowid,
                          !e->had ? "inserted"
                          : here  ? "changed"
                                  : "deleted");
            goto done;
        }
        rc = e->op == BT_LOG_INS_ROW ? bt_insert_row(&c, e->rowid, rec, e->size) : bt_delete(&c);
        goto done;
    }
    if ((rc = root_orders(a, r)) < 0)
        goto done;
    c.reccmp = sch_record_compare;
    c.reccfg = &r->full;
    rec_probe pr = {&r->full, rec, e->size};
    rc = bt_seek_ge(&c, probe_cmp, &pr, 1);
    if (rc < 0)
        goto done;
    int eq = 0;
    const uint8_t *cur = NULL;
    uint64_t ncur = 0;
    if (rc == FOLIO_ROW) {
        if ((rc = bt_payload(&c, &cur, &ncur)) < 0 ||
            (rc = sch_record_compare(&r->full, cur, ncur, rec, e->size, &eq)) < 0)
            goto done;
        eq = eq == 0;
    }
    int nkey = r->ix ? r->ix->ncols : r->tab->def.npk;
    char keytext[200];
    if (e->op == BT_LOG_DEL_KEY) {
        if (!eq || ncur != e->size || memcmp(cur, rec, (size_t)e->size) != 0) {
            rec_text(keytext, sizeof keytext, rec, e->size, r->ix ? r->ix->nfields : nkey);
            rc = r->ix ? conflict(a,
                                  "table %s, index %s, entry %s: changed or deleted by a "
                                  "commit after this transaction began",
                                  r->tab->name, r->ix->name, keytext)
                       : conflict(a,
                                  "table %s, entry %s: changed or deleted by a commit after "
                                  "this transaction began",
                                  r->tab->name, keytext);
            goto done;
        }
        rc = bt_delete(&c);
        goto done;
    }
    if (eq) {
        rec_text(keytext, sizeof keytext, rec, e->size, nkey);
        rc = r->ix ? conflict(a,
                              "index %s, entry %s: inserted by a commit after this "
                              "transaction began",
                              r->ix->name, keytext)
                   : conflict(a,
                              "table %s, PRIMARY KEY %s: inserted by a commit after this "
                              "transaction began",
                              r->tab->name, keytext);
        goto done;
    }
    bt_cursor_reset(&c);
    if (r->has_prefix && !prefix_has_null(rec, e->size, r->ix->ncols)) {
        rec_probe pp = {&r->prefix, rec, e->size};
        rc = bt_seek_ge(&c, probe_cmp, &pp, 1);
        if (rc < 0)
            goto done;
        int peq = 1;
        if (rc == FOLIO_ROW &&
            ((rc = bt_payload(&c, &cur, &ncur)) < 0 ||
             (rc = sch_record_compare(&r->prefix, cur, ncur, rec, e->size, &peq)) < 0))
            goto done;
        if (peq == 0) {
            rec_text(keytext, sizeof keytext, rec, e->size, nkey);
            rc = conflict(a,
                          "UNIQUE index %s on %s, key %s: taken by a commit after this "
                          "transaction began",
                          r->ix->name, r->tab->name, keytext);
            goto done;
        }
        bt_cursor_reset(&c);
    }
    rc = bt_insert_key(&c, rec, e->size, probe_cmp, &pr);
done:
    bt_cursor_release(&c);
    return rc < 0 ? rc : 0;
}

int conc_apply(folio_txn *txn, const uint8_t *log, size_t n, char *err, size_t errlen)
{
    applier a;
    memset(&a, 0, sizeof a);
    a.txn = txn;
    if (ptxn_header(txn->pt)->schema_cookie != txn->cat->cookie) {
        snprintf(err, errlen,
                 "the schema changed after this transaction began (a commit ran DDL): it was "
                 "rolled back");
        return FOLIO_CONFLICT;
    }
    db_clear_err(txn->db);
    ptxn_clear_error(txn->pt);
    int rc = roots_build(&a);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    size_t off = 0;
    while (off < n && rc == 0) {
        bt_log_entry e;
        memcpy(&e, log + off, sizeof e);
        off += sizeof e;
        if (e.op != BT_LOG_FK_KEY)
            rc = apply_entry(&a, &e, log + off);
        off += (size_t)e.size;
    }
    /* Then the foreign keys it relied on, in the database it leaves. */
    for (off = 0; off < n && rc == 0;) {
        bt_log_entry e;
        memcpy(&e, log + off, sizeof e);
        off += sizeof e;
        if (e.op == BT_LOG_FK_KEY)
            rc = fk_conc_verify(txn, &e, log + off, a.msg, sizeof a.msg);
        off += (size_t)e.size;
    }
    if (rc == FOLIO_CONFLICT)
        snprintf(err, errlen, "%s: the transaction was rolled back", a.msg);
    else if (rc < 0) {
        /* The message of whatever failed: the pager's, the db layer's, or
         * at least the code's. */
        const char *m = ptxn_errmsg(txn->pt);
        if (!m || !m[0])
            m = folio_errmsg(txn->db);
        if (!strcmp(m, "not an error"))
            m = folio_strerror(rc);
        snprintf(err, errlen, "%s", m);
    }
    roots_free(&a);
    return rc;
}

/* ---- automatic rowids ---- */

struct rowid_ctr {
    uint32_t root;
    int64_t last; /* the last rowid handed out */
};

int db_rowid_counters(folio_db *db)
{
    return __atomic_load_n(&db->nrowid, __ATOMIC_ACQUIRE) != 0;
}

static struct rowid_ctr *ctr_slot(struct rowid_ctr *v, uint32_t cap, uint32_t root)
{
    uint32_t i = (root * 2654435761u) & (cap - 1);
    while (v[i].root && v[i].root != root)
        i = (i + 1) & (cap - 1);
    return &v[i];
}

int64_t db_rowid_reserve(folio_db *db, uint32_t root, int64_t base)
{
    pthread_mutex_lock(&db->mu);
    if (2 * (db->nrowid + 1) > db->rowid_cap) {
        uint32_t cap = db->rowid_cap ? db->rowid_cap * 2 : 16;
        struct rowid_ctr *v = os_calloc(cap, sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&db->mu);
            return base < INT64_MAX ? base + 1 : -1; /* (a collision is then a conflict) */
        }
        for (uint32_t i = 0; i < db->rowid_cap; i++)
            if (db->rowid_ctr[i].root)
                *ctr_slot(v, cap, db->rowid_ctr[i].root) = db->rowid_ctr[i];
        os_free(db->rowid_ctr);
        db->rowid_ctr = v;
        db->rowid_cap = cap;
    }
    struct rowid_ctr *c = ctr_slot(db->rowid_ctr, db->rowid_cap, root);
    if (!c->root) {
        c->root = root;
        c->last = 0;
        __atomic_add_fetch(&db->nrowid, 1, __ATOMIC_RELEASE);
    }
    int64_t from = c->last > base ? c->last : base;
    int64_t r = from < INT64_MAX ? from + 1 : -1;
    if (r > 0)
        c->last = r;
    pthread_mutex_unlock(&db->mu);
    return r;
}

/* ---- read committed ---- */

int db_txn_refresh(folio_txn *txn)
{
    if (!txn->read_committed || txn->refreshing || txn->cursors || txn->stmt_nested ||
        txn->fk_depth || txn->trig_nactive || txn->done || txn->poisoned)
        return 0;
    folio_db *db = txn->db;
    ptxn *old = txn->pt, *np;
    char err[512] = "";
    int rc = pager_begin(&np, db->pager, txn->conc ? PAGER_CONCURRENT : 0, db->opts.busy_timeout_ms,
                         err, sizeof err);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    if (ptxn_snapshot_id(np) == ptxn_snapshot_id(old)) {
        pager_end(np); /* nothing committed since */
        return 0;
    }
    if (ptxn_header(np)->schema_cookie != txn->cat->cookie) {
        pager_end(np);
        return db_err(db, FOLIO_CONFLICT,
                      "the schema changed after this transaction began (a commit ran DDL): "
                      "READ COMMITTED cannot go on; roll it back");
    }
    size_t n = 0;
    const uint8_t *log = txn->conc ? ptxn_log(old, &n) : NULL;
    if (n == 0) {
        /* Nothing of its own yet: the new snapshot is all. */
        table_states_stash(txn);
        txn->pt = np;
        pager_end(old);
        return 0;
    }
    /* The transaction's changes so far, made again on the newest database
     * (its new private pages record them again); a conflict shows now. */
    table_states_stash(txn);
    txn->pt = np;
    txn->refreshing = 1;
    rc = conc_apply(txn, log, n, err, sizeof err);
    for (size_t off = 0; rc == 0 && off < n;) {
        bt_log_entry e;
        memcpy(&e, log + off, sizeof e);
        if (e.op == BT_LOG_FK_KEY)
            rc = ptxn_log_append(np, log + off, sizeof e + (size_t)e.size);
        off += sizeof e + (size_t)e.size;
    }
    txn->refreshing = 0;
    table_states_stash(txn); /* (states the replay made are bound to np) */
    if (rc < 0) {
        txn->pt = old;
        pager_end(np);
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    }
    pager_end(old);
    return 0;
}

/* ---- falling back to exclusive execution ---- */

int db_txn_upgrade(folio_txn *txn, const char *why)
{
    if (!txn->conc)
        return 0;
    folio_db *db = txn->db;
    if (txn->cursors)
        return db_err(db, FOLIO_MISUSE,
                      "%s needs this concurrent transaction to become a plain write "
                      "transaction, which it cannot while cursors are open: close them first",
                      why);
    ptxn *old = txn->pt, *w;
    char err[512] = "";
    int rc = pager_begin(&w, db->pager, 1, db->opts.busy_timeout_ms, err, sizeof err);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    size_t n;
    const uint8_t *log = ptxn_log(old, &n);
    table_states_stash(txn);
    txn->pt = w;
    txn->refreshing = 1;
    rc = conc_apply(txn, log, n, err, sizeof err);
    txn->refreshing = 0;
    table_states_stash(txn);
    if (rc < 0) {
        txn->pt = old;
        pager_end(w);
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    }
    /* From here on it is a plain write transaction: it holds the writer
     * role, reads the newest database and never conflicts. */
    pager_end(old);
    txn->conc = 0;
    txn->read_committed = 0;
    return 0;
}
