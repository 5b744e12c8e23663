/* fuzz_util.h - shared pieces of the fuzz targets. */
#ifndef FOLIO_FUZZ_UTIL_H
#define FOLIO_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Write bytes to path (truncating). Returns 0 or -1. */
int fuzz_write_file(const char *path, const uint8_t *data, size_t n);
/** Open path read-only with folio, walk every table and index reading every
 * column, run folio_stats and folio_check. Any return code is fine; the
 * point is that nothing crashes, hangs or reads out of bounds. */
void fuzz_open_scan_check(const char *path);
/** A per-process scratch path with the given suffix. */
const char *fuzz_path(const char *suffix);

#endif
