/*
 * dbheader.c - the 100-byte database header at the start of page 1.
 *
 * Layout (all multi-byte integers big-endian)
 * -------------------------------------------
 *   offset size  field
 *    0     16    magic: the 16 bytes "SQLite format 3" followed by a NUL
 *   16      2    page size in bytes; a power of two in 512..32768, or 1 for 65536
 *   18      1    file format write version: 1 legacy (rollback journal), 2 WAL
 *   19      1    file format read version:  1 legacy (rollback journal), 2 WAL
 *   20      1    bytes reserved at the end of every page (for extensions)
 *   21      1    maximum embedded payload fraction, must be 64
 *   22      1    minimum embedded payload fraction, must be 32
 *   23      1    leaf payload fraction, must be 32
 *   24      4    file change counter
 *   28      4    database size in pages (trusted only when it is non-zero and
 *                the change counter equals version-valid-for at 92)
 *   32      4    first freelist trunk page, 0 if none
 *   36      4    total number of freelist pages
 *   40      4    schema cookie
 *   44      4    schema format number, 1..4
 *   48      4    default page cache size
 *   52      4    largest root b-tree page in auto-vacuum modes, else 0
 *   56      4    text encoding: 1 UTF-8, 2 UTF-16le, 3 UTF-16be
 *   60      4    user version
 *   64      4    incremental vacuum mode: non-zero for incremental
 *   68      4    application id
 *   72     20    reserved for expansion, must be zero
 *   92      4    version-valid-for: the change counter when 96 was written
 *   96      4    SQLITE_VERSION_NUMBER of the library that last wrote the file
 *
 * Validity rules (checked by fmt_dbheader_decode)
 * -----------------------------------------------
 * - The magic matches exactly.
 * - The page size field is 1 (meaning 65536) or a power of two in 512..32768.
 *   Anything else (0, 256, 2, 1000, 0x8001, 0xffff) is rejected.
 * - The three payload fractions are 64, 32 and 32.
 * - The usable size (page size minus reserved bytes) is at least 480.
 *
 * Everything else is reported as stored and left for the layers above to
 * judge (read/write versions above 2, schema formats and text encodings they
 * do not support, non-zero expansion bytes), because those call for different
 * answers (read-only, FOLIO_UNSUPPORTED) than a damaged header does.
 *
 * fmt_dbheader_encode writes every field and stores 65536 as 1; it leaves
 * the expansion area 72..91 as it is: folio keeps its version stamp there
 * (fmt_vstamp_*), which SQLite neither reads nor changes (it copies the
 * header's bytes as they are when it rewrites page 1), and a new header is
 * built in a zeroed page.
 *
 * The stamp, big-endian: bytes 72..77 the version (48 bits), 78 flags, 79
 * the mark 0xF5 (no stamp without it), 80..83 salt-1 of the WAL generation,
 * 84..87 a frame number, 88..91 the database's identity (random, chosen at
 * the first stamp).
 */
#include "format/format.h"

#include <assert.h>
#include <string.h>

static_assert(FMT_DBHEADER_SIZE == 100, "the database header is 100 bytes");

static const uint8_t magic[16] = "SQLite format 3";

int fmt_dbheader_magic_ok(const uint8_t *p)
{
    return memcmp(p, magic, sizeof magic) == 0;
}

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return FMT_EBAD;
}

int fmt_dbheader_decode(const uint8_t *p, fmt_dbheader *out, const char **why)
{
    uint32_t raw_page_size;
    memset(out, 0, sizeof *out);
    if (memcmp(p, magic, sizeof magic) != 0)
        return fail(why, "bad magic string");

    raw_page_size = fmt_get_u16(p + 16);
    out->page_size = raw_page_size == 1 ? 65536u : raw_page_size;
    out->write_version = p[18];
    out->read_version = p[19];
    out->reserved = p[20];
    out->max_payload_frac = p[21];
    out->min_payload_frac = p[22];
    out->leaf_payload_frac = p[23];
    out->change_counter = fmt_get_u32(p + 24);
    out->page_count = fmt_get_u32(p + 28);
    out->freelist_trunk = fmt_get_u32(p + 32);
    out->freelist_count = fmt_get_u32(p + 36);
    out->schema_cookie = fmt_get_u32(p + 40);
    out->schema_format = fmt_get_u32(p + 44);
    out->default_cache_size = fmt_get_u32(p + 48);
    out->autovacuum_root = fmt_get_u32(p + 52);
    out->text_encoding = fmt_get_u32(p + 56);
    out->user_version = fmt_get_u32(p + 60);
    out->incremental_vacuum = fmt_get_u32(p + 64);
    out->application_id = fmt_get_u32(p + 68);
    out->version_valid_for = fmt_get_u32(p + 92);
    out->sqlite_version = fmt_get_u32(p + 96);

    if (out->page_size < 512 || out->page_size > 65536 ||
        (out->page_size & (out->page_size - 1)) != 0)
        return fail(why, "page size is not a power of two in 512..65536");
    if (out->max_payload_frac != 64 || out->min_payload_frac != 32 || out->leaf_payload_frac != 32)
        return fail(why, "payload fractions are not 64/32/32");
    if (out->page_size - out->reserved < 480)
        return fail(why, "usable page size is below 480 bytes");
    return 0;
}

void fmt_dbheader_encode(uint8_t *p, const fmt_dbheader *h)
{
    memcpy(p, magic, sizeof magic);
    fmt_put_u16(p + 16, h->page_size == 65536 ? 1u : h->page_size);
    p[18] = h->write_version;
    p[19] = h->read_version;
    p[20] = h->reserved;
    p[21] = h->max_payload_frac;
    p[22] = h->min_payload_frac;
    p[23] = h->leaf_payload_frac;
    fmt_put_u32(p + 24, h->change_counter);
    fmt_put_u32(p + 28, h->page_count);
    fmt_put_u32(p + 32, h->freelist_trunk);
    fmt_put_u32(p + 36, h->freelist_count);
    fmt_put_u32(p + 40, h->schema_cookie);
    fmt_put_u32(p + 44, h->schema_format);
    fmt_put_u32(p + 48, h->default_cache_size);
    fmt_put_u32(p + 52, h->autovacuum_root);
    fmt_put_u32(p + 56, h->text_encoding);
    fmt_put_u32(p + 60, h->user_version);
    fmt_put_u32(p + 64, h->incremental_vacuum);
    fmt_put_u32(p + 68, h->application_id);
    fmt_put_u32(p + 92, h->version_valid_for);
    fmt_put_u32(p + 96, h->sqlite_version);
}

int fmt_vstamp_decode(const uint8_t *p, fmt_vstamp *out)
{
    memset(out, 0, sizeof *out);
    if (p[79] != FMT_VSTAMP_MARK)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | p[72 + i];
    out->version = v;
    out->flags = p[78];
    out->salt1 = fmt_get_u32(p + 80);
    out->frame = fmt_get_u32(p + 84);
    out->dbid = fmt_get_u32(p + 88);
    return 0;
}

void fmt_vstamp_encode(uint8_t *p, const fmt_vstamp *v)
{
    for (int i = 0; i < 6; i++)
        p[72 + i] = (uint8_t)(v->version >> (8 * (5 - i)));
    p[78] = v->flags;
    p[79] = FMT_VSTAMP_MARK;
    fmt_put_u32(p + 80, v->salt1);
    fmt_put_u32(p + 84, v->frame);
    fmt_put_u32(p + 88, v->dbid);
}
