/*
 * version.c - versions at the API: the newest, a transaction's, waiting for
 * a newer one, and the commit callback. The numbers themselves come from
 * the pager (pager_version.c).
 */
#include "db/db_int.h"

#include <errno.h>
#include <time.h>

int folio_txn_version(folio_txn *txn, uint64_t *out)
{
    if (!txn || !out || !txn->pt)
        return FOLIO_MISUSE;
    int rc = ptxn_version(txn->pt, out);
    if (rc < 0)
        return db_err(txn->db, rc, "%s", ptxn_errmsg(txn->pt));
    return FOLIO_OK;
}

int folio_version(folio_db *db, uint64_t *out)
{
    if (!db || !out)
        return FOLIO_MISUSE;
    ptxn *t;
    char err[512] = "";
    int rc = pager_begin(&t, db->pager, 0, db->opts.busy_timeout_ms, err, sizeof err);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    rc = ptxn_version(t, out);
    if (rc < 0)
        rc = db_err(db, rc, "%s", ptxn_errmsg(t));
    else
        *out = pager_version_newest(db->pager, *out);
    pager_end(t);
    return rc < 0 ? rc : FOLIO_OK;
}

void db_version_committed(folio_db *db, uint64_t version)
{
    pthread_mutex_lock(&db->mu);
    if (version > db->ver_committed)
        db->ver_committed = version;
    folio_commit_fn cb = db->on_commit;
    void *arg = db->on_commit_arg;
    pthread_cond_broadcast(&db->ver_cv);
    pthread_mutex_unlock(&db->mu);
    if (cb)
        cb(arg, version);
}

int folio_on_commit(folio_db *db, folio_commit_fn cb, void *arg)
{
    if (!db)
        return FOLIO_MISUSE;
    pthread_mutex_lock(&db->mu);
    db->on_commit = cb;
    db->on_commit_arg = cb ? arg : NULL;
    pthread_mutex_unlock(&db->mu);
    return FOLIO_OK;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * This handle's commits wake the waiters at once; other handles' and other
 * processes' are seen by looking again, every few milliseconds at first and
 * less often the longer the wait (up to 50 ms).
 */
int folio_wait_version(folio_db *db, uint64_t version, unsigned timeout_ms)
{
    if (!db)
        return FOLIO_MISUSE;
    uint64_t deadline = now_ms() + timeout_ms;
    unsigned step = 1;
    for (;;) {
        uint64_t v;
        int rc = folio_version(db, &v);
        if (rc < 0)
            return rc;
        if (v > version)
            return FOLIO_OK;
        uint64_t now = now_ms();
        if (now >= deadline)
            return db_err(db, FOLIO_TIMEOUT, "no version after %llu within %u ms",
                          (unsigned long long)version, timeout_ms);
        uint64_t wait = deadline - now < step ? deadline - now : step;
        if (step < 50)
            step *= 2;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + wait * 1000000u;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        pthread_mutex_lock(&db->mu);
        if (db->ver_committed <= version)
            pthread_cond_timedwait(&db->ver_cv, &db->mu, &until);
        pthread_mutex_unlock(&db->mu);
    }
}
