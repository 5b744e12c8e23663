/*
 * feed_schema.c - the change feed's schema: the "shadow" database (the
 * source's schema and no rows) that DDL statements run on in their place
 * among the changes, the table each statement names, and the bases the
 * feed starts from (restored into the feed's directory; fed as a snapshot
 * when the feed begins before them or resyncs after a gap). See feed.c.
 */
#include "db/feed_int.h"

#include "base/status.h"
#include "schema/lex.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- files of the feed's directory ---- */

static void remove_db_files(const char *path)
{
    os_vfs *vfs = os_vfs_current();
    char p[4200];
    vfs->remove(vfs, path);
    snprintf(p, sizeof p, "%s-wal", path);
    vfs->remove(vfs, p);
    snprintf(p, sizeof p, "%s-shm", path);
    vfs->remove(vfs, p);
    snprintf(p, sizeof p, "%s-restore", path);
    vfs->remove(vfs, p);
}

static int make_tmp(folio_feed *f)
{
    if (f->tmp[0])
        return 0;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(f->tmp, sizeof f->tmp, "%s/folio-feed-XXXXXX", base);
    if (!mkdtemp(f->tmp)) {
        char why[4200];
        snprintf(why, sizeof why, "%s", f->tmp);
        f->tmp[0] = 0;
        return feed_fail(f, FOLIO_CANTOPEN, "cannot make a temporary directory %s", why);
    }
    return 0;
}

/* ---- the shadow ---- */

void feed_shadow_close(folio_feed *f)
{
    if (f->stx)
        folio_rollback(f->stx);
    f->stx = NULL;
    if (f->sdb)
        folio_close(f->sdb);
    f->sdb = NULL;
    if (f->tmp[0]) {
        char p[4200];
        snprintf(p, sizeof p, "%s/shadow-%u.db", f->tmp, f->nshadow);
        remove_db_files(p);
    }
}

/* The shadow's message for its failure `rc`, as the feed's error. */
static int shadow_fail(folio_feed *f, int rc, const char *what)
{
    const char *m = f->sdb ? folio_errmsg(f->sdb) : folio_open_errmsg();
    if (rc == FOLIO_NOMEM)
        return feed_nomem(f);
    return feed_fail(f, rc, "%s: %s", what, m && *m ? m : folio_strerror(rc));
}

static int shadow_read(folio_feed *f)
{
    int rc = folio_begin(&f->stx, f->sdb, FOLIO_TXN_READ);
    if (rc < 0) {
        f->stx = NULL;
        return shadow_fail(f, rc, "the feed's schema");
    }
    return 0;
}

/* A fresh, empty shadow. */
static int shadow_new(folio_feed *f)
{
    feed_shadow_close(f);
    f->nshadow++;
    char p[4200];
    snprintf(p, sizeof p, "%s/shadow-%u.db", f->tmp, f->nshadow);
    remove_db_files(p);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags |= FOLIO_OPEN_INLINE_CHECKPOINT; /* (no thread of its own) */
    o.sync = FOLIO_SYNC_OFF;
    o.mmap_bytes = 0;
    o.cache_bytes = (size_t)4 << 20;
    int rc = folio_open(&f->sdb, p, &o);
    if (rc < 0) {
        f->sdb = NULL;
        return shadow_fail(f, rc, "the feed's schema");
    }
    return 0;
}

/* Run statements on the shadow in one transaction. `strict`: a statement
 * that fails is an error (else it is passed over, and a table that could
 * not be made is remembered as broken). */
int feed_shadow_run(folio_feed *f, const fd_stmt *v, int n, int strict, uint64_t version)
{
    if (f->stx) {
        folio_rollback(f->stx);
        f->stx = NULL;
    }
    folio_txn *w;
    int rc = folio_begin(&w, f->sdb, FOLIO_TXN_WRITE);
    if (rc < 0)
        return shadow_fail(f, rc, "the feed's schema");
    for (int i = 0; i < n; i++) {
        if ((rc = folio_exec(w, v[i].sql)) >= 0)
            continue;
        if (strict || rc == FOLIO_NOMEM) {
            char what[600];
            snprintf(what, sizeof what, "version %" PRIu64 ": the feed cannot follow \"%.400s\"",
                     version, v[i].sql);
            rc = shadow_fail(f, rc, what);
            folio_rollback(w);
            return rc;
        }
        if (v[i].table && strncmp(v[i].sql, "CREATE TABLE", 12) == 0 &&
            feed_push_str(&f->broken, &f->nbroken, v[i].table) < 0) {
            folio_rollback(w);
            return feed_nomem(f);
        }
    }
    if ((rc = folio_commit(w)) < 0)
        return shadow_fail(f, rc, "the feed's schema");
    return shadow_read(f);
}

/* ---- DDL text ---- */

static int kw(const lx_token *t, const char *w)
{
    size_t n = strlen(w);
    if (t->type != LX_ID || t->n != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t->z[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != w[i])
            return 0;
    }
    return 1;
}

/* The name a token spells (quotes taken off), freshly allocated; NULL when
 * it is no name, or out of memory (*nomem set). */
static char *tok_name(const lx_token *t, int *nomem)
{
    if (t->type != LX_ID && t->type != LX_QID && t->type != LX_STRING)
        return NULL;
    if (t->type != LX_ID && t->n < 2)
        return NULL;
    char *s = os_malloc(t->n + 1);
    if (!s) {
        *nomem = 1;
        return NULL;
    }
    if (t->type == LX_ID) {
        memcpy(s, t->z, t->n);
        s[t->n] = 0;
        return s;
    }
    char q = t->z[0] == '[' ? ']' : t->z[0];
    size_t k = 0;
    for (size_t i = 1; i + 1 < t->n; i++) {
        s[k++] = t->z[i];
        if (t->z[i] == q && q != ']' && i + 2 < t->n && t->z[i + 1] == q)
            i++;
    }
    s[k] = 0;
    return s;
}

/* The name at tk[*i] ("schema.name" taken as name), *i moved past it. */
static char *take_name(const lx_token *tk, size_t nt, size_t *i, int *nomem)
{
    if (*i + 2 < nt && tk[*i + 1].type == LX_DOT)
        *i += 2;
    if (*i >= nt)
        return NULL;
    return tok_name(&tk[(*i)++], nomem);
}

/* The table a statement names, and for RENAME TO the old and new names.
 * DROP INDEX and DROP TRIGGER name theirs through the shadow's schema. */
int feed_ddl_names(folio_feed *f, fd_ddl *d)
{
    lx_token *tk = NULL;
    size_t nt = 0, i = 0;
    char err[128];
    if (lx_tokenize(d->sql, strlen(d->sql), &tk, &nt, err, sizeof err) < 0)
        return strstr(err, "memory") ? FOLIO_NOMEM : 0;
    char *name = NULL;
    int rc = 0, nomem = 0;
    if (kw(&tk[i], "CREATE")) {
        i++;
        if (kw(&tk[i], "TEMP") || kw(&tk[i], "TEMPORARY"))
            i++;
        if (kw(&tk[i], "UNIQUE"))
            i++;
        int is_table = kw(&tk[i], "TABLE"), is_index = kw(&tk[i], "INDEX");
        int is_trigger = kw(&tk[i], "TRIGGER");
        if (is_table || is_index || is_trigger) {
            i++;
            if (kw(&tk[i], "IF") && i + 2 < nt && kw(&tk[i + 1], "NOT"))
                i += 3;
            name = take_name(tk, nt, &i, &nomem);
            if (is_table) {
                d->table = name;
                name = NULL;
            } else {
                /* ... ON table */
                int depth = 0;
                for (; i < nt && tk[i].type != LX_EOF; i++) {
                    depth += tk[i].type == LX_LP ? 1 : tk[i].type == LX_RP ? -1 : 0;
                    if (depth == 0 && kw(&tk[i], "ON")) {
                        i++;
                        d->table = take_name(tk, nt, &i, &nomem);
                        break;
                    }
                }
            }
        }
    } else if (kw(&tk[i], "ALTER") && kw(&tk[i + 1], "TABLE")) {
        i += 2;
        d->table = take_name(tk, nt, &i, &nomem);
        if (d->table && kw(&tk[i], "RENAME") && kw(&tk[i + 1], "TO")) {
            i += 2;
            d->ren_to = take_name(tk, nt, &i, &nomem);
            if (d->ren_to && !(d->ren_from = feed_dup_s(d->table)))
                rc = FOLIO_NOMEM;
        }
    } else if (kw(&tk[i], "DROP")) {
        i++;
        int is_table = kw(&tk[i], "TABLE");
        int is_other = kw(&tk[i], "INDEX") || kw(&tk[i], "TRIGGER");
        if (is_table || is_other) {
            i++;
            if (kw(&tk[i], "IF") && kw(&tk[i + 1], "EXISTS"))
                i += 2;
            name = take_name(tk, nt, &i, &nomem);
            if (is_table) {
                d->table = name;
                name = NULL;
            } else if (name && f->stx) {
                db_catalog *cat = f->stx->cat;
                for (int k = 0; k < cat->nentries; k++) {
                    const folio_schema_entry *e = &cat->entries[k];
                    if (e->name && e->tbl_name && sch_ident_eq(e->name, name) &&
                        strcmp(e->type, "table") != 0) {
                        if (!(d->table = feed_dup_s(e->tbl_name)))
                            rc = FOLIO_NOMEM;
                        break;
                    }
                }
            }
        }
    }
    os_free(name);
    os_free(tk);
    return nomem ? FOLIO_NOMEM : rc;
}

/* Run DDL statement d on the shadow, noting which tables it changed or
 * removed (before: the definitions they had). */
int feed_ddl_run(folio_feed *f, fd_ddl *d, uint64_t version)
{
    d->done = 1;
    /* (named again: DROP INDEX finds its table in the schema as it is now) */
    os_free(d->table);
    os_free(d->ren_from);
    os_free(d->ren_to);
    d->table = d->ren_from = d->ren_to = NULL;
    if (feed_ddl_names(f, d) < 0)
        return feed_nomem(f);
    /* The tables and their definitions before it. */
    db_catalog *cat = f->stx->cat;
    int n = cat->ntables;
    char **names = os_calloc((size_t)n + 1, sizeof *names);
    char **sqls = os_calloc((size_t)n + 1, sizeof *sqls);
    int rc = names && sqls ? 0 : FOLIO_NOMEM;
    for (int i = 0; i < n && rc == 0; i++) {
        names[i] = feed_dup_s(cat->tables[i]->name);
        sqls[i] = cat->tables[i]->sql ? feed_dup_s(cat->tables[i]->sql) : feed_dup_s("");
        if (!names[i] || !sqls[i])
            rc = FOLIO_NOMEM;
    }
    if (rc < 0) {
        feed_free_strv(names, n);
        feed_free_strv(sqls, n);
        return feed_nomem(f);
    }
    fd_stmt s = {d->sql, d->table};
    if ((rc = feed_shadow_run(f, &s, 1, 1, version)) == 0) {
        cat = f->stx->cat;
        for (int i = 0; i < n && rc == 0; i++) {
            db_table *t = catalog_find_table(cat, names[i]);
            if ((!t || strcmp(t->sql ? t->sql : "", sqls[i]) != 0) &&
                feed_push_str(&d->gone, &d->ngone, names[i]) < 0)
                rc = feed_nomem(f);
        }
    }
    feed_free_strv(names, n);
    feed_free_strv(sqls, n);
    return rc;
}

/* ---- bases ---- */

void feed_snap_free(folio_feed *f)
{
    if (f->bcur)
        folio_cursor_close(f->bcur);
    f->bcur = NULL;
    f->btab = NULL;
    if (f->btx)
        folio_rollback(f->btx);
    f->btx = NULL;
    if (f->bdb)
        folio_close(f->bdb);
    f->bdb = NULL;
    for (int i = 0; i < f->nsnap; i++) {
        os_free(f->snap[i].sql);
        os_free(f->snap[i].table);
    }
    os_free(f->snap);
    f->snap = NULL;
    f->nsnap = f->snap_i = 0;
    feed_free_strv(f->snap_tabs, f->nsnap_tabs);
    f->snap_tabs = NULL;
    f->nsnap_tabs = f->snap_t = 0;
    if (f->tmp[0]) {
        char p[4200];
        snprintf(p, sizeof p, "%s/base.db", f->tmp);
        remove_db_files(p);
    }
}

static int add_stmt(fd_stmt **v, int *n, const char *sql, const char *table)
{
    fd_stmt *nv = os_realloc(*v, sizeof *nv * (size_t)(*n + 1));
    if (!nv)
        return FOLIO_NOMEM;
    *v = nv;
    nv[*n].sql = feed_dup_s(sql);
    nv[*n].table = feed_dup_s(table);
    if (!nv[*n].sql || (table && !nv[*n].table)) {
        os_free(nv[*n].sql);
        os_free(nv[*n].table);
        return FOLIO_NOMEM;
    }
    (*n)++;
    return 0;
}

/* The base of version `version`: the shadow made from its schema, and
 * with `snapshot` its copy kept open to be fed. */
int feed_from_base(folio_feed *f, uint64_t version, int snapshot)
{
    feed_snap_free(f);
    int rc = make_tmp(f);
    if (rc < 0)
        return rc;
    char path[4200];
    snprintf(path, sizeof path, "%s/base.db", f->tmp);
    remove_db_files(path);
    /* Its time, from its header. */
    char bpath[4200], err[1200] = "";
    snprintf(bpath, sizeof bpath, "%s/%020" PRIu64 ".base", f->dir, version);
    clog_base_reader *b;
    clog_base_hdr bh;
    if ((rc = clog_base_open(&b, bpath, &f->m, &bh, err, sizeof err)) < 0)
        return feed_fail(f, rc, "%s", err);
    clog_base_close(b);
    if ((rc = folio_restore(f->dir, path, version, -1, NULL)) < 0)
        return rc == FOLIO_NOMEM ? feed_nomem(f) : feed_fail(f, rc, "%s", folio_open_errmsg());
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    o.mmap_bytes = 0;
    if ((rc = folio_open(&f->bdb, path, &o)) < 0) {
        f->bdb = NULL;
        return rc == FOLIO_NOMEM ? feed_nomem(f) : feed_fail(f, rc, "%s", folio_open_errmsg());
    }
    if ((rc = folio_begin(&f->btx, f->bdb, FOLIO_TXN_READ)) < 0) {
        f->btx = NULL;
        return rc == FOLIO_NOMEM ? feed_nomem(f) : feed_fail(f, rc, "%s", folio_errmsg(f->bdb));
    }
    /* Its statements: tables, indexes, views, triggers (SQLite's own
     * tables and automatic indexes have none to run). */
    static const char *const order[] = {"table", "index", "view", "trigger"};
    int n = folio_schema_count(f->btx);
    for (int k = 0; k < 4 && rc >= 0; k++) {
        for (int i = 0; i < n && rc >= 0; i++) {
            folio_schema_entry e;
            if ((rc = folio_schema_get(&e, f->btx, i)) < 0)
                break;
            if (!e.type || strcmp(e.type, order[k]) != 0 || !e.sql || !e.name ||
                strncmp(e.name, "sqlite_", 7) == 0)
                continue;
            rc = add_stmt(&f->snap, &f->nsnap, e.sql, e.tbl_name);
            if (rc == 0 && k == 0 && e.rootpage)
                rc = feed_push_str(&f->snap_tabs, &f->nsnap_tabs, e.name);
        }
    }
    if (rc >= 0 && catalog_find_table(f->btx->cat, "sqlite_sequence"))
        rc = feed_push_str(&f->snap_tabs, &f->nsnap_tabs, "sqlite_sequence");
    if (rc < 0)
        return rc == FOLIO_NOMEM ? feed_nomem(f) : feed_fail(f, rc, "%s", folio_errmsg(f->bdb));
    /* The shadow: those statements on an empty database (views it cannot
     * make carry no rows; a table it cannot make is remembered). */
    feed_free_strv(f->broken, f->nbroken);
    f->broken = NULL;
    f->nbroken = 0;
    if ((rc = shadow_new(f)) < 0)
        return rc;
    fd_stmt *ddl = os_calloc((size_t)f->nsnap + 1, sizeof *ddl);
    if (!ddl)
        return feed_nomem(f);
    int nd = 0;
    for (int i = 0; i < f->nsnap; i++)
        if (strncmp(f->snap[i].sql, "CREATE VIEW", 11) != 0 &&
            strncmp(f->snap[i].sql, "CREATE VIRTUAL", 14) != 0)
            ddl[nd++] = f->snap[i];
    rc = feed_shadow_run(f, ddl, nd, 0, version);
    os_free(ddl);
    if (rc < 0)
        return rc;
    f->at = version;
    f->snap_version = version;
    f->snap_time = bh.time_us;
    if (snapshot)
        f->phase = PH_SNAP_BEGIN;
    else
        feed_snap_free(f);
    return 0;
}

/* The bases of the log, in version order. */
int feed_list_bases(folio_feed *f, uint64_t **out, int *out_n)
{
    clog_file *files;
    int n;
    char err[1200];
    *out = NULL;
    *out_n = 0;
    int rc = clog_list(f->dir, &files, &n, err, sizeof err);
    if (rc < 0)
        return rc == FOLIO_NOMEM ? feed_nomem(f) : feed_fail(f, rc, "%s", err);
    uint64_t *v = os_malloc(sizeof *v * (size_t)(n + 1));
    if (!v) {
        clog_list_free(files, n);
        return feed_nomem(f);
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (files[i].is_base)
            v[k++] = files[i].version;
    clog_list_free(files, n);
    *out = v;
    *out_n = k;
    return 0;
}

/* Versions first..last are not in the log (a GAP, or missing): go on from
 * the first base after them. */
int feed_after_gap(folio_feed *f, uint64_t first, uint64_t last)
{
    uint64_t *bases;
    int n;
    int rc = feed_list_bases(f, &bases, &n);
    if (rc < 0)
        return rc;
    uint64_t b = 0;
    int found = 0;
    for (int i = 0; i < n && !found; i++)
        if (bases[i] >= last) {
            b = bases[i];
            found = 1;
        }
    os_free(bases);
    if (!found && (rc = folio_version(f->db, &f->db_version)) < 0)
        return feed_fail(f, rc, "%s", folio_errmsg(f->db));
    if (!found && last + 2 >= f->db_version) {
        /* The base after a gap is written once the commit after it is
         * done: at the tip of the log it may be on its way. */
        return 1;
    }
    if (!found)
        return feed_fail(f, FOLIO_NOTFOUND_ERR,
                         "%s: versions %" PRIu64 " to %" PRIu64
                         " happened without a record in the commit log, and no base follows "
                         "them: the feed cannot go past version %" PRIu64,
                         f->dir, first, last, f->at);
    return feed_from_base(f, b, b >= f->from);
}

/* ---- the snapshot ---- */

/* The next row of the snapshot's tables: 1 with f->ch set, 0 after the
 * last, or an error. */
int feed_snap_row(folio_feed *f)
{
    int rc;
    for (;;) {
        if (!f->bcur) {
            if (f->snap_t >= f->nsnap_tabs)
                return 0;
            const char *name = f->snap_tabs[f->snap_t++];
            if ((rc = folio_table_open(&f->btab, f->btx, name)) < 0)
                return feed_fail(f, rc, "%s", folio_errmsg(f->bdb));
            if ((rc = folio_cursor_open(&f->bcur, f->btab, NULL)) < 0) {
                f->bcur = NULL;
                return feed_fail(f, rc, "%s", folio_errmsg(f->bdb));
            }
            rc = folio_cursor_first(f->bcur);
        } else {
            rc = folio_cursor_next(f->bcur);
        }
        if (rc < 0)
            return feed_fail(f, rc, "%s", folio_errmsg(f->bdb));
        if (rc == FOLIO_DONE) {
            folio_cursor_close(f->bcur);
            f->bcur = NULL;
            continue;
        }
        db_table *tab = f->btab->tab;
        if ((rc = feed_set_table(f, tab, tab->name)) < 0)
            return rc;
        for (int c = 0; c < tab->def.ncols; c++)
            if ((rc = folio_cursor_column(&f->nv[c], f->bcur, c)) < 0)
                return feed_fail(f, rc, "%s", folio_errmsg(f->bdb));
        feed_key_of(f, tab, f->nv);
        f->ch.op = FOLIO_CHANGE_INSERT;
        f->ch.rowid = tab->def.without_rowid ? 0 : folio_cursor_rowid(f->bcur);
        f->ch.values = f->nv;
        return 1;
    }
}
