/*
 * check.c - full integrity check (folio check). Being written.
 */
#include "db/db_int.h"

int db_check(folio_txn *txn, int (*cb)(void *arg, const char *msg), void *arg, int max_errors)
{
    (void)cb, (void)arg, (void)max_errors;
    return ptxn_error(txn->pt, FOLIO_UNSUPPORTED, "integrity check not yet implemented");
}
