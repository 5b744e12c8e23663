/*
 * schema_rows.c - rows of SQLite's own tables that folio writes:
 * sqlite_sequence (AUTOINCREMENT) and sqlite_schema.
 */
#include "db/write_int.h"

#include <string.h>

/* ---- AUTOINCREMENT: sqlite_sequence(name, seq) ---- */

static int seq_find(folio_txn *txn, db_table *seqtab, const char *name, bt_cursor *c,
                    int64_t *out_seq, int *found)
{
    int rc;
    *found = 0;
    bt_cursor_init(c, txn->pt, seqtab->root, 1);
    for (rc = bt_first(c); rc == FOLIO_ROW; rc = bt_next(c)) {
        const uint8_t *rec;
        uint64_t size;
        if ((rc = bt_payload(c, &rec, &size)) < 0)
            return rc;
        row_decoder rd = {0};
        if (row_decode(&rd, rec, size, size) < 0 || rd.nfields < 2) {
            row_decoder_free(&rd);
            continue;
        }
        fmt_value n, s;
        if (fmt_serial_decode(rd.st[0], rec + rd.off[0], &n) == 0 && n.type == FMT_TEXT &&
            n.u.s.n == strlen(name) &&
            sch_compare_text(n.u.s.p, (size_t)n.u.s.n, (const uint8_t *)name, strlen(name),
                             SCH_COLL_BINARY) == 0 &&
            fmt_serial_decode(rd.st[1], rec + rd.off[1], &s) == 0) {
            *out_seq = s.type == FMT_INTEGER ? s.u.i : 0;
            *found = 1;
            row_decoder_free(&rd);
            return 0;
        }
        row_decoder_free(&rd);
    }
    return rc < 0 ? rc : 0;
}

int autoinc_get(folio_txn *txn, db_table *tab, int64_t *out)
{
    *out = 0;
    db_table *seqtab = catalog_find_table(txn->cat, "sqlite_sequence");
    if (!seqtab)
        return 0;
    bt_cursor c;
    int found;
    int rc = seq_find(txn, seqtab, tab->name, &c, out, &found);
    bt_cursor_release(&c);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

int autoinc_set(folio_txn *txn, db_table *tab, int64_t seq)
{
    db_table *seqtab = catalog_find_table(txn->cat, "sqlite_sequence");
    if (!seqtab)
        return db_err(txn->db, FOLIO_CORRUPT, "sqlite_sequence is missing for %s", tab->name);
    bt_cursor c;
    int64_t old;
    int found;
    int rc = seq_find(txn, seqtab, tab->name, &c, &old, &found);
    int64_t rowid = 0;
    if (rc == 0 && found) {
        rowid = bt_rowid(&c);
    } else if (rc == 0) {
        int empty;
        rc = bt_max_rowid(&c, &rowid, &empty);
        rowid++;
    }
    if (rc == 0) {
        fmt_value v[2];
        v[0].type = FMT_TEXT;
        v[0].u.s.p = (const uint8_t *)tab->name;
        v[0].u.s.n = strlen(tab->name);
        v[1].type = FMT_INTEGER;
        v[1].u.i = seq;
        /* A name of any length: the record goes on the heap past a few
         * hundred bytes. */
        uint8_t stack[256];
        uint64_t size = fmt_record_size(v, 2, 4);
        uint8_t *buf = size <= sizeof stack ? stack : os_malloc((size_t)size);
        if (!buf) {
            bt_cursor_release(&c);
            return db_err(txn->db, FOLIO_NOMEM, "out of memory updating sqlite_sequence");
        }
        fmt_record_encode(buf, v, 2, 4);
        bt_cursor_reset(&c);
        rc = bt_insert_row(&c, rowid, buf, size);
        if (buf != stack)
            os_free(buf);
    }
    bt_cursor_release(&c);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

int schema_insert_row(folio_txn *txn, const char *type, const char *name, const char *tbl,
                      uint32_t root, const char *sql)
{
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, 1, 1);
    int64_t rowid = 0;
    int empty;
    int rc = bt_max_rowid(&c, &rowid, &empty);
    if (rc < 0) {
        bt_cursor_release(&c);
        return rc;
    }
    fmt_value v[5];
    memset(v, 0, sizeof v);
    const char *s[3] = {type, name, tbl};
    for (int i = 0; i < 3; i++) {
        v[i].type = FMT_TEXT;
        v[i].u.s.p = (const uint8_t *)s[i];
        v[i].u.s.n = strlen(s[i]);
    }
    v[3].type = FMT_INTEGER;
    v[3].u.i = root;
    if (sql) {
        v[4].type = FMT_TEXT;
        v[4].u.s.p = (const uint8_t *)sql;
        v[4].u.s.n = strlen(sql);
    } else {
        v[4].type = FMT_NULL;
    }
    uint64_t size = fmt_record_size(v, 5, 4);
    uint8_t *buf = os_malloc((size_t)size);
    if (!buf) {
        bt_cursor_release(&c);
        return ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory writing sqlite_schema");
    }
    fmt_record_encode(buf, v, 5, 4);
    bt_cursor_reset(&c);
    rc = bt_insert_row(&c, empty ? 1 : rowid + 1, buf, size);
    os_free(buf);
    bt_cursor_release(&c);
    return rc;
}
