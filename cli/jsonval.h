/*
 * jsonval.h: the JSONL value encoding of the folio tool
 * (docs/ARCHITECTURE.md, "The CLI's JSONL contracts"), written by dump and
 * read by import and apply.
 *
 *   NULL     null
 *   INTEGER  a JSON integer, every int64 exactly
 *   REAL     a JSON number with a '.' or an exponent that reads back as the
 *            identical double (1.0, 0.1, -0.0, 2.5e+300);
 *            {"real":"Infinity"} / {"real":"-Infinity"}; NaN (which SQLite
 *            cannot store) is null
 *   TEXT     a JSON string (UTF-8 passed through, control characters escaped),
 *            or {"text_hex":"<lowercase hex>"} when the bytes are not valid UTF-8
 *   BLOB     {"blob":"<lowercase hex>"}
 */
#ifndef FOLIO_CLI_JSONVAL_H
#define FOLIO_CLI_JSONVAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"

/** Longest text jv_format_real() produces, with its NUL. */
#define JV_REAL_MAX 32

/**
 * Length of the valid UTF-8 sequence at the start of `p` (`n` > 0 bytes
 * available), or 0 if it is not one: strict RFC 3629, so overlong forms,
 * surrogates (U+D800..U+DFFF), code points above U+10FFFF, stray
 * continuation bytes and truncated sequences are all rejected.
 */
size_t jv_utf8_seq(const unsigned char *p, size_t n);
/** Whether `n` bytes at `p` are valid UTF-8 (U+0000 included). */
int jv_utf8_valid(const void *p, size_t n);

/**
 * Format a finite double as the shortest of %.15g, %.16g and %.17g that
 * strtod() reads back to the identical double (sign of zero included), with
 * ".0" appended when it has neither '.' nor exponent. Returns the length.
 * Infinities become "Infinity" / "-Infinity", NaN "NaN" (callers that emit
 * JSON handle those before calling).
 */
size_t jv_format_real(char out[JV_REAL_MAX], double r);

/** Append the decimal digits of `v`. */
void jv_put_int(cli_buf *b, int64_t v);
/** Append `n` bytes as lowercase hex digits. */
void jv_put_hex(cli_buf *b, const void *p, size_t n);
/** Append a JSON string of valid UTF-8 bytes, escaping '"', '\\' and control
 * characters (\n \r \t \b \f, others as \u00xx). */
void jv_put_string(cli_buf *b, const void *p, size_t n);
/** Like jv_put_string(), for text that may be invalid UTF-8 (names in
 * reports): each invalid byte becomes U+FFFD. */
void jv_put_string_lossy(cli_buf *b, const void *p, size_t n);
/** Append the JSONL encoding of `v` (see the top of this file). */
void jv_put_value(cli_buf *b, const folio_value *v);

/** Flags for json_loadb() of input lines: any JSON text (callers say what
 * they expect), NUL characters in strings (text may hold U+0000); duplicate
 * keys are an error. */
#define JV_LOAD_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/**
 * Decode one value of the encoding above from `j`. Strings point into `j`
 * (valid while it lives); the bytes of {"blob":..} and {"text_hex":..} are
 * allocated in `arena`. Reads back everything jv_put_value() writes; hex
 * digits may also be uppercase. Also accepted: a REAL without '.' or exponent
 * in JSON (jansson reads 1e5 as real, 5 as integer). Rejected, with a message
 * of at most `errlen` bytes in `err`: true/false, arrays, other objects, bad
 * hex, and integers outside int64 (jansson refuses those when parsing).
 * Returns 0 or -1.
 */
int jv_decode_value(folio_value *out, const json_t *j, cli_arena *arena, char *err, size_t errlen);

#endif /* FOLIO_CLI_JSONVAL_H */
