/* fuzz_page.c - b-tree page header and cell parsing over arbitrary bytes. */
#include "format/format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The page is the input padded to a page size; the first byte also
     * picks reserved bytes so that usable sizes vary. */
    uint32_t ps = 512;
    while (ps < size && ps < 65536)
        ps *= 2;
    uint8_t *page = calloc(1, ps);
    if (!page)
        return 0;
    memcpy(page, data, size < ps ? size : ps);
    uint32_t reserved = size ? data[0] % 32 : 0;
    uint32_t usable = ps - reserved;
    for (uint32_t pgno = 1; pgno <= 2; pgno++) {
        fmt_page pg;
        if (fmt_page_decode(page, pgno, usable, &pg) < 0)
            continue;
        for (uint32_t i = 0; i < pg.ncells && i < ps / 2; i++) {
            uint32_t off = fmt_page_cell_off(page, &pg, i);
            fmt_cell c;
            if (off >= usable || fmt_cell_parse(page, &pg, off, &c) < 0)
                continue;
            fmt_record r;
            if (!pg.is_table || pg.is_leaf) {
                if (fmt_record_open(&r, c.payload, c.local, c.payload_size) == 0) {
                    uint64_t st, o;
                    for (int k = 0; k < 1000 && fmt_record_next(&r, &st, &o) > 0; k++) {
                    }
                }
            }
        }
    }
    free(page);
    return 0;
}
