/*
 * commitlog.h - the commit log's files (commitlog_fmt.c), its writer
 * (commitlog.c) and what reads it (restore.c, feed.c).
 *
 * The log of database D lives in the directory "D-log/":
 *
 *   folio-log            the manifest (text): format, the database's
 *                        identity (its stamp's dbid), the log's own random
 *                        identity, the compression of new records
 *   <V:020>.seg          a segment: the records of versions V, V+1, ...
 *   <V:020>.base         a base: every page of the database at version V
 *
 * Segment: a 64-byte header (magic "FOLIOSEG", format, dbid, logid, first
 * version, the chain value before its first record, page size, a hash of
 * the header), then records. A record: a 48-byte header (stored bytes,
 * type, codec, flags, raw bytes, changes, pages, version, time, chain) and its
 * payload, compressed. The chain of a record is a hash of the chain before
 * it, its header and its stored payload: a record lost, moved or changed
 * breaks every chain after it, across segments too (each segment names the
 * chain it continues). A segment that is full ends with a CLOSED record;
 * the next one begins at the following version.
 *
 * Record types:
 *   COMMIT  one commit: its logical changes and the after-images of its
 *           pages (payload below)
 *   GAP     versions [version, last] happened without a record (another
 *           engine's commits folio did not see in time, or a log tail lost
 *           with the power); a base after them follows
 *   CLOSED  the end of a segment
 *
 * COMMIT payload (little-endian):
 *   u32 page size, u32 database size in pages after the commit
 *   u32 n_names, then per name: u32 root, u8 kind (CLOG_TABLE, CLOG_TABLE_WR
 *       for WITHOUT ROWID), u16 length, the name
 *   u32 change bytes, then the b-tree change entries of the tables named
 *       above (bt_log_entry in the commit log's form, see btree.h) and the
 *       DDL statements (CLOG_DDL entries: root 0, size bytes of SQL, rowid
 *       the bytes of the entries just before it that the statement itself
 *       made - rows DROP COLUMN rewrote, rows DROP TABLE deleted with
 *       foreign keys on - or 0), in the order they happened
 *   u32 n_pages, then per page: u32 page number, the page
 *   With CLOG_REC_DELTA in the record's flags, each page is instead:
 *   u32 page number, u8 kind, then for CLOG_PAGE_FULL the page, for
 *   CLOG_PAGE_DELTA u16 n_ranges and per range u16 offset, u16 length and
 *   the bytes: the page is the one before the commit (the record before,
 *   or the base) with those bytes replaced. Pages past the database's end
 *   before the commit are always whole.
 *
 * Base: a 64-byte header (magic "FOLIOBAS", format, dbid, logid, version,
 * page size, pages, time, a hash of the header), then chunks of up to 256
 * pages: a 24-byte chunk header (stored bytes, codec, first page, pages, a
 * hash of the raw pages) and the compressed pages; a last chunk of 0 pages
 * carries a hash of every chunk's hash. Written beside its name and renamed
 * once complete and synced.
 */
#ifndef FOLIO_DB_COMMITLOG_H
#define FOLIO_DB_COMMITLOG_H

#include <stddef.h>
#include <stdint.h>

#define CLOG_FORMAT     1
#define CLOG_SEG_HDR    64
#define CLOG_REC_HDR    48
#define CLOG_BASE_HDR   64
#define CLOG_CHUNK_HDR  24
#define CLOG_BASE_CHUNK 256 /* pages per base chunk */
#define CLOG_SEG_LIMIT  ((uint64_t)64 << 20)

enum { CLOG_COMMIT = 1, CLOG_GAP = 2, CLOG_CLOSED = 3 };
enum { CLOG_RAW = 0, CLOG_ZSTD = 1, CLOG_LZ4 = 2 };
enum { CLOG_TABLE = 0, CLOG_TABLE_WR = 1 };
/* A DDL statement in a commit's change entries (beside BT_LOG_*). */
#define CLOG_DDL 32

/** A 64-bit hash of `n` bytes, continuing from `seed`. */
uint64_t clog_hash(uint64_t seed, const void *p, size_t n);

/* ---- the manifest ---- */
typedef struct clog_manifest {
    uint32_t dbid;
    uint64_t logid;
    int codec; /* CLOG_ZSTD or CLOG_LZ4 */
} clog_manifest;
/** "<db>-log" (freshly allocated; NULL when out of memory). */
char *clog_dir_of(const char *db_path);
/** Read "<dir>/folio-log": 0, FOLIO_NOTFOUND_ERR when missing, or an error
 * with a message. */
int clog_manifest_read(const char *dir, clog_manifest *out, char *err, size_t errlen);
/** Write it (a temporary file synced and renamed). */
int clog_manifest_write(const char *dir, const clog_manifest *m, char *err, size_t errlen);

/* ---- compression ---- */
/* Payloads shorter than this are stored raw (a one-row commit's record
 * holds only the bytes it changed: compressing them costs more time than
 * it saves bytes). */
#define CLOG_RAW_BELOW 512
/** Compress `n` bytes with `codec` into a fresh buffer (*out, *out_n); a
 * codec that does not make them smaller stores them raw (*out_codec). */
int clog_compress(int codec, const uint8_t *in, size_t n, uint8_t **out, size_t *out_n,
                  int *out_codec);
/** What compressing records keeps from one to the next: the zstd context
 * (made at first use) and the output buffer, which has CLOG_REC_HDR bytes
 * of room before the stored bytes so that a record's header and payload go
 * out in one write. Zero-initialized; one user at a time. */
typedef struct clog_packer {
    struct ZSTD_CCtx_s *zstd;
    uint8_t *buf;
    size_t cap;
} clog_packer;
/** clog_compress into the packer's buffer: the stored bytes (the same as
 * clog_compress's) at *out, valid until the next call, with CLOG_REC_HDR
 * bytes before them that the caller may fill. */
int clog_pack(clog_packer *pk, int codec, const uint8_t *in, size_t n, uint8_t **out, size_t *out_n,
              int *out_codec);
/** Let go of the buffer when it grew past `keep` bytes (after a big record). */
void clog_packer_trim(clog_packer *pk, size_t keep);
void clog_packer_free(clog_packer *pk);
/** Expand `n` stored bytes to exactly `raw_n` bytes at `out`. */
int clog_expand(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t raw_n);

/* ---- records ---- */
/* clog_rec.flags: a COMMIT record of another engine's commit (or one made
 * while the log was off), taken from the WAL: its pages only, its row
 * changes unknown. */
#define CLOG_REC_PAGES_ONLY 0x1
/* clog_rec.flags: the record's pages are whole or changes against the
 * page before (see the COMMIT payload). */
#define CLOG_REC_DELTA 0x2
enum { CLOG_PAGE_FULL = 0, CLOG_PAGE_DELTA = 1, CLOG_PAGE_CELLS = 2 };
/* CLOG_PAGE_CELLS (a table leaf the commit filled with rows it inserted):
 * u16 n_refs, per ref u16 offset and u32 the offset of a row insert's
 * entry in the record's changes (their full form), then u16 n_ranges and
 * the ranges as in CLOG_PAGE_DELTA. The page is: zeros, each ref's row
 * written at its offset as a cell (varint payload size, varint rowid, the
 * payload), in order, then the ranges applied. */
/* clog_rec.flags: the change entries are in compact form: per entry u8
 * op, u8 had, then varints (LEB128) of pad, root, the rowid less the entry
 * before's (zigzag), a u8 that says whether the 8 bytes of the hash
 * follow, the varint of size, then the entry's bytes as in the full form.
 * A DDL entry's rowid counts bytes of the full form. clog_commit_parse
 * gives the full form back. */
#define CLOG_REC_COMPACT 0x4
/* The most bytes clog_entry_compact writes for an entry's header. */
#define CLOG_COMPACT_MAX 40
/** The header of the change entry `entry` (a bt_log_entry's bytes) in
 * compact form at `out`; `*prev_rowid` is the rowid of the entry before (0
 * at the first) and is updated. Returns the bytes written. */
size_t clog_entry_compact(const void *entry, int64_t *prev_rowid, uint8_t *out);
typedef struct clog_rec {
    uint32_t stored;
    uint8_t type, codec;
    uint16_t flags;
    uint32_t raw;
    uint32_t nchanges, npages;
    uint64_t version; /* GAP: the first version missing */
    int64_t time_us;
    uint64_t chain;
} clog_rec;
void clog_rec_encode(uint8_t *hdr, const clog_rec *r);
void clog_rec_decode(const uint8_t *hdr, clog_rec *r);
/** The chain of a record: from the chain before it, its header (chain
 * field excluded) and stored payload. */
uint64_t clog_rec_chain(uint64_t prev, const uint8_t *hdr, const uint8_t *payload, size_t n);

typedef struct clog_seg_hdr {
    uint32_t dbid;
    uint64_t logid;
    uint64_t first;
    uint64_t prev_chain;
    uint32_t page_size;
} clog_seg_hdr;
void clog_seg_hdr_encode(uint8_t *p, const clog_seg_hdr *h);
/** 0, or -1 when the bytes are not a valid segment header. */
int clog_seg_hdr_decode(const uint8_t *p, clog_seg_hdr *h);

/* ---- reading a log, in order, verified ---- */

/** A file of the log: a segment or a base, by the version its name says. */
typedef struct clog_file {
    uint64_t version;
    int is_base;
    char *path;
} clog_file;
/** The segments and bases of `dir`, in version order (bases before the
 * segment of the same version). */
int clog_list(const char *dir, clog_file **out, int *out_n, char *err, size_t errlen);
void clog_list_free(clog_file *v, int n);

typedef struct clog_reader clog_reader;
/**
 * Read the records of the log in `dir` from its oldest segment on. Each
 * record's chain is verified against the one before it, every segment
 * against the manifest and the segment before it. A damaged or foreign
 * file is an error naming the file and the offset (FOLIO_CORRUPT); a
 * record cut short at the very end of the last segment (a crash while it
 * was written) ends the log there.
 */
int clog_reader_open(clog_reader **out, const char *dir, char *err, size_t errlen);
/** The next record: 1 with *rec (and for COMMIT records the expanded
 * payload in *payload, valid until the next call), 0 at the end, or an
 * error with clog_reader_errmsg. `want_payload` 0 skips reading it. */
int clog_reader_next(clog_reader *r, clog_rec *rec, const uint8_t **payload, int want_payload);
/** Put the last record back: the next call reads it again (a reader that
 * must not pass a version the database does not have yet). */
void clog_reader_unread(clog_reader *r);
/** A reader that follows a live log: a closed segment with no segment
 * after it yet ends the log for now (instead of being an error). */
void clog_reader_set_follow(clog_reader *r, int on);
/** Look again at the directory and the open segment for what was appended
 * since (new records, segments and bases). */
int clog_reader_refresh(clog_reader *r);
const char *clog_reader_errmsg(const clog_reader *r);
const clog_manifest *clog_reader_manifest(const clog_reader *r);
/** Where the last record returned lies: its file and offset. */
const char *clog_reader_file(const clog_reader *r);
uint64_t clog_reader_offset(const clog_reader *r);
void clog_reader_close(clog_reader *r);

/* ---- a COMMIT payload ---- */
typedef struct clog_name {
    uint32_t root;
    uint8_t kind;
    const char *name; /* not NUL-terminated */
    uint16_t len;
} clog_name;
typedef struct clog_commit {
    uint32_t page_size, db_pages;
    uint32_t nnames;
    clog_name *names;
    const uint8_t *changes;
    size_t changes_n;
    uint32_t npages;
    const uint8_t *pages; /* npages x (u32 page number, page), or with
                             `delta` the entries of CLOG_REC_DELTA */
    size_t pages_n;       /* their bytes */
    int delta;
    uint8_t *changes_own; /* the changes in full form, from compact ones */
} clog_commit;
/** Parse (names into a fresh array, freed with clog_commit_free);
 * `rec_flags` are the record's (CLOG_REC_DELTA changes the pages' form,
 * checked here; CLOG_REC_COMPACT the changes', given back in full form). */
int clog_commit_parse(const uint8_t *p, size_t n, uint16_t rec_flags, clog_commit *out);
/** The page entry at `*pos` of c->pages (advanced past it): its number,
 * and either the whole page (*full), the ranges to apply (*ranges, a
 * u16 count then the ranges), or a CLOG_PAGE_CELLS body (*cells, for
 * clog_cells_build); all already checked by clog_commit_parse. */
void clog_commit_page(const clog_commit *c, size_t *pos, uint32_t *pgno, const uint8_t **full,
                      const uint8_t **ranges, const uint8_t **cells);
/** The page of a CLOG_PAGE_CELLS entry (`cells` from clog_commit_page)
 * into `page` (c->page_size bytes). */
void clog_cells_build(const clog_commit *c, const uint8_t *cells, uint8_t *page);

/* The row inserts of the record being built, for clog_cells_make. */
typedef struct clog_ins {
    int64_t rowid;
    uint32_t full_off; /* its entry's offset in the changes' full form */
    uint32_t size;
    const uint8_t *payload;
} clog_ins;
typedef struct clog_ins_index {
    clog_ins *v;
    size_t n, cap;
    uint32_t *slot; /* hash of the rowids: index + 1, 0 when empty */
    size_t nslot;
    int built;
} clog_ins_index;
/** Empty the index for the next record (its memory is kept). */
void clog_ins_reset(clog_ins_index *x);
void clog_ins_free(clog_ins_index *x);
int clog_ins_add(clog_ins_index *x, int64_t rowid, uint32_t full_off, const uint8_t *payload,
                 uint64_t size);
/** A table leaf page as a CLOG_PAGE_CELLS entry's body into `out` (room for
 * `cap` bytes), its rows taken from the inserts of `x` where their bytes
 * are the cells'; `synth` is scratch of `ps` bytes. *out_n is 0 when the
 * page is no table leaf, holds none of those rows, or the entry would not
 * be smaller than the page. */
int clog_cells_make(clog_ins_index *x, const uint8_t *page, uint32_t pgno, uint32_t ps,
                    uint32_t usable, uint8_t *synth, uint8_t *out, size_t cap, size_t *out_n);

/** Apply the ranges of a CLOG_PAGE_DELTA entry to `page`. */
void clog_delta_apply(uint8_t *page, const uint8_t *ranges);
/** The ranges that turn `before` into `after` (`ps` bytes each) into
 * `out` (room for `cap` bytes): their bytes (u16 count, ranges), or 0 when
 * they would not be smaller than the page. */
size_t clog_delta_make(const uint8_t *before, const uint8_t *after, uint32_t ps, uint8_t *out,
                       size_t cap);
void clog_commit_free(clog_commit *c);

/* ---- bases ---- */
typedef struct clog_base_hdr {
    uint32_t dbid;
    uint64_t logid;
    uint64_t version;
    uint32_t page_size, npages;
    int64_t time_us;
} clog_base_hdr;
typedef struct clog_base_reader clog_base_reader;
/** Open a base (header verified against the manifest when `m` is given). */
int clog_base_open(clog_base_reader **out, const char *path, const clog_manifest *m,
                   clog_base_hdr *hdr, char *err, size_t errlen);
/** The next chunk of pages: 1 with *first, *count and the pages (valid
 * until the next call), 0 after the verified last chunk, or FOLIO_CORRUPT
 * naming the file and offset. */
int clog_base_next(clog_base_reader *b, uint32_t *first, uint32_t *count, const uint8_t **pages,
                   char *err, size_t errlen);
void clog_base_close(clog_base_reader *b);

typedef struct clog_base_writer clog_base_writer;
int clog_base_create(clog_base_writer **out, const char *dir, const clog_manifest *m,
                     const clog_base_hdr *hdr, char *err, size_t errlen);
/** Add page `pgno` (pages come in ascending order, 1..npages). */
int clog_base_add(clog_base_writer *w, uint32_t pgno, const uint8_t *page);
/** Finish: last chunk, sync, rename into place, sync the directory. */
int clog_base_finish(clog_base_writer *w, char *err, size_t errlen);
void clog_base_abort(clog_base_writer *w);

/* ---- looking after a log (logadmin.c) ---- */
/** The log directory `source` names: itself when it holds a manifest, else
 * "<source>-log" (a database's). 0 or FOLIO_NOMEM. */
int clog_source_dir(const char *source, char *dir, size_t n);
/** When `source` is a database (not the log directory `dir` itself) whose
 * file names its identity: FOLIO_CORRUPT with a message if the log `m` is
 * another database's, else 0. */
int clog_check_owner(const char *source, const char *dir, const clog_manifest *m, char *err,
                     size_t errlen);
/** The last version of a GAP record, from its payload. */
uint64_t clog_gap_last(const uint8_t *payload);

/** Sync a directory (after a rename or a new file in it). */
int clog_sync_dir(const char *dir);
int64_t clog_now_us(void);

#endif
