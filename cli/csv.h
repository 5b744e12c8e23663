/*
 * csv.h: CSV output and input of the folio tool (RFC 4180).
 *
 * Output: RFC 4180 fields, "\n" line ends.
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
#include "input.h"

/** Append one field holding `n` bytes, quoted if needed. */
void csv_put_field(cli_buf *b, const void *p, size_t n);
/** Append the field for `v` (see above). */
void csv_put_value(cli_buf *b, const folio_value *v);

/*
 * Input: RFC 4180 records, read line by line from a cli_input. Fields are
 * separated by ',' and may be quoted with '"' (a quote inside doubled);
 * quoted fields may hold ',' and line breaks, which are kept as they are in
 * the file ("\r\n" stays "\r\n"). A record ends at LF or CRLF or at the end
 * of the input. Like sqlite3's .import, a quote inside an unquoted field is
 * an ordinary character and an empty line is a record of one empty field; a
 * UTF-8 byte order mark before the first record is skipped. Malformed: an
 * unterminated quoted field, anything but ',' or the line end after a
 * closing quote.
 */
typedef struct csv_reader {
    cli_input *in;
    cli_buf bytes;         /* the fields of the record, back to back */
    const char *base;      /* where the offsets point: bytes, or the line itself */
    size_t *starts;        /* start offset of field i from base */
    size_t *ends;          /* end offset of field i from base */
    unsigned char *quoted; /* whether field i was quoted */
    int nfields;
    int cap;
    uint64_t line; /* line number where the record starts */
} csv_reader;

void csv_reader_init(csv_reader *r, cli_input *in);
/**
 * Read the next record into r. Returns 1, 0 at the end of the input, or -1
 * with a message in `err` ("line N: ...") for a malformed record, a read
 * error or lack of memory.
 */
int csv_read_record(csv_reader *r, char *err, size_t errlen);
/** Field `i` of the record: its bytes (valid until the next record) and
 * length. */
const char *csv_field(const csv_reader *r, int i, size_t *out_n);
void csv_reader_free(csv_reader *r);

#endif /* FOLIO_CLI_CSV_H */
