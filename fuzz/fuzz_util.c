/* fuzz_util.c - shared pieces of the fuzz targets. */
#include "fuzz_util.h"

#include <fcntl.h>
#include <folio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fuzz_write_file(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    close(fd);
    return 0;
}

const char *fuzz_path(const char *suffix)
{
    static char buf[512];
    const char *dir = getenv("FOLIO_FUZZ_TMP"); /* run_fuzz.sh: a directory of its own */
    snprintf(buf, sizeof buf, "%s/folio-fuzz-%d%s", dir && *dir ? dir : "/tmp", (int)getpid(),
             suffix);
    return buf;
}

static int count_msg(void *arg, const char *msg)
{
    (void)msg;
    ++*(int *)arg;
    return 0;
}

static int stat_cb(void *arg, const folio_btree_stats *s)
{
    (void)arg;
    (void)s;
    return 0;
}

static void scan(folio_table *t, const char *index)
{
    folio_cursor *c;
    if (folio_cursor_open(&c, t, index) != FOLIO_OK)
        return;
    int ncols = folio_table_ncols(t);
    int rows = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW && rows < 100000;
         rc = folio_cursor_next(c), rows++) {
        (void)folio_cursor_rowid(c);
        for (int k = 0; k < ncols; k++) {
            folio_value v;
            if (folio_cursor_column(&v, c, k) == FOLIO_OK &&
                (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB) && v.u.s.n) {
                /* Touch the bytes so ASan sees any bad pointer. */
                volatile uint8_t x = ((const uint8_t *)v.u.s.p)[v.u.s.n - 1];
                (void)x;
            }
        }
    }
    folio_cursor_close(c);
}

void fuzz_open_scan_check(const char *path)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    o.cache_bytes = 1 << 20;
    folio_db *db;
    if (folio_open(&db, path, &o) != FOLIO_OK)
        return;
    folio_txn *tx;
    if (folio_begin(&tx, db, FOLIO_TXN_READ) == FOLIO_OK) {
        int n = folio_schema_count(tx);
        for (int i = 0; i < n && i < 200; i++) {
            folio_schema_entry e;
            if (folio_schema_get(&e, tx, i) != FOLIO_OK || strcmp(e.type, "table") != 0)
                continue;
            folio_table *t;
            if (folio_table_open(&t, tx, e.name) != FOLIO_OK)
                continue;
            scan(t, NULL);
            for (int j = 0; j < n && j < 200; j++) {
                folio_schema_entry x;
                if (folio_schema_get(&x, tx, j) == FOLIO_OK && strcmp(x.type, "index") == 0 &&
                    strcmp(x.tbl_name, e.name) == 0)
                    scan(t, x.name);
            }
        }
        folio_stats(tx, stat_cb, NULL);
        int problems = 0;
        folio_check(tx, count_msg, &problems, 50);
        folio_commit(tx);
    }
    folio_close(db);
}
