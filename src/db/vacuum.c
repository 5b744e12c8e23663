/*
 * vacuum.c - VACUUM and VACUUM INTO: the database rebuilt, packed, into a
 * new image.
 *
 * The new image is built from one snapshot of the database into a file of
 * its own, "<name>-vacuum" beside the database (in place) or beside DEST
 * (INTO), through a pager of its own:
 *
 *   - page 1 first: the source's header fields that VACUUM keeps (page
 *     size, reserved bytes, text encoding, schema format, default cache
 *     size, user_version, application_id), the schema cookie one higher so
 *     that every connection reads the schema again, no freelist;
 *   - then every b-tree named in sqlite_schema, in the order of its rows:
 *     a root page, then the entries in key order through the bottom-up
 *     builder (btree_build.c: every page but the last of a level full, each
 *     written once), so each tree lies in one run of pages after its root.
 *     Cells are copied as they are: rowids (of every table, with or without
 *     an INTEGER PRIMARY KEY) and records stay byte for byte;
 *   - last the sqlite_schema rows themselves, with their rowids, each with
 *     its tree's new root page, into page 1.
 *
 * VACUUM INTO: the image is committed, checkpointed into its file and
 * synced, its -wal removed, and only then is it renamed to DEST (which must
 * not exist), and DEST's directory synced. A crash leaves DEST complete or
 * absent; at worst a stale "<DEST>-vacuum" lies beside it, which the next
 * VACUUM INTO of that DEST removes.
 *
 * In place: the whole build runs inside one ordinary write transaction of
 * the handle (the source snapshot is that transaction's, and the WAL's
 * WRITE lock keeps other writers out meanwhile). Once the image is
 * complete, every one of its pages is written into that transaction
 * (pager_put_page, without reading the old images) and the database size
 * set to the image's (ptxn_set_npages); the commit then appends them to the
 * WAL as one transaction whose commit frame records the smaller size. So a
 * crash leaves the old database or the new one, never a mix, and readers on
 * older snapshots go on reading the old pages from the WAL and the file. A
 * passive checkpoint follows; when it copies everything (no reader needs
 * older pages) it cuts the file to the new size, otherwise a later
 * checkpoint does. The temporary image is then removed.
 */
#include "db/db_int.h"

#include <stdio.h>
#include <string.h>

typedef struct vac_row {
    int64_t rowid;
    uint8_t *rec;
    uint64_t size;
} vac_row;

typedef struct vacuum {
    folio_db *db;
    os_vfs *vfs;
    ptxn *src; /* the snapshot rebuilt */
    pager *tp; /* the new image's pager */
    ptxn *dst; /* its write transaction */
    char *tmp; /* the image's file */
    char err[512];
    vac_row *rows; /* sqlite_schema */
    int nrows, rows_cap;
    /* Progress, in pages. */
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *arg;
    uint64_t total;
    uint64_t reported;
} vacuum;

/* Keep the message of transaction `t`'s failure (the first one counts). */
static int vac_fail(vacuum *v, ptxn *t, int rc)
{
    if (!v->err[0]) {
        const char *m = t ? ptxn_errmsg(t) : "";
        snprintf(v->err, sizeof v->err, "%s", m[0] ? m : folio_strerror(rc));
    }
    return rc;
}

static int vac_errf(vacuum *v, int rc, const char *fmt, const char *arg)
{
    if (!v->err[0])
        snprintf(v->err, sizeof v->err, fmt, arg);
    return rc;
}

static void vac_report(vacuum *v, uint64_t done, int force)
{
    if (!v->progress)
        return;
    if (done > v->total)
        v->total = done;
    if (force || done >= v->reported + 256) {
        v->reported = done;
        v->progress(v->arg, done, v->total);
    }
}

static char *path_plus(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *s = os_malloc(a + b + 1);
    if (s) {
        memcpy(s, path, a);
        memcpy(s + a, suffix, b + 1);
    }
    return s;
}

/* Remove the image's file and the -wal and -shm of its pager. */
static int remove_image(os_vfs *vfs, const char *tmp)
{
    static const char *const suffixes[] = {"-wal", "-shm", ""};
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char *p = path_plus(tmp, suffixes[i]);
        if (!p)
            return FOLIO_NOMEM;
        int r = vfs->remove(vfs, p);
        if (r < 0 && rc == 0)
            rc = r;
        os_free(p);
    }
    return rc;
}

/* ---- the schema ---- */

static void rows_free(vacuum *v)
{
    for (int i = 0; i < v->nrows; i++)
        os_free(v->rows[i].rec);
    os_free(v->rows);
    v->rows = NULL;
    v->nrows = v->rows_cap = 0;
}

/* Every row of sqlite_schema (page 1's tree), copied. */
static int read_schema(vacuum *v)
{
    bt_cursor c;
    bt_cursor_init(&c, v->src, 1, 1);
    int rc = bt_first(&c);
    while (rc == FOLIO_ROW) {
        const uint8_t *p;
        uint64_t n;
        if ((rc = bt_payload(&c, &p, &n)) < 0)
            break;
        if (v->nrows == v->rows_cap) {
            int cap = v->rows_cap ? v->rows_cap * 2 : 32;
            vac_row *r = os_realloc(v->rows, sizeof *r * (size_t)cap);
            if (!r) {
                rc = vac_errf(v, FOLIO_NOMEM, "%s", "out of memory");
                break;
            }
            v->rows = r;
            v->rows_cap = cap;
        }
        vac_row *r = &v->rows[v->nrows];
        r->rowid = bt_rowid(&c);
        r->size = n;
        r->rec = os_malloc(n ? (size_t)n : 1);
        if (!r->rec) {
            rc = vac_errf(v, FOLIO_NOMEM, "%s", "out of memory");
            break;
        }
        memcpy(r->rec, p, (size_t)n);
        v->nrows++;
        rc = bt_next(&c);
    }
    bt_cursor_release(&c);
    if (rc < 0)
        return v->err[0] ? rc : vac_fail(v, v->src, rc);
    return 0;
}

#define SCHEMA_MAX_FIELDS 16

/* The fields of a sqlite_schema record (at most SCHEMA_MAX_FIELDS). */
static int schema_fields(const vac_row *r, fmt_value *vals, int *out_n)
{
    fmt_record rd;
    if (fmt_record_open(&rd, r->rec, r->size, r->size) != 0)
        return FOLIO_CORRUPT;
    int n = 0;
    uint64_t st, off;
    int k;
    while ((k = fmt_record_next(&rd, &st, &off)) == 1) {
        if (n == SCHEMA_MAX_FIELDS || fmt_serial_decode(st, r->rec + off, &vals[n]) != 0)
            return FOLIO_CORRUPT;
        n++;
    }
    if (k < 0 || n < 5)
        return FOLIO_CORRUPT;
    *out_n = n;
    return 0;
}

/* ---- the image ---- */

/* Page 1 of the image: the header VACUUM keeps and an empty sqlite_schema. */
static int format_image(vacuum *v, const fmt_dbheader *sh)
{
    pg *one;
    int rc = pager_alloc(&one, v->dst);
    if (rc < 0)
        return vac_fail(v, v->dst, rc);
    if (one->pgno != 1) {
        pager_unref(one);
        return vac_errf(v, FOLIO_ERROR, "%s", "internal: the image's first page is not page 1");
    }
    fmt_dbheader h;
    memset(&h, 0, sizeof h);
    h.page_size = pager_page_size(v->tp);
    h.write_version = h.read_version = FMT_DBHDR_WAL_VERSION;
    h.reserved = sh->reserved;
    h.max_payload_frac = 64;
    h.min_payload_frac = 32;
    h.leaf_payload_frac = 32;
    h.page_count = 1;
    h.schema_cookie = sh->schema_cookie + 1;
    h.schema_format = sh->schema_format ? sh->schema_format : 4;
    h.default_cache_size = sh->default_cache_size;
    h.text_encoding = sh->text_encoding ? sh->text_encoding : 1;
    h.user_version = sh->user_version;
    h.application_id = sh->application_id;
    ptxn_header_update(v->dst, &h);
    fmt_dbheader_encode(one->data, &h);
    uint32_t usable = h.page_size - h.reserved;
    uint8_t *p = one->data + FMT_DBHEADER_SIZE;
    p[0] = FMT_PAGE_TABLE_LEAF;
    fmt_put_u16(p + 1, 0);
    fmt_put_u16(p + 3, 0);
    fmt_put_u16(p + 5, usable == 65536 ? 0 : usable);
    p[7] = 0;
    rc = pager_init_file(v->dst, one->data);
    pager_unref(one);
    return rc < 0 ? vac_fail(v, v->dst, rc) : 0;
}

/* Copy the tree rooted at `root` of the source into a new tree of the
 * image; *out_root its root. */
static int copy_tree(vacuum *v, uint32_t root, uint32_t *out_root)
{
    if (root < 2 || root > ptxn_npages(v->src)) {
        snprintf(v->err, sizeof v->err, "page %u: a root page out of range in sqlite_schema",
                 (unsigned)root);
        return FOLIO_CORRUPT;
    }
    pg *rp;
    fmt_page ph;
    int rc = bt_load_page(v->src, root, &rp, &ph);
    if (rc < 0)
        return vac_fail(v, v->src, rc);
    int intkey = ph.is_table;
    pager_unref(rp);
    if ((rc = bt_create(v->dst, intkey, out_root)) < 0)
        return vac_fail(v, v->dst, rc);
    bt_builder *b;
    if ((rc = bt_builder_open(&b, v->dst, *out_root, intkey)) < 0)
        return vac_fail(v, v->dst, rc);
    bt_cursor c;
    bt_cursor_init(&c, v->src, root, intkey);
    ptxn *failed = v->src;
    rc = bt_first(&c);
    while (rc == FOLIO_ROW) {
        const uint8_t *p;
        uint64_t n;
        if ((rc = bt_payload(&c, &p, &n)) < 0)
            break;
        rc = intkey ? bt_builder_add_row(b, bt_rowid(&c), p, n) : bt_builder_add_key(b, p, n);
        if (rc < 0) {
            failed = v->dst;
            break;
        }
        vac_report(v, ptxn_npages(v->dst), 0);
        rc = bt_next(&c);
    }
    bt_cursor_release(&c);
    if (rc >= 0 && (rc = bt_builder_finish(b)) < 0)
        failed = v->dst;
    bt_builder_free(b);
    return rc < 0 ? vac_fail(v, failed, rc) : 0;
}

/* Every tree, then sqlite_schema with the new roots. */
static int build_image(vacuum *v)
{
    const fmt_dbheader *sh = ptxn_header(v->src);
    int rc = format_image(v, sh);
    if (rc < 0)
        return rc;
    int ff = (int)(sh->schema_format ? sh->schema_format : 4);
    fmt_value vals[SCHEMA_MAX_FIELDS];
    for (int i = 0; i < v->nrows; i++) {
        vac_row *r = &v->rows[i];
        int n;
        if (schema_fields(r, vals, &n) < 0) {
            snprintf(v->err, sizeof v->err, "page 1: malformed sqlite_schema record (rowid %lld)",
                     (long long)r->rowid);
            return FOLIO_CORRUPT;
        }
        if (vals[3].type != FMT_INTEGER || vals[3].u.i == 0)
            continue; /* a view, a trigger, a virtual table: no tree */
        if (vals[3].u.i < 0 || vals[3].u.i > UINT32_MAX) {
            snprintf(v->err, sizeof v->err, "page 1: root page %lld out of range in sqlite_schema",
                     (long long)vals[3].u.i);
            return FOLIO_CORRUPT;
        }
        uint32_t nroot;
        if ((rc = copy_tree(v, (uint32_t)vals[3].u.i, &nroot)) < 0)
            return rc;
        vals[3].u.i = nroot;
        uint64_t size = fmt_record_size(vals, n, ff);
        uint8_t *rec = os_malloc((size_t)size);
        if (!rec)
            return vac_errf(v, FOLIO_NOMEM, "%s", "out of memory");
        fmt_record_encode(rec, vals, n, ff);
        os_free(r->rec); /* vals pointed into it: done with them */
        r->rec = rec;
        r->size = size;
    }
    bt_cursor c;
    bt_cursor_init(&c, v->dst, 1, 1);
    for (int i = 0; i < v->nrows && rc >= 0; i++)
        rc = bt_insert_row(&c, v->rows[i].rowid, v->rows[i].rec, v->rows[i].size);
    bt_cursor_release(&c);
    return rc < 0 ? vac_fail(v, v->dst, rc) : 0;
}

/* Open the image's pager on a fresh file `tmp` and build the image from
 * v->src; committed when this returns 0. */
static int make_image(vacuum *v, int sync)
{
    int rc = remove_image(v->vfs, v->tmp); /* left by a crash */
    if (rc < 0)
        return vac_errf(v, rc, "cannot remove the stale temporary file %s", v->tmp);
    pager_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.create = 1;
    cfg.sync = sync;
    cfg.cache_bytes = 8u << 20;
    /* (A database with no pages yet gives an empty one of its page size.) */
    cfg.new_page_size =
        ptxn_npages(v->src) ? ptxn_header(v->src)->page_size : pager_page_size(v->db->pager);
    cfg.autocheckpoint = 0;
    cfg.inline_checkpoint = 1;
    char err[256] = "";
    if ((rc = pager_open(&v->tp, v->vfs, v->tmp, &cfg, err, sizeof err)) < 0) {
        v->tp = NULL;
        snprintf(v->err, sizeof v->err, "cannot create %s: %s", v->tmp,
                 err[0] ? err : folio_strerror(rc));
        return rc;
    }
    if ((rc = pager_begin(&v->dst, v->tp, 1, 0, err, sizeof err)) < 0) {
        v->dst = NULL;
        return vac_errf(v, rc, "%s", err[0] ? err : folio_strerror(rc));
    }
    if ((ptxn_npages(v->src) && (rc = read_schema(v)) < 0) || (rc = build_image(v)) < 0)
        return rc;
    rc = pager_commit(v->dst, err, sizeof err);
    v->dst = NULL;
    if (rc < 0)
        return vac_errf(v, rc, "%s", err[0] ? err : folio_strerror(rc));
    return 0;
}

/* Let go of the image's pager (its files stay). */
static void close_image(vacuum *v)
{
    if (v->dst)
        pager_end(v->dst);
    v->dst = NULL;
    if (v->tp)
        pager_close(v->tp, 0);
    v->tp = NULL;
}

/* ---- VACUUM INTO ---- */

static int vacuum_into(vacuum *v, const char *dest)
{
    folio_db *db = v->db;
    int rc = v->vfs->exists(v->vfs, dest);
    if (rc != 0)
        return db_err(db, rc < 0 ? rc : FOLIO_ERROR, "%s",
                      rc < 0 ? "cannot tell whether the output file exists"
                             : "output file already exists");
    if (!v->vfs->rename)
        return db_err(db, FOLIO_UNSUPPORTED, "VACUUM INTO needs a file system that can rename");
    if (!(v->tmp = path_plus(dest, "-vacuum")))
        return db_err(db, FOLIO_NOMEM, "out of memory");
    folio_txn *txn;
    if ((rc = folio_begin(&txn, db, FOLIO_TXN_READ)) < 0)
        return rc;
    v->src = txn->pt;
    const fmt_dbheader *sh = ptxn_header(v->src);
    if (ptxn_npages(v->src) && sh->autovacuum_root) {
        folio_rollback(txn);
        return db_err(db, FOLIO_UNSUPPORTED,
                      "VACUUM of auto-vacuum databases is not supported (pointer maps)");
    }
    v->total = (uint64_t)ptxn_npages(v->src) - sh->freelist_count;
    /* The image is made durable before it takes DEST's name, whatever the
     * handle's sync level: a crash must never leave a partial DEST. */
    rc = make_image(v, FOLIO_SYNC_NORMAL);
    folio_rollback(txn);
    v->src = NULL;
    if (rc >= 0) {
        /* The final checkpoint copies the image into its file and syncs
         * it; the -wal and -shm go with a clean close. */
        if (v->dst)
            pager_end(v->dst);
        v->dst = NULL;
        rc = pager_close(v->tp, 1);
        v->tp = NULL;
        char *walp = path_plus(v->tmp, "-wal");
        if (rc >= 0 && !walp)
            rc = FOLIO_NOMEM;
        if (rc >= 0 && v->vfs->exists(v->vfs, walp) != 0)
            rc = vac_errf(v, FOLIO_IOERR, "%s", "the new file could not be checkpointed");
        os_free(walp);
        if (rc < 0)
            vac_errf(v, rc, "cannot finish the new file: %s", folio_strerror(rc));
    }
    if (rc >= 0) {
        rc = v->vfs->rename(v->vfs, v->tmp, dest);
        if (rc == 1)
            rc = vac_errf(v, FOLIO_ERROR, "%s", "output file already exists");
        else if (rc < 0)
            vac_errf(v, rc, "cannot rename the new file to %s", dest);
        else if ((rc = v->vfs->sync_dir(v->vfs, dest)) < 0) {
            /* DEST may not last: it goes, so that the error leaves none. */
            vac_errf(v, rc, "cannot sync the directory of %s", dest);
            v->vfs->remove(v->vfs, dest);
        }
        if (rc >= 0)
            vac_report(v, v->total, 1);
    }
    close_image(v);
    if (rc < 0) {
        remove_image(v->vfs, v->tmp);
        return db_err(db, rc, "%s", v->err[0] ? v->err : folio_strerror(rc));
    }
    return FOLIO_OK;
}

/* ---- VACUUM in place ---- */

/* Write the committed image into the handle's write transaction `w`. */
static int image_into(vacuum *v, ptxn *w)
{
    char err[256] = "";
    ptxn *rt;
    int rc = pager_begin(&rt, v->tp, 0, 0, err, sizeof err);
    if (rc < 0)
        return vac_errf(v, rc, "%s", err[0] ? err : folio_strerror(rc));
    uint32_t n = ptxn_npages(rt);
    uint32_t lock_page = 0x40000000u / pager_page_size(v->tp) + 1;
    /* The build counted up to n pages; the copy counts n more. */
    uint64_t base = n;
    v->total = 2 * (uint64_t)n;
    if ((rc = ptxn_set_npages(w, n)) < 0)
        rc = vac_fail(v, w, rc);
    for (uint32_t pgno = 1; pgno <= n && rc >= 0; pgno++) {
        if (pgno == lock_page)
            continue; /* never used */
        pg *p;
        if ((rc = pager_get(&p, rt, pgno)) < 0) {
            rc = vac_fail(v, rt, rc);
            break;
        }
        if ((rc = pager_put_page(w, pgno, p->data)) < 0)
            rc = vac_fail(v, w, rc);
        pager_unref(p);
        vac_report(v, base + pgno, 0);
    }
    if (rc >= 0) {
        /* The image's header, but for the change counter, which goes on
         * from the database's (the commit moves it and the page count). */
        fmt_dbheader h = *ptxn_header(rt);
        h.change_counter = ptxn_header(w)->change_counter;
        h.page_count = n;
        ptxn_header_update(w, &h);
    }
    pager_end(rt);
    return rc;
}

static int vacuum_in_place(vacuum *v)
{
    folio_db *db = v->db;
    if (pager_writer_active(db->pager))
        return db_err(db, FOLIO_BUSY,
                      "cannot VACUUM from within a transaction (a write transaction of this "
                      "handle is open)");
    if (!(v->tmp = path_plus(pager_path(db->pager), "-vacuum")))
        return db_err(db, FOLIO_NOMEM, "out of memory");
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (rc < 0)
        return rc; /* read-only, busy, UTF-16, auto-vacuum: its message */
    v->src = txn->pt;
    if (ptxn_npages(v->src) == 0) {
        folio_rollback(txn);
        return FOLIO_OK; /* nothing to rebuild */
    }
    const fmt_dbheader *sh = ptxn_header(v->src);
    uint64_t used = (uint64_t)ptxn_npages(v->src) - sh->freelist_count;
    v->total = 2 * used;                /* the build, then the copy into the WAL */
    rc = make_image(v, FOLIO_SYNC_OFF); /* temporary: nothing to make durable */
    if (rc >= 0)
        rc = image_into(v, v->src);
    close_image(v);
    /* (One that cannot be removed now is removed by the next VACUUM.) */
    remove_image(v->vfs, v->tmp);
    v->src = NULL;
    if (rc < 0) {
        folio_rollback(txn);
        return db_err(db, rc, "%s", v->err[0] ? v->err : folio_strerror(rc));
    }
    if ((rc = folio_commit(txn)) < 0)
        return rc; /* its message; the database is as before */
    vac_report(v, v->total, 1);
    /* The file shrinks once a checkpoint has copied everything; readers on
     * older snapshots may hold that off until a later one. The VACUUM
     * stands whatever happens here. */
    char err[256];
    pager_checkpoint(db->pager, FOLIO_CHECKPOINT_PASSIVE, NULL, NULL, err, sizeof err);
    return FOLIO_OK;
}

int folio_vacuum_progress(folio_db *db, const char *dest,
                          void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, dest == NULL || dest[0] != 0);
    vacuum v;
    memset(&v, 0, sizeof v);
    v.db = db;
    v.vfs = os_vfs_current();
    v.progress = progress;
    v.arg = arg;
    int rc = dest ? vacuum_into(&v, dest) : vacuum_in_place(&v);
    rows_free(&v);
    os_free(v.tmp);
    return rc;
}

int folio_vacuum(folio_db *db, const char *dest)
{
    return folio_vacuum_progress(db, dest, NULL, NULL);
}
