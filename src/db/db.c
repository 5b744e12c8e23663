/*
 * db.c - databases, transactions, tables, inspection: the public API's
 * entry points other than cursors and row writes.
 */
#include "db/write_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const folio_options default_options = FOLIO_OPTIONS_INIT;

int folio_open(folio_db **out, const char *path, const folio_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !path || !path[0]) {
        db_set_open_err("bad argument: a handle pointer and a path are required");
        return FOLIO_MISUSE;
    }
    folio_options o = default_options;
    if (opts && (opts->version < 1 || opts->version > FOLIO_OPTIONS_VERSION)) {
        db_set_open_err("bad argument: folio_options.version (initialise with FOLIO_OPTIONS_INIT)");
        return FOLIO_MISUSE;
    }
    /* Version 1 ends before mmap_bytes, version 2 before txn_timeout_ms,
     * version 3 before foreign_keys, version 4 before recursive_triggers,
     * version 5 before max_write_txns, version 6 before log_compression. */
    if (opts)
        memcpy(&o, opts,
               opts->version == 1   ? offsetof(folio_options, mmap_bytes)
               : opts->version == 2 ? offsetof(folio_options, txn_timeout_ms)
               : opts->version == 3 ? offsetof(folio_options, foreign_keys)
               : opts->version == 4 ? offsetof(folio_options, recursive_triggers)
               : opts->version == 5 ? offsetof(folio_options, max_write_txns)
               : opts->version == 6 ? offsetof(folio_options, log_compression)
                                    : sizeof(folio_options));
    o.foreign_keys = o.foreign_keys != 0;
    o.recursive_triggers = o.recursive_triggers != 0;
    o.version = FOLIO_OPTIONS_VERSION;
    if (o.flags & ~(FOLIO_OPEN_READONLY | FOLIO_OPEN_CREATE | FOLIO_OPEN_INLINE_CHECKPOINT)) {
        db_set_open_err("bad argument: unknown bits in folio_options.flags");
        return FOLIO_MISUSE;
    }
    if (o.log_compression != FOLIO_LOG_AS_ENABLED && o.log_compression != FOLIO_LOG_ZSTD &&
        o.log_compression != FOLIO_LOG_LZ4) {
        db_set_open_err("bad argument: folio_options.log_compression (FOLIO_LOG_ZSTD, "
                        "FOLIO_LOG_LZ4 or FOLIO_LOG_AS_ENABLED)");
        return FOLIO_MISUSE;
    }
    if (o.sync < FOLIO_SYNC_OFF || o.sync > FOLIO_SYNC_FULL) {
        db_set_open_err("bad argument: sync must be FOLIO_SYNC_OFF, NORMAL or FULL");
        return FOLIO_MISUSE;
    }
    if (o.page_size &&
        (o.page_size < 512 || o.page_size > 65536 || (o.page_size & (o.page_size - 1)) != 0)) {
        db_set_open_err("bad argument: page_size must be a power of two from 512 to 65536");
        return FOLIO_MISUSE;
    }
    folio_db *db = os_calloc(1, sizeof *db);
    if (!db) {
        db_set_open_err("out of memory");
        return FOLIO_NOMEM;
    }
    db->opts = o;
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->wt_cv, NULL);
    pthread_cond_init(&db->ver_cv, NULL);
    pthread_mutex_init(&db->clog_mu, NULL);
    size_t n = strlen(path);
    db->path = os_malloc(n + 1);
    if (!db->path) {
        pthread_cond_destroy(&db->wt_cv);
        pthread_cond_destroy(&db->ver_cv);
        pthread_mutex_destroy(&db->clog_mu);
        pthread_mutex_destroy(&db->mu);
        os_free(db);
        db_set_open_err("out of memory");
        return FOLIO_NOMEM;
    }
    memcpy(db->path, path, n + 1);
    pager_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.readonly = (o.flags & FOLIO_OPEN_READONLY) != 0;
    cfg.create = !cfg.readonly && (o.flags & FOLIO_OPEN_CREATE) != 0;
    cfg.sync = o.sync;
    cfg.cache_bytes = o.cache_bytes;
    cfg.new_page_size = o.page_size ? o.page_size : 4096;
    cfg.autocheckpoint = o.wal_autocheckpoint;
    cfg.busy_timeout_ms = o.busy_timeout_ms;
    cfg.inline_checkpoint = (o.flags & FOLIO_OPEN_INLINE_CHECKPOINT) != 0;
    cfg.mmap_bytes = o.mmap_bytes;
    char err[512] = "";
    int rc = pager_open(&db->pager, os_vfs_current(), path, &cfg, err, sizeof err);
    if (rc < 0) {
        db_set_open_err(err[0] ? err : folio_strerror(rc));
        os_free(db->path);
        pthread_cond_destroy(&db->wt_cv);
        pthread_cond_destroy(&db->ver_cv);
        pthread_mutex_destroy(&db->clog_mu);
        pthread_mutex_destroy(&db->mu);
        os_free(db);
        return rc;
    }
    db_log_attach(db);
    db_set_open_err("");
    *out = db;
    return FOLIO_OK;
}

/* Free a transaction object with what it keeps (its catalogs let go). */
static void txn_destroy(folio_txn *txn)
{
    if (!txn)
        return;
    for (int i = 0; i < txn->tables_alloc; i++)
        os_free(txn->tables[i]);
    os_free(txn->tables);
    os_free(txn->states);
    db_cursor_destroy(txn->spare_cursor);
    os_free(txn);
}

int folio_close(folio_db *db)
{
    if (!db)
        return FOLIO_OK;
    db_spare_states_free(db);
    txn_destroy(db->spare_txn);
    db->spare_txn = NULL;
    int rc = pager_close(db->pager, !pager_readonly(db->pager));
    catalog_unref(db->cat);
    pthread_cond_destroy(&db->wt_cv);
    pthread_cond_destroy(&db->ver_cv);
    db_log_free(db);
    pthread_mutex_destroy(&db->clog_mu);
    pthread_mutex_destroy(&db->mu);
    os_free(db->rowid_ctr);
    os_free(db->path);
    db_clear_err(db);
    os_free(db);
    return rc < 0 ? rc : FOLIO_OK;
}

/* ---- transactions ---- */

/* The last finished transaction's object, emptied but for its arrays and
 * table handles, so that a transaction calls the allocator for none. */
static folio_txn *txn_take_spare(folio_db *db)
{
    pthread_mutex_lock(&db->mu);
    folio_txn *txn = db->spare_txn;
    db->spare_txn = NULL;
    pthread_mutex_unlock(&db->mu);
    if (!txn)
        return NULL;
    memset(txn, 0, TXN_KEPT);
    return txn;
}

/* max_write_txns: a write transaction waits its turn (in arrival order)
 * while the handle has that many live, up to busy_timeout_ms. */
struct wt_waiter {
    struct wt_waiter *next;
};

static int write_slot_take(folio_db *db)
{
    unsigned max = db->opts.max_write_txns;
    if (!max)
        return 0;
    pthread_mutex_lock(&db->mu);
    if (!db->wt_head && db->wt_live < max) {
        db->wt_live++;
        pthread_mutex_unlock(&db->mu);
        return 0;
    }
    struct wt_waiter me = {NULL};
    if (db->wt_tail)
        db->wt_tail->next = &me;
    else
        db->wt_head = &me;
    db->wt_tail = &me;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)(db->opts.busy_timeout_ms % 1000) * 1000000u;
    until.tv_sec += (time_t)(db->opts.busy_timeout_ms / 1000 + ns / 1000000000u);
    until.tv_nsec = (long)(ns % 1000000000u);
    int timed_out = 0;
    while (!(db->wt_head == &me && db->wt_live < max) && !timed_out)
        timed_out = pthread_cond_timedwait(&db->wt_cv, &db->mu, &until) != 0 &&
                    !(db->wt_head == &me && db->wt_live < max);
    /* Out of the queue (from anywhere in it). */
    struct wt_waiter **pp = &db->wt_head, *prev = NULL;
    while (*pp != &me) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    *pp = me.next;
    if (db->wt_tail == &me)
        db->wt_tail = prev;
    if (!timed_out)
        db->wt_live++;
    pthread_cond_broadcast(&db->wt_cv); /* the next in line may go (or move up) */
    pthread_mutex_unlock(&db->mu);
    if (timed_out)
        return db_err(db, FOLIO_BUSY,
                      "%u write transactions are live (max_write_txns): waited %u ms "
                      "(busy_timeout_ms) for one to end",
                      max, db->opts.busy_timeout_ms);
    return 1;
}

static void write_slot_give(folio_txn *txn)
{
    if (!txn->wt_counted)
        return;
    folio_db *db = txn->db;
    txn->wt_counted = 0;
    pthread_mutex_lock(&db->mu);
    db->wt_live--;
    pthread_cond_broadcast(&db->wt_cv);
    pthread_mutex_unlock(&db->mu);
}

int folio_begin(folio_txn **out, folio_db *db, unsigned flags)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, out != NULL);
    *out = NULL;
    FOLIO_CHECK_ARG(db, !((flags & FOLIO_TXN_SERIALIZABLE) && (flags & FOLIO_TXN_READ_COMMITTED)));
    int read_committed = (flags & FOLIO_TXN_READ_COMMITTED) != 0;
    flags &= ~FOLIO_TXN_READ_COMMITTED;
    if (read_committed && !(flags & (FOLIO_TXN_WRITE | FOLIO_TXN_CONCURRENT)))
        flags |= FOLIO_TXN_READ;
    if (flags & FOLIO_TXN_SERIALIZABLE)
        flags |= FOLIO_TXN_CONCURRENT;
    if (flags & FOLIO_TXN_CONCURRENT)
        flags |= FOLIO_TXN_WRITE;
    FOLIO_CHECK_ARG(db, (flags & ~(FOLIO_TXN_READ | FOLIO_TXN_WRITE | FOLIO_TXN_CONCURRENT |
                                   FOLIO_TXN_SERIALIZABLE | FOLIO_TXN_READ_COMMITTED |
                                   FOLIO_TXN_REPLICA)) == 0);
    FOLIO_CHECK_ARG(db, !(flags & FOLIO_TXN_REPLICA) ||
                            ((flags & FOLIO_TXN_WRITE) && !(flags & FOLIO_TXN_CONCURRENT)));
    int replica = (flags & FOLIO_TXN_REPLICA) != 0;
    flags &= ~FOLIO_TXN_REPLICA;
    FOLIO_CHECK_ARG(db, flags != 0);
    int write = (flags & FOLIO_TXN_WRITE) != 0;
    int conc = (flags & FOLIO_TXN_CONCURRENT) != 0;
    int counted = 0;
    if (write && db->opts.max_write_txns) {
        counted = write_slot_take(db);
        if (counted < 0)
            return counted;
        counted = 1;
    }
    os_vfs *vfs = os_vfs_current();
    uint64_t deadline = db->opts.txn_timeout_ms ? vfs->now_ms(vfs) + db->opts.txn_timeout_ms : 0;
    folio_txn *txn = txn_take_spare(db);
    if (!txn && !(txn = os_calloc(1, sizeof *txn))) {
        if (counted) {
            folio_txn tmp = {.db = db, .wt_counted = 1};
            write_slot_give(&tmp);
        }
        return db_err(db, FOLIO_NOMEM, "out of memory");
    }
    txn->db = db;
    txn->wt_counted = counted;
    txn->write = write;
    txn->conc = conc;
    txn->replica = replica;
    txn->deadline_ms = deadline;
    char err[512] = "";
    int rc = pager_begin(&txn->pt, db->pager, conc ? PAGER_CONCURRENT : write,
                         db->opts.busy_timeout_ms, err, sizeof err);
    if (rc < 0) {
        write_slot_give(txn);
        txn_destroy(txn);
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    }
    if ((rc = db_txn_catalog(txn)) < 0) {
        rc = db_err_txn(txn, rc);
        pager_end(txn->pt);
        write_slot_give(txn);
        txn_destroy(txn);
        return rc;
    }
    if (write && txn->cat->text_encoding > 1 && ptxn_npages(txn->pt) > 0) {
        catalog_unref(txn->cat);
        pager_end(txn->pt);
        write_slot_give(txn);
        txn_destroy(txn);
        return db_err(db, FOLIO_UNSUPPORTED,
                      "writing UTF-16 databases is not supported (the file is read-only to folio)");
    }
    if (write && ptxn_header(txn->pt)->autovacuum_root) {
        catalog_unref(txn->cat);
        pager_end(txn->pt);
        write_slot_give(txn);
        txn_destroy(txn);
        return db_err(db, FOLIO_UNSUPPORTED,
                      "writing auto-vacuum databases is not supported (pointer maps)");
    }
    /* (a plain writer always reads the newest commit: it holds the lock) */
    txn->read_committed = read_committed && (conc || !write);
    /* Serializable: from here on, what the cursors read is recorded. */
    if (flags & FOLIO_TXN_SERIALIZABLE)
        ptxn_set_track_reads(txn->pt, 1);
    *out = txn;
    return FOLIO_OK;
}

/* A concurrent transaction's commit (concurrent.c): its change log replayed
 * in a plain write transaction on the newest database, which commits. */
static int conc_commit(folio_txn *txn, uint64_t *version, char *err, size_t errlen)
{
    size_t n;
    const uint8_t *log = ptxn_log(txn->pt, &n);
    ptxn *own = txn->pt;
    if (n == 0) {
        pager_end(own);
        return 0;
    }
    ptxn *w;
    int rc = pager_begin(&w, txn->db->pager, 1, txn->db->opts.busy_timeout_ms, err, errlen);
    if (rc < 0) {
        pager_end(own);
        return rc;
    }
    txn->pt = w;
    rc = conc_apply(txn, log, n, err, errlen);
    /* Its own snapshot and pages go before the commit waits for a sync: a
     * group sync waits for live concurrent transactions, not this one. */
    pager_end(own);
    if (rc < 0)
        pager_end(w);
    else
        rc = pager_commit_v(w, version, err, errlen);
    txn->pt = NULL;
    return rc;
}

/* Cursors and write state pin pages: release them before the pager ends
 * the transaction. */
static void txn_release(folio_txn *txn)
{
    while (txn->cursors)
        folio_cursor_close(txn->cursors);
    db_codecs_free(txn);
    table_states_stash(txn);
}

static void txn_free(folio_txn *txn)
{
    write_slot_give(txn);
    trig_txn_free(txn);
    catalog_unref(txn->cat);
    txn->cat = NULL;
    for (int i = 0; i < txn->noldcats; i++)
        catalog_unref(txn->oldcats[i]);
    os_free(txn->oldcats);
    txn->oldcats = NULL;
    txn->noldcats = 0;
    /* Kept for the handle's next transaction, table handles and all. */
    folio_db *db = txn->db;
    pthread_mutex_lock(&db->mu);
    if (!db->spare_txn) {
        db->spare_txn = txn;
        txn = NULL;
    }
    pthread_mutex_unlock(&db->mu);
    txn_destroy(txn);
}

int db_txn_expired(folio_txn *txn)
{
    os_vfs *vfs = os_vfs_current();
    if (!txn->deadline_ms || vfs->now_ms(vfs) < txn->deadline_ms)
        return 0;
    return db_err(txn->db, FOLIO_TIMEOUT,
                  "the transaction ran past txn_timeout_ms (%u ms): roll it back",
                  txn->db->opts.txn_timeout_ms);
}

int folio_commit(folio_txn *txn)
{
    if (!txn)
        return FOLIO_MISUSE;
    folio_db *db = txn->db;
    if (txn->deadline_ms && db_txn_expired(txn) < 0) {
        /* Too late: rolled back, as SQLite's statements past a timeout are. */
        char msg[256];
        snprintf(msg, sizeof msg, "%s", folio_errmsg(db));
        folio_rollback(txn);
        return db_err(db, FOLIO_TIMEOUT, "%s (it was rolled back)", msg);
    }
    if (txn->write && !txn->poisoned && txn->fk_deferred > 0) {
        /* Deferred foreign keys still violated: as SQLite's COMMIT fails
         * (folio then rolls back, as the call's contract says). */
        fk_commit_check(txn);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", folio_errmsg(db));
        folio_rollback(txn);
        return db_err(db, FOLIO_CONSTRAINT, "%s", msg);
    }
    char err[512] = "";
    int rc = 0;
    uint64_t version = 0;
    /* Deferred index entries go in before the commit (a failure poisons;
     * the commit then fails with that failure's code). */
    int flush_rc = 0;
    if (txn->write && !txn->poisoned && (flush_rc = write_flush(txn, NULL)) < 0)
        snprintf(err, sizeof err, "%s", folio_errmsg(db));
    txn_release(txn);
    if (txn->write && txn->poisoned) {
        pager_end(txn->pt);
        rc = flush_rc < 0 ? flush_rc : txn->rb_msg[0] ? FOLIO_CONSTRAINT : FOLIO_ERROR;
        if (txn->rb_msg[0])
            snprintf(err, sizeof err, "%s: the transaction was rolled back (RAISE(ROLLBACK))",
                     txn->rb_msg);
        else if (!err[0])
            snprintf(err, sizeof err,
                     "an earlier failure could not be undone: the transaction was rolled back");
        else
            snprintf(err + strlen(err), sizeof err - strlen(err),
                     "; the transaction was rolled back");
    } else if (txn->conc) {
        db_log_committing(txn);
        rc = conc_commit(txn, &version, err, sizeof err);
        db_log_committing(NULL);
    } else if (txn->write) {
        db_log_committing(txn);
        rc = pager_commit_v(txn->pt, &version, err, sizeof err);
        db_log_committing(NULL);
        if (rc == 0 && txn->schema_changed) {
            pthread_mutex_lock(&db->mu);
            catalog_unref(db->cat);
            db->cat = txn->cat;
            __atomic_add_fetch(&txn->cat->refs, 1, __ATOMIC_ACQ_REL);
            pthread_mutex_unlock(&db->mu);
        }
    } else {
        pager_end(txn->pt);
    }
    txn->pt = NULL;
    txn_free(txn);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    if (version) {
        db_version_committed(db, version);
        db_log_after_commit(db);
    }
    return FOLIO_OK;
}

int folio_rollback(folio_txn *txn)
{
    if (!txn)
        return FOLIO_MISUSE;
    txn_release(txn);
    pager_end(txn->pt);
    txn->pt = NULL;
    txn_free(txn);
    return FOLIO_OK;
}

/* ---- tables ---- */

int folio_table_open(folio_table **out, folio_txn *txn, const char *name)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(txn->db, out != NULL);
    *out = NULL;
    FOLIO_CHECK_ARG(txn->db, name != NULL);
    db_table *tab = catalog_find_table(txn->cat, name);
    if (!tab)
        return db_err(txn->db, FOLIO_NOTFOUND_ERR, "no such table: %s", name);
    if (!tab->parsed)
        return db_err(txn->db, FOLIO_UNSUPPORTED, "table %s cannot be read: %s", tab->name,
                      tab->unsupported ? tab->unsupported
                                       : (tab->parse_error ? tab->parse_error : "unknown"));
    for (int i = 0; i < txn->ntables; i++) {
        if (txn->tables[i]->tab == tab) {
            *out = txn->tables[i];
            return FOLIO_OK;
        }
    }
    if (txn->ntables == txn->tables_cap) {
        int n = txn->tables_cap ? txn->tables_cap * 2 : 8;
        folio_table **v = os_realloc(txn->tables, sizeof *v * (size_t)n);
        if (!v)
            return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        txn->tables = v;
        txn->tables_cap = n;
    }
    folio_table *t;
    if (txn->ntables < txn->tables_alloc) {
        t = txn->tables[txn->ntables];
        memset(t, 0, sizeof *t);
    } else {
        if (!(t = os_calloc(1, sizeof *t)))
            return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        txn->tables_alloc++;
    }
    t->txn = txn;
    t->tab = tab;
    txn->tables[txn->ntables++] = t;
    *out = t;
    return FOLIO_OK;
}

int folio_table_ncols(const folio_table *t)
{
    return t ? t->tab->def.ncols : FOLIO_MISUSE;
}

const char *folio_table_colname(const folio_table *t, int col)
{
    if (!t || col < 0 || col >= t->tab->def.ncols)
        return NULL;
    return t->tab->def.cols[col].name;
}

int folio_table_without_rowid(const folio_table *t)
{
    return t ? t->tab->def.without_rowid : FOLIO_MISUSE;
}

/* ---- inspection ---- */

int folio_schema_count(folio_txn *txn)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    return txn->cat->nentries;
}

int folio_schema_get(folio_schema_entry *out, folio_txn *txn, int i)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(txn->db, out != NULL);
    if (i < 0 || i >= txn->cat->nentries)
        return db_err(txn->db, FOLIO_MISUSE, "schema entry %d out of range (0..%d)", i,
                      txn->cat->nentries - 1);
    *out = txn->cat->entries[i];
    return FOLIO_OK;
}

int folio_info_get(folio_info *out, folio_txn *txn)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(txn->db, out != NULL);
    const fmt_dbheader *h = ptxn_header(txn->pt);
    pager *p = txn->db->pager;
    memset(out, 0, sizeof *out);
    out->page_size = pager_page_size(p);
    out->page_count = ptxn_npages(txn->pt);
    out->freelist_pages = h->freelist_count;
    out->freelist_trunk = h->freelist_trunk;
    out->change_counter = h->change_counter;
    out->schema_cookie = h->schema_cookie;
    out->schema_format = h->schema_format;
    out->text_encoding = h->text_encoding ? h->text_encoding : 1;
    out->user_version = h->user_version;
    out->application_id = h->application_id;
    out->reserved_bytes = h->reserved;
    out->autovacuum = h->autovacuum_root;
    out->incremental_vacuum = h->incremental_vacuum;
    out->write_version = h->write_version;
    out->read_version = h->read_version;
    out->sqlite_version = h->sqlite_version;
    out->file_bytes = pager_file_bytes(p);
    out->wal_bytes = pager_wal_bytes(p);
    out->wal_frames = pager_wal_frames(p);
    out->wal_checkpoint_seq = pager_wal_ckpt_seq(p);
    out->wal_backfilled = pager_wal_backfilled(p);
    pager_ckpt_note(p, txn->ckpt_note, sizeof txn->ckpt_note);
    out->checkpoint_note = txn->ckpt_note;
    wal_state ws;
    pager_wal_state(p, &ws);
    for (int i = 0; i < 5; i++)
        out->read_marks[i] = ws.marks[i];
    for (int i = 0; i < WIDX_NREADERS; i++)
        if (ws.holders[WIDX_READ(i)][0])
            out->read_locks |= 1u << i;
    snprintf(txn->write_holder, sizeof txn->write_holder, "%s", ws.holders[WIDX_WRITE]);
    snprintf(txn->ckpt_holder, sizeof txn->ckpt_holder, "%s", ws.holders[WIDX_CKPT]);
    out->write_holder = txn->write_holder;
    out->ckpt_holder = txn->ckpt_holder;
    return FOLIO_OK;
}

int folio_stats(folio_txn *txn, int (*cb)(void *arg, const folio_btree_stats *s), void *arg)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(txn->db, cb != NULL);
    int rc = write_flush(txn, NULL);
    if (rc < 0)
        return rc;
    ptxn_clear_error(txn->pt);
    rc = db_stats(txn, cb, arg);
    if (rc < 0)
        return db_err_txn(txn, rc);
    return FOLIO_OK;
}

int folio_check(folio_txn *txn, int (*cb)(void *arg, const char *msg), void *arg, int max_errors)
{
    return folio_check_ex(txn, FOLIO_CHECK_FULL, cb, arg, max_errors);
}

int folio_check_ex(folio_txn *txn, int level, int (*cb)(void *arg, const char *msg), void *arg,
                   int max_errors)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(txn->db, cb != NULL);
    FOLIO_CHECK_ARG(txn->db, level == FOLIO_CHECK_FULL || level == FOLIO_CHECK_QUICK);
    int rc = write_flush(txn, NULL);
    if (rc < 0)
        return rc;
    ptxn_clear_error(txn->pt);
    rc = db_check(txn, level == FOLIO_CHECK_QUICK, cb, arg, max_errors > 0 ? max_errors : 100);
    if (rc == FOLIO_CORRUPT)
        return db_err(txn->db, rc, "integrity check found problems");
    if (rc < 0)
        return db_err_txn(txn, rc);
    return FOLIO_OK;
}

int folio_checkpoint(folio_db *db, int mode, int *out_log, int *out_done)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, mode >= FOLIO_CHECKPOINT_PASSIVE && mode <= FOLIO_CHECKPOINT_TRUNCATE);
    char err[512] = "";
    int rc = pager_checkpoint(db->pager, mode, out_log, out_done, err, sizeof err);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    if (err[0])
        db_err(db, FOLIO_OK, "%s", err);
    return FOLIO_OK;
}
