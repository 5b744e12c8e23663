/*
 * record_order.h - the order of whole records in one b-tree (an index, or a
 * WITHOUT ROWID table): field by field, each with its collating sequence and
 * direction, as SQLite orders index entries.
 *
 * The db layer's row operations, its sorter and its deferred index entries
 * all compare records through this one definition.
 */
#ifndef FOLIO_SCHEMA_RECORD_ORDER_H
#define FOLIO_SCHEMA_RECORD_ORDER_H

#include <stdint.h>

#include "format/format.h"

typedef struct sch_order {
    int n;         /* fields compared */
    uint8_t *desc; /* per field: 1 for DESC */
    uint8_t *coll; /* per field: SCH_COLL_* */
    int enc;       /* the file's text encoding (1 UTF-8, 2 UTF-16le, 3 UTF-16be) */
} sch_order;

/** Set up an order of `n` fields (desc and coll may be NULL: ASC, BINARY).
 * Returns 0 or FOLIO_NOMEM (then sch_order_free still works). */
int sch_order_init(sch_order *o, int n, const uint8_t *desc, const uint8_t *coll, int enc);
void sch_order_free(sch_order *o);

/**
 * Compare two complete records by `cfg` (a sch_order): *out is <0, 0, >0 as
 * `a` sorts before, equal to or after `b`. A record with fewer fields sorts
 * before a longer one that it is a prefix of. Returns 0 or FOLIO_CORRUPT for
 * a malformed record. The signature is the b-tree layer's bt_reccmp_fn.
 */
int sch_record_compare(void *cfg, const uint8_t *a, uint64_t na, const uint8_t *b, uint64_t nb,
                       int *out);

#endif
