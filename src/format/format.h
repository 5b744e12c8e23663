/*
 * format.h - pure codecs over byte spans: no I/O, no allocation.
 *
 * The on-disk layouts are described at the top of each implementation file:
 *   varint.c   - SQLite varints (1..9 bytes, big-endian, 9th byte full 8 bits)
 *   record.c   - record header, serial types, value encode/decode
 *   dbheader.c - the 100-byte database header
 *   page.c     - b-tree page headers, cell pointer array, the four cell kinds,
 *                local payload / overflow formulas, freeblocks, freelist trunks
 *   walfmt.c   - WAL header, frame header, checksums in both byte orders
 *
 * Functions that parse untrusted bytes take the span's end and return a
 * negative value (FMT_EBAD) instead of reading past it.
 */
#ifndef FOLIO_FORMAT_H
#define FOLIO_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_EBAD (-1)

/* SQLite's default SQLITE_MAX_LENGTH: the largest TEXT or BLOB value, and
 * the largest record, folio writes. */
#define FMT_MAX_LENGTH 1000000000u

/* ---- Big-endian integers ---- */
static inline uint32_t fmt_get_u16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}
static inline uint32_t fmt_get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void fmt_put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void fmt_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- Varints (varint.c) ---- */
#define FMT_VARINT_MAX 9
/** Decode a varint from [p, end). Returns bytes consumed (1..9) or 0 if the
 * span ends first. */
int fmt_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *out);
/** fmt_varint_put for any value (the inline one handles the short forms). */
int fmt_varint_put_any(uint8_t *p, uint64_t v);
/** fmt_varint_len for any value. */
int fmt_varint_len_any(uint64_t v);
/** Encode; returns bytes written (1..9). `p` must have room for 9 bytes. */
static inline int fmt_varint_put(uint8_t *p, uint64_t v)
{
    if (v < 0x80) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(0x80 | (v >> 7));
        p[1] = (uint8_t)(v & 0x7f);
        return 2;
    }
    if (v < 0x200000) {
        p[0] = (uint8_t)(0x80 | (v >> 14));
        p[1] = (uint8_t)(0x80 | ((v >> 7) & 0x7f));
        p[2] = (uint8_t)(v & 0x7f);
        return 3;
    }
    if (v < 0x10000000) {
        p[0] = (uint8_t)(0x80 | (v >> 21));
        p[1] = (uint8_t)(0x80 | ((v >> 14) & 0x7f));
        p[2] = (uint8_t)(0x80 | ((v >> 7) & 0x7f));
        p[3] = (uint8_t)(v & 0x7f);
        return 4;
    }
    return fmt_varint_put_any(p, v);
}
/** Encoded length of `v` (1..9). */
static inline int fmt_varint_len(uint64_t v)
{
    if (v < 0x80)
        return 1;
    if (v < 0x4000)
        return 2;
    if (v < 0x200000)
        return 3;
    if (v < 0x10000000)
        return 4;
    return fmt_varint_len_any(v);
}

/* ---- Serial types and records (record.c) ---- */

/** Value kinds as stored; mirrors folio_type numbering. */
enum { FMT_NULL = 0, FMT_INTEGER = 1, FMT_REAL = 2, FMT_TEXT = 3, FMT_BLOB = 4 };

/** A decoded value. TEXT/BLOB point into the record bytes. */
typedef struct fmt_value {
    int type; /* FMT_* */
    union {
        int64_t i;
        double r;
        struct {
            const uint8_t *p;
            uint64_t n;
        } s;
    } u;
} fmt_value;

/** Size in bytes of the data of serial type `st` (0 for NULL, 0, 1, and 10/11). */
static inline uint64_t fmt_serial_size(uint64_t st)
{
    /* Types 0..11: NULL, integers of 1, 2, 3, 4, 6 and 8 bytes, a real, the
     * constants 0 and 1, and the two reserved types. */
    static const uint8_t small[12] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0};
    return st >= 12 ? (st - 12) / 2 : small[st];
}
/** Decode the value of serial type `st` whose data starts at `p` (which must
 * hold fmt_serial_size(st) bytes). Returns 0, or FMT_EBAD for 10 and 11. */
int fmt_serial_decode(uint64_t st, const uint8_t *p, fmt_value *out);
/** Smallest serial type for an integer. */
uint64_t fmt_serial_type_int(int64_t v);
/** Serial type for a value (integers use the smallest type; reals type 7;
 * text 13+2n; blob 12+2n). `file_format` >= 4 allows types 8 and 9. */
uint64_t fmt_serial_type_of(const fmt_value *v, int file_format);
/** Write the data of value `v` under serial type `st`; returns bytes written. */
size_t fmt_serial_encode(uint8_t *p, uint64_t st, const fmt_value *v);

/** Iterator over a record header. */
typedef struct fmt_record {
    const uint8_t *base; /* start of the record */
    uint64_t size;       /* total record size (may exceed what is available) */
    uint64_t hdr_size;   /* header size from the first varint */
    uint64_t hdr_off;    /* offset of next serial type in the header */
    uint64_t data_off;   /* offset of next value's data */
} fmt_record;

/** Start reading a record of `size` bytes whose first `avail` bytes are at
 * `p` (avail may be < size when the record spills to overflow pages; the
 * header must then lie entirely in the available bytes). */
int fmt_record_open(fmt_record *r, const uint8_t *p, uint64_t avail, uint64_t size);
/** Next column: its serial type and data offset within the record. Returns 1
 * when a column was produced, 0 at the end of the header, FMT_EBAD when the
 * header is malformed or the data runs past `size`. */
int fmt_record_next(fmt_record *r, uint64_t *out_st, uint64_t *out_off);

/** Size of the record that fmt_record_encode() will produce. */
uint64_t fmt_record_size(const fmt_value *vals, int n, int file_format);
/** Serial types of `n` values into st[] and the record's size: with
 * fmt_record_write, an encoding that works the types out once. */
uint64_t fmt_record_plan(const fmt_value *vals, int n, int file_format, uint64_t *st);
void fmt_record_write(uint8_t *out, const fmt_value *vals, int n, const uint64_t *st,
                      uint64_t size);
/** Encode `n` values into `out` (which has fmt_record_size() bytes). */
uint64_t fmt_record_encode(uint8_t *out, const fmt_value *vals, int n, int file_format);

/* ---- Database header (dbheader.c) ---- */
#define FMT_DBHEADER_SIZE 100
/* Offsets of the header fields other layers read in raw bytes (dbheader.c
 * documents them all). */
#define FMT_DBHDR_MAGIC          0 /* 16 bytes, "SQLite format 3\0" */
#define FMT_DBHDR_MAGIC_SIZE     16
#define FMT_DBHDR_CHANGE_COUNTER 24
#define FMT_DBHDR_PAGE_COUNT     28
#define FMT_DBHDR_VALID_FOR      92
/* The SQLITE_VERSION_NUMBER folio writes at offset 96: the SQLite whose file
 * format it writes (3.40.1), and the file format versions of WAL mode. */
#define FMT_DBHDR_SQLITE_VERSION 3040001u
#define FMT_DBHDR_WAL_VERSION    2
/** Whether the first bytes of a file are the database header's magic. */
int fmt_dbheader_magic_ok(const uint8_t *p);

typedef struct fmt_dbheader {
    uint32_t page_size; /* decoded: 1 in the file means 65536 */
    uint8_t write_version, read_version;
    uint8_t reserved;
    uint8_t max_payload_frac, min_payload_frac, leaf_payload_frac;
    uint32_t change_counter;
    uint32_t page_count;
    uint32_t freelist_trunk;
    uint32_t freelist_count;
    uint32_t schema_cookie;
    uint32_t schema_format;
    uint32_t default_cache_size;
    uint32_t autovacuum_root;
    uint32_t text_encoding;
    uint32_t user_version;
    uint32_t incremental_vacuum;
    uint32_t application_id;
    uint32_t version_valid_for;
    uint32_t sqlite_version;
} fmt_dbheader;

/** Parse and validate the header (magic, page size a power of two in
 * 512..65536, fractions 64/32/32, usable size >= 480). Returns 0 or FMT_EBAD,
 * with a short reason in *why when non-NULL. */
int fmt_dbheader_decode(const uint8_t *p, fmt_dbheader *out, const char **why);
void fmt_dbheader_encode(uint8_t *p, const fmt_dbheader *h);

/**
 * folio's version stamp in the header's expansion bytes 72..91 (see
 * dbheader.c for the layout). `version` is the version of the commit that
 * wrote this image of page 1, whose first frame was `frame` in the WAL
 * generation of salt-1 `salt1`: later commits of that generation count on
 * from it. With FMT_VSTAMP_END the stamp was written into the database file
 * by a checkpoint that had copied the generation `salt1` up to `frame`:
 * `version` is the version of that whole state. Versions are below 2^48.
 */
#define FMT_VSTAMP_MARK 0xF5
#define FMT_VSTAMP_END  0x01
#define FMT_VSTAMP_LOG  0x02 /* the commit log is on: every folio writer appends to it */
typedef struct fmt_vstamp {
    uint64_t version;
    uint8_t flags;
    uint32_t salt1;
    uint32_t frame;
    uint32_t dbid;
} fmt_vstamp;
/** 0, or -1 when the header carries no stamp (*out zeroed). */
int fmt_vstamp_decode(const uint8_t *page1, fmt_vstamp *out);
void fmt_vstamp_encode(uint8_t *page1, const fmt_vstamp *v);

/* ---- B-tree pages (page.c) ---- */
enum {
    FMT_PAGE_INDEX_INTERIOR = 2,
    FMT_PAGE_TABLE_INTERIOR = 5,
    FMT_PAGE_INDEX_LEAF = 10,
    FMT_PAGE_TABLE_LEAF = 13
};

typedef struct fmt_page {
    uint8_t type; /* FMT_PAGE_* */
    uint8_t is_leaf, is_table;
    uint8_t hdr_size; /* 8 or 12 */
    uint32_t hdr_off; /* 100 on page 1, else 0 */
    uint32_t first_freeblock;
    uint32_t ncells;
    uint32_t content_start; /* 0 in the file means 65536 */
    uint32_t frag_bytes;
    uint32_t right_child; /* interior pages only */
    uint32_t usable;      /* page size minus reserved bytes */
} fmt_page;

/** Parse the page header at `data` (+100 on page 1) of a page whose usable
 * size is `usable`. Validates the type, the cell count against the space for
 * the pointer array, and content_start. Returns 0 or FMT_EBAD. */
int fmt_page_decode(const uint8_t *data, uint32_t pgno, uint32_t usable, fmt_page *out);
/** Offset of cell `i` from the cell pointer array (not validated). */
static inline uint32_t fmt_page_cell_off(const uint8_t *data, const fmt_page *pg, uint32_t i)
{
    return fmt_get_u16(data + pg->hdr_off + pg->hdr_size + 2 * i);
}

/** Payload split of one cell (SQLite's formulas). */
uint32_t fmt_payload_max_local(uint32_t usable, int is_table_leaf);
uint32_t fmt_payload_min_local(uint32_t usable);
/** Bytes of a payload of `size` bytes stored on the b-tree page itself. */
uint32_t fmt_payload_local(uint32_t usable, int is_table_leaf, uint64_t size);

/** A parsed cell. */
typedef struct fmt_cell {
    uint32_t left_child;    /* interior cells */
    int64_t rowid;          /* table cells: the integer key */
    uint64_t payload_size;  /* bytes of payload in total (0 for table interior) */
    const uint8_t *payload; /* local payload bytes */
    uint32_t local;         /* bytes of payload on this page */
    uint32_t overflow;      /* first overflow page, 0 if none */
    uint32_t cell_size;     /* bytes the cell occupies on the page */
} fmt_cell;

/** Parse the cell at `data + off` on a page of kind `pg`; never reads at or
 * past `data + pg->usable`. Returns 0 or FMT_EBAD. */
int fmt_cell_parse(const uint8_t *data, const fmt_page *pg, uint32_t off, fmt_cell *out);

/* ---- WAL (walfmt.c) ---- */
#define FMT_WAL_HEADER_SIZE       32
#define FMT_WAL_FRAME_HEADER_SIZE 24
#define FMT_WAL_MAGIC_LE          0x377f0682u /* checksums computed little-endian */
#define FMT_WAL_MAGIC_BE          0x377f0683u /* checksums computed big-endian */
#define FMT_WAL_VERSION           3007000u

typedef struct fmt_walheader {
    uint32_t magic;
    uint32_t version;
    uint32_t page_size;
    uint32_t ckpt_seq;
    uint32_t salt1, salt2;
    uint32_t cksum1, cksum2;
} fmt_walheader;

/** Cumulative WAL checksum over `n` bytes (n a multiple of 8), starting from
 * s[0], s[1] and updating them. `big_endian` selects the word order. */
void fmt_wal_checksum(int big_endian, const uint8_t *p, size_t n, uint32_t s[2]);
/** Decode and validate (magic, version, page size, header checksum). */
int fmt_walheader_decode(const uint8_t *p, fmt_walheader *out);
/** Encode a header, computing its checksum (fills h->cksum1/2). */
void fmt_walheader_encode(uint8_t *p, fmt_walheader *h);

typedef struct fmt_walframe {
    uint32_t pgno;
    uint32_t db_size; /* nonzero for a commit frame */
    uint32_t salt1, salt2;
    uint32_t cksum1, cksum2;
} fmt_walframe;

void fmt_walframe_decode(const uint8_t *p, fmt_walframe *out);
/** Encode the frame header for `page` (page_size bytes), continuing the
 * checksum from s[] (updated in place) and storing it in the header. */
void fmt_walframe_encode(uint8_t *hdr, uint32_t pgno, uint32_t db_size, uint32_t salt1,
                         uint32_t salt2, int big_endian, const uint8_t *page, uint32_t page_size,
                         uint32_t s[2]);
/** Verify a frame: salts match, and the checksum over its first 8 header bytes
 * and page continues correctly from s[] (updated on success). Returns 1/0. */
int fmt_walframe_verify(const uint8_t *hdr, const uint8_t *page, uint32_t page_size,
                        const fmt_walheader *wh, uint32_t s[2]);

/* ---- Freelist trunk pages ---- */
/* A trunk page: u32 next trunk, u32 leaf count n, then n u32 leaf page numbers.
 * At most usable/4 - 2 leaves per trunk. */
static inline uint32_t fmt_trunk_max_leaves(uint32_t usable)
{
    return usable / 4 - 2;
}

#endif
