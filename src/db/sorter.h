/*
 * sorter.h - sorting records within a memory budget (sorter.c).
 */
#ifndef FOLIO_DB_SORTER_H
#define FOLIO_DB_SORTER_H

#include "db/write_int.h"

typedef struct sorter sorter;

/** A sorter ordering records by `order`, spilling runs to temporary files
 * beside the database past `budget` bytes. */
int sorter_open(sorter **out, folio_txn *txn, sch_order *order, size_t budget);
/** Add a copy of a record. On failure the sorter is as it was. */
int sorter_add(sorter *s, const uint8_t *rec, uint64_t n);
/** Take back the record of the last successful sorter_add (before any later
 * add or finish). */
void sorter_unadd(sorter *s);
/** No more records: sort (and prepare the merge). */
int sorter_finish(sorter *s);
/** The next record in order: 1 with *rec and *n set (valid until the next call), 0 at
 * the end, or an error. */
int sorter_next(sorter *s, const uint8_t **rec, uint64_t *n);
void sorter_free(sorter *s);

#endif
