/*
 * errors.c - return code names and per-thread error messages.
 *
 * folio_errmsg(db) answers the calling thread's last error on db. Each thread
 * keeps a few (db, message) slots, so threads never see each other's errors
 * and one thread may use several databases.
 */
#include "base/status.h"
#include "db/db_int.h"

#include <stdio.h>
#include <string.h>

#define ERR_SLOTS 8
#define ERR_LEN   512

typedef struct err_slot {
    const folio_db *db;
    char msg[ERR_LEN];
} err_slot;

static _Thread_local err_slot tl_slots[ERR_SLOTS];
static _Thread_local unsigned tl_next;
static _Thread_local char tl_open_err[ERR_LEN];

static err_slot *slot_for(const folio_db *db, int create)
{
    for (int i = 0; i < ERR_SLOTS; i++)
        if (tl_slots[i].db == db)
            return &tl_slots[i];
    if (!create)
        return NULL;
    err_slot *s = &tl_slots[tl_next++ % ERR_SLOTS];
    s->db = db;
    s->msg[0] = 0;
    return s;
}

int db_err(const folio_db *db, int rc, const char *fmt, ...)
{
    err_slot *s = slot_for(db, 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    return rc;
}

int db_err_txn(folio_txn *txn, int rc)
{
    const char *m = txn->pt ? ptxn_errmsg(txn->pt) : "";
    if (!m[0])
        m = folio_strerror(rc);
    return db_err(txn->db, rc, "%s", m);
}

void db_clear_err(const folio_db *db)
{
    err_slot *s = slot_for(db, 0);
    if (s)
        s->msg[0] = 0;
}

void db_set_open_err(const char *msg)
{
    snprintf(tl_open_err, sizeof tl_open_err, "%s", msg);
}

const char *folio_open_errmsg(void)
{
    return tl_open_err[0] ? tl_open_err : "not an error";
}

const char *folio_errmsg(const folio_db *db)
{
    err_slot *s = slot_for(db, 0);
    return s && s->msg[0] ? s->msg : "not an error";
}

const char *folio_strerror(int rc)
{
    return status_text(rc);
}
