/* fuzz_record.c - record header and value decoding over arbitrary bytes. */
#include "format/format.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fmt_record r;
    /* As a complete record, and as a record that claims to be longer than
     * the bytes present (an overflowing payload's local part). */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t claimed = pass ? (uint64_t)size * 3 + 7 : size;
        if (fmt_record_open(&r, data, size, claimed) < 0)
            continue;
        uint64_t st, off;
        for (int i = 0; i < 10000; i++) {
            int k = fmt_record_next(&r, &st, &off);
            if (k <= 0)
                break;
            uint64_t len = fmt_serial_size(st);
            if (off + len > size)
                break;
            fmt_value v;
            if (fmt_serial_decode(st, data + off, &v) == 0 && v.type == FMT_TEXT && v.u.s.n)
                (void)((const volatile uint8_t *)v.u.s.p)[v.u.s.n - 1];
        }
    }
    uint64_t v;
    fmt_varint_get(data, data + size, &v);
    return 0;
}
