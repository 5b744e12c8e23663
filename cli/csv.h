/*
 * csv.h: CSV output of the folio tool (RFC 4180 fields, "\n" line ends).
 *
 * A field is quoted when it contains a comma, a double quote, CR or LF (a
 * quote inside is doubled). Values: NULL is an empty field; an empty TEXT is
 * "" (quoted, so that it differs from NULL); INTEGER in decimal; REAL in the
 * round-trip form of jsonval.h ("Infinity" / "-Infinity" for infinities);
 * TEXT as its bytes; BLOB as lowercase hex.
 */
#ifndef FOLIO_CLI_CSV_H
#define FOLIO_CLI_CSV_H

#include <stddef.h>

#include "cli.h"

/** Append one field holding `n` bytes, quoted if needed. */
void csv_put_field(cli_buf *b, const void *p, size_t n);
/** Append the field for `v` (see above). */
void csv_put_value(cli_buf *b, const folio_value *v);

#endif /* FOLIO_CLI_CSV_H */
