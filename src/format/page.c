/*
 * page.c - b-tree pages: header, cell pointer array, cells, local payload,
 * freeblocks, and (for reference) overflow and freelist pages.
 *
 * Terms: P is a page's size in bytes; U ("usable") is P minus the reserved
 * bytes of the database header (offset 20), always 480..65536. Nothing of a
 * page at or past offset U belongs to the b-tree.
 *
 * B-tree page header (at offset 100 on page 1, after the database header;
 * at offset 0 on every other page; big-endian)
 * -----------------------------------------------------------------------
 *   +0   1   page type: 2 index interior, 5 table interior,
 *                       10 index leaf,   13 table leaf
 *   +1   2   offset of the first freeblock, 0 if none
 *   +3   2   number of cells
 *   +5   2   offset of the start of the cell content area; 0 means 65536
 *   +7   1   number of fragmented free bytes inside the content area
 *   +8   4   right-most child page (interior pages only)
 *
 * The header is 12 bytes on interior pages and 8 on leaves. The cell pointer
 * array follows it: one u16 per cell, the offset of the cell from the start of
 * the page, in key order. The cell content area fills the page from the content
 * start up to U; unused space lies between the pointer array and the content
 * start, in freeblocks, and in fragments of 1..3 bytes.
 *
 * Page validity rules (checked by fmt_page_decode)
 * ------------------------------------------------
 * - The page number is not 0; U is within 480..65536.
 * - The type is one of 2, 5, 10, 13.
 * - The pointer array fits: hdr_off + hdr_size + 2 * ncells <= content start.
 * - The content start is at most U (so 0, meaning 65536, is valid only when
 *   U is 65536).
 * - content start + fragmented bytes <= U (the fragments lie in the content
 *   area).
 * - The first freeblock, when non-zero, lies in the content area with room
 *   for its 4-byte header: content start <= offset and offset + 4 <= U.
 * - An interior page's right-most child is not 0.
 *
 * Freeblocks
 * ----------
 * A freeblock is a run of at least 4 unused bytes in the content area:
 *   +0 u16 offset of the next freeblock (0 ends the chain; chains go up in
 *          offset), +2 u16 size of this freeblock including these 4 bytes.
 * Runs of 1..3 bytes cannot hold that header; they are counted as fragments.
 *
 * Cells (varints as in varint.c; P = payload size)
 * ------------------------------------------------
 *   table leaf (13):      varint P, varint rowid (the int64 bit pattern),
 *                         local payload, [u32 first overflow page]
 *   table interior (5):   u32 left child, varint rowid
 *   index leaf (10):      varint P, local payload, [u32 first overflow page]
 *   index interior (2):   u32 left child, varint P, local payload,
 *                         [u32 first overflow page]
 *
 * Local payload: X is the most payload kept on the page, M the least kept
 * when the payload spills:
 *   table leaf:   X = U - 35
 *   index pages:  X = ((U - 12) * 64 / 255) - 23
 *   all pages:    M = ((U - 12) * 32 / 255) - 23
 * If P <= X the payload is wholly local and there is no overflow pointer.
 * Else K = M + ((P - M) % (U - 4)); the local part is K if K <= X, else M,
 * and the u32 first overflow page follows it.
 *
 * A cell occupies its bytes as laid out above, but never less than 4: SQLite
 * counts a smaller cell as 4 bytes (so a freed cell can become a freeblock),
 * and those 4 bytes must lie below U.
 *
 * Cell validity rules (checked by fmt_cell_parse)
 * -----------------------------------------------
 * - The cell starts at or after the end of the pointer array and below U.
 * - Every byte of the cell, including the padding to 4 bytes, lies below U.
 * - P is at most 2^31 - 1, SQLite's largest possible payload.
 * - Child and overflow page numbers are not 0.
 *
 * Overflow pages
 * --------------
 *   +0 u32 next overflow page, 0 on the last one; +4 up to U - 4 bytes of
 *   payload continuing where the previous part stopped.
 *
 * Freelist trunk pages
 * --------------------
 *   +0 u32 next trunk page, 0 on the last one; +4 u32 number n of leaf page
 *   numbers on this trunk, at most U/4 - 2; +8 n u32 leaf page numbers.
 *   Leaf pages of the freelist carry no information.
 */
#include "format/format.h"

#include <assert.h>

static_assert(FMT_PAGE_INDEX_INTERIOR == 2 && FMT_PAGE_TABLE_INTERIOR == 5 &&
                  FMT_PAGE_INDEX_LEAF == 10 && FMT_PAGE_TABLE_LEAF == 13,
              "b-tree page type bytes");

/* SQLite's largest payload: SQLITE_MAX_LENGTH cannot exceed 2^31 - 1. */
#define PAYLOAD_MAX 0x7fffffffu
/* The smallest space a cell is accounted to occupy. */
#define CELL_MIN 4u

int fmt_page_decode(const uint8_t *data, uint32_t pgno, uint32_t usable, fmt_page *out)
{
    const uint8_t *h;
    uint32_t ptr_end;
    if (pgno == 0 || usable < 480 || usable > 65536)
        return FMT_EBAD;
    out->hdr_off = pgno == 1 ? FMT_DBHEADER_SIZE : 0;
    out->usable = usable;
    h = data + out->hdr_off;
    out->type = h[0];
    switch (out->type) {
    case FMT_PAGE_INDEX_INTERIOR:
    case FMT_PAGE_TABLE_INTERIOR:
    case FMT_PAGE_INDEX_LEAF:
    case FMT_PAGE_TABLE_LEAF:
        break;
    default:
        return FMT_EBAD;
    }
    out->is_leaf = (out->type & 8) != 0;
    out->is_table = (out->type & 1) != 0;
    out->hdr_size = out->is_leaf ? 8 : 12;
    out->first_freeblock = fmt_get_u16(h + 1);
    out->ncells = fmt_get_u16(h + 3);
    out->content_start = fmt_get_u16(h + 5);
    if (out->content_start == 0)
        out->content_start = 65536;
    out->frag_bytes = h[7];
    out->right_child = out->is_leaf ? 0 : fmt_get_u32(h + 8);

    ptr_end = out->hdr_off + out->hdr_size + 2 * out->ncells;
    if (out->content_start > usable || ptr_end > out->content_start)
        return FMT_EBAD;
    if (out->frag_bytes > usable - out->content_start)
        return FMT_EBAD;
    if (out->first_freeblock != 0 &&
        (out->first_freeblock < out->content_start || out->first_freeblock > usable - 4))
        return FMT_EBAD;
    if (!out->is_leaf && out->right_child == 0)
        return FMT_EBAD;
    return 0;
}

uint32_t fmt_payload_max_local(uint32_t usable, int is_table_leaf)
{
    if (is_table_leaf)
        return usable - 35;
    return (usable - 12) * 64 / 255 - 23;
}

uint32_t fmt_payload_min_local(uint32_t usable)
{
    return (usable - 12) * 32 / 255 - 23;
}

uint32_t fmt_payload_local(uint32_t usable, int is_table_leaf, uint64_t size)
{
    uint32_t max_local = fmt_payload_max_local(usable, is_table_leaf);
    uint32_t min_local = fmt_payload_min_local(usable);
    uint64_t k;
    if (size <= max_local)
        return (uint32_t)size;
    k = min_local + (size - min_local) % (usable - 4);
    return k <= max_local ? (uint32_t)k : min_local;
}

static int64_t rowid_from_u64(uint64_t u)
{
    /* Two's complement without relying on implementation-defined conversion. */
    if (u <= (uint64_t)INT64_MAX)
        return (int64_t)u;
    return -(int64_t)(~u) - 1;
}

int fmt_cell_parse(const uint8_t *data, const fmt_page *pg, uint32_t off, fmt_cell *out)
{
    const uint8_t *end = data + pg->usable;
    const uint8_t *p = data + off;
    uint64_t v;
    int n;
    uint32_t ptr_end = pg->hdr_off + pg->hdr_size + 2 * pg->ncells;

    if (off < ptr_end || off >= pg->usable)
        return FMT_EBAD;
    out->left_child = 0;
    out->rowid = 0;
    out->payload_size = 0;
    out->payload = NULL;
    out->local = 0;
    out->overflow = 0;

    if (!pg->is_leaf) {
        if (end - p < 4)
            return FMT_EBAD;
        out->left_child = fmt_get_u32(p);
        if (out->left_child == 0)
            return FMT_EBAD;
        p += 4;
    }
    if (pg->type == FMT_PAGE_TABLE_INTERIOR) {
        n = fmt_varint_get(p, end, &v);
        if (n == 0)
            return FMT_EBAD;
        out->rowid = rowid_from_u64(v);
        out->cell_size = 4 + (uint32_t)n;
        return 0;
    }

    n = fmt_varint_get(p, end, &out->payload_size);
    if (n == 0 || out->payload_size > PAYLOAD_MAX)
        return FMT_EBAD;
    p += n;
    if (pg->type == FMT_PAGE_TABLE_LEAF) {
        n = fmt_varint_get(p, end, &v);
        if (n == 0)
            return FMT_EBAD;
        out->rowid = rowid_from_u64(v);
        p += n;
    }

    out->payload = p;
    out->local = fmt_payload_local(pg->usable, pg->type == FMT_PAGE_TABLE_LEAF, out->payload_size);
    if ((uint64_t)(end - p) < out->local)
        return FMT_EBAD;
    p += out->local;
    if (out->local < out->payload_size) {
        if (end - p < 4)
            return FMT_EBAD;
        out->overflow = fmt_get_u32(p);
        if (out->overflow == 0)
            return FMT_EBAD;
        p += 4;
    }
    out->cell_size = (uint32_t)(p - (data + off));
    if (out->cell_size < CELL_MIN) {
        if (pg->usable - off < CELL_MIN)
            return FMT_EBAD;
        out->cell_size = CELL_MIN;
    }
    return 0;
}
