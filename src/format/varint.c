/*
 * varint.c - SQLite variable-length integers.
 *
 * Layout
 * ------
 * A varint stores an unsigned 64-bit value in 1 to 9 bytes, most significant
 * bits first:
 *
 *   bytes 0..7   each carries 7 value bits in its low bits; the high bit (0x80)
 *                is set when another byte follows and clear on the last byte;
 *   byte 8       (only when bytes 0..7 all have 0x80 set) carries 8 value bits
 *                and always ends the varint.
 *
 * So n bytes (n <= 8) hold 7*n bits, and 9 bytes hold 7*8 + 8 = 64 bits:
 *
 *   length  largest value
 *   1       0x7f                  (2^7  - 1)
 *   2       0x3fff                (2^14 - 1)
 *   3       0x1fffff              (2^21 - 1)
 *   4       0xfffffff             (2^28 - 1)
 *   5       2^35 - 1
 *   6       2^42 - 1
 *   7       2^49 - 1
 *   8       2^56 - 1
 *   9       2^64 - 1
 *
 * Validity rules
 * --------------
 * - A varint never needs more than 9 bytes; the decoder stops after the 9th
 *   byte whatever its high bit says.
 * - The encoder always writes the shortest form. The decoder also accepts
 *   longer-than-needed forms (0x80 0x00 is zero in two bytes), as SQLite does,
 *   because they are unambiguous and SQLite never rejects them.
 * - A varint that would run past the end of its span decodes to nothing
 *   (fmt_varint_get returns 0) and no byte at or past the end is read.
 *
 * Signed quantities (rowids) are stored as the two's-complement bit pattern of
 * the int64, so every negative rowid takes 9 bytes.
 */
#include "format/format.h"

int fmt_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    /* Bytes 0..7 contribute 7 bits each; stop at the first byte without the
     * continuation bit. The loop is bounded by the 8 bytes of that form. */
    for (int i = 0; i < 8; i++) {
        if (p + i >= end)
            return 0;
        v = (v << 7) | (uint64_t)(p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    if (p + 8 >= end)
        return 0;
    *out = (v << 8) | p[8];
    return 9;
}

int fmt_varint_len_any(uint64_t v)
{
    int n = 1;
    /* Each further byte of the short form adds 7 bits; past 56 bits only the
     * 9-byte form (64 bits) remains. */
    while (n < 9 && (v >> (7 * n)) != 0)
        n++;
    return n;
}

int fmt_varint_put_any(uint8_t *p, uint64_t v)
{
    if (v < 0x80) {
        p[0] = (uint8_t)v;
        return 1;
    }
    int n = fmt_varint_len(v);
    if (n == 9) {
        /* The last byte holds the low 8 bits whole; the 56 bits above them are
         * spread over 8 bytes of 7 bits, all with the continuation bit. */
        p[8] = (uint8_t)v;
        v >>= 8;
        for (int i = 7; i >= 0; i--) {
            p[i] = (uint8_t)(0x80 | (v & 0x7f));
            v >>= 7;
        }
        return 9;
    }
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)((v & 0x7f) | (i == n - 1 ? 0x00 : 0x80));
        v >>= 7;
    }
    return n;
}
