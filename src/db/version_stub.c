/*
 * version_stub.c - TEMPORARY: folio_version and folio_txn_version answer 0
 * until the versions are implemented (the backup branch needs the calls to
 * link; drop this file when merging).
 */
#include "folio.h"

int folio_version(folio_db *db, uint64_t *out)
{
    (void)db;
    *out = 0;
    return 0;
}

int folio_txn_version(folio_txn *t, uint64_t *out)
{
    (void)t;
    *out = 0;
    return 0;
}
