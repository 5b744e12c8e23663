/*
 * collate.h - value comparison with SQLite's rules (index key order).
 *
 * Storage classes order NULL < INTEGER and REAL (compared by numeric value,
 * exactly) < TEXT (by collating sequence) < BLOB (memcmp, then length).
 *
 * Collating sequences, as SQLite defines them:
 *   BINARY  memcmp over the shorter length, then the shorter string first;
 *   NOCASE  like BINARY with ASCII A-Z folded to a-z (other bytes as they are);
 *           as in SQLite, a NUL byte present at the same offset in both strings
 *           ends the byte comparison there (only the lengths decide after it);
 *   RTRIM   BINARY after removing trailing spaces (0x20 only) from both.
 * SCH_COLL_UNKNOWN compares as BINARY; callers refuse to write such indexes.
 *
 * Texts are compared as the bytes given. In a UTF-16 database SQLite's BINARY
 * compares the UTF-16 bytes as stored (so U+10000 sorts before U+FF61), while
 * NOCASE and RTRIM compare the UTF-8 forms: pass the bytes accordingly.
 */
#ifndef FOLIO_SCHEMA_COLLATE_H
#define FOLIO_SCHEMA_COLLATE_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h" /* fmt_value: type FMT_NULL/INTEGER/REAL/TEXT/BLOB, u.i, u.r, u.s */
#include "schema/parse.h"  /* SCH_COLL_* */

/** Compare two values; TEXT with `collation` (SCH_COLL_*). Returns <0, 0, >0. */
int sch_compare(const fmt_value *a, const fmt_value *b, int collation);

/** Compare two texts under `collation`. Returns <0, 0, >0. */
int sch_compare_text(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, int collation);

/** Compare an integer with a double exactly, also beyond 2^53. A NaN counts as
 * smaller than every integer (SQLite treats NaN as NULL). Returns <0, 0, >0. */
int sch_compare_int_real(int64_t i, double r);

#endif
