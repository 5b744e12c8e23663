/*
 * pager_int.h - the pager's private structures, shared by pager.c and
 * pager_write.c.
 */
#ifndef FOLIO_PAGER_INT_H
#define FOLIO_PAGER_INT_H

#include <pthread.h>
#include <time.h>

#include "pager/pager.h"
#include "wal/wal.h"

struct pager {
    os_vfs *vfs;
    os_file *db;
    wal *wal;
    char *path;
    int readonly;
    int sync;
    uint32_t autockpt;
    uint32_t page_size;
    uint32_t usable;
    uint64_t db_bytes;                    /* size of the database file as last seen */
    uint8_t db_hdr_raw[FMT_DBHEADER_SIZE]; /* its first 100 bytes as last seen */
    int lock_level;
    os_file *shm;  /* SQLite's -shm, held while we write (see shm_guard) */
    int shm_locked;

    pthread_mutex_t mu; /* guards everything below and the WAL object */
    pthread_cond_t cond;
    ptxn *writer;
    int ckpt_running;
    ptxn **readers; /* every live transaction, the writer included */
    uint32_t nreaders, readers_cap;

    pg **slot; /* cache hash of clean pages by (pgno, frame) */
    uint32_t nslot;
    uint32_t ncached;
    size_t npages_mem; /* page images allocated: cached and dirty */
    size_t max_pages;
    pg *lru_head, *lru_tail;
    char ckpt_note[160]; /* why the last checkpoint stopped short, or "" */
};

struct stmt_entry {
    uint32_t pgno;
    uint8_t *pre; /* the page before the statement, or NULL: it was clean */
};

struct ptxn {
    pager *p;
    int write;
    uint32_t mx;     /* snapshot: the last frame visible (the writer's own spilled frames too) */
    uint32_t npages; /* database size in pages */
    fmt_dbheader hdr;
    /* write transactions */
    pg **dirty; /* private copies, in the order they were made dirty */
    uint32_t ndirty, dirty_cap;
    pg **dslot; /* open-addressing index of dirty by pgno */
    uint32_t ndslot;
    int spilled;      /* frames of this transaction already in the WAL */
    int hdr_dirty;    /* hdr must be written to page 1 at commit */
    /* the current statement (see pager_stmt_begin) */
    int stmt_active;
    int stmt_spilled;
    uint32_t stmt_seq;
    uint32_t stmt_npages;
    uint32_t stmt_mx;
    int stmt_hdr_dirty;
    fmt_dbheader stmt_hdr;
    struct stmt_entry *stmt_log;
    uint32_t stmt_n, stmt_cap;
    char err[256];
};

/* Keep sqlite3 connections out while writing (see pager.c). */
int pager_shm_guard(pager *p);
void pager_shm_release(pager *p);
/* Re-read what another process may have changed (call with mu held). */
int pager_refresh(pager *p);
/* The oldest snapshot of a live reader, UINT32_MAX if none (mu held). */
uint32_t pager_readers_min_mx(const pager *p);
/* Whether a live reader reads from the WAL (mu held). */
int pager_readers_use_wal(const pager *p);

#endif
