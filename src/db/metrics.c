/*
 * metrics.c - folio_metrics and its Prometheus text: the figures each layer
 * counts for a handle (the pager and WAL in pager_counters_get, the b-tree
 * in bt_counters_get), gathered into the public struct.
 */
#include "btree/btree.h"
#include "db/db_int.h"
#include "pager/pager.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The first version of folio_metrics_data ends with cache_bytes_used. */
#define METRICS_SIZE_V1 (offsetof(folio_metrics_data, cache_bytes_used) + sizeof(uint64_t))

static void gather(folio_db *db, folio_metrics_data *all)
{
    pager_counters pc;
    bt_counters bc;
    pager_counters_get(db->pager, &pc);
    bt_counters_get(db->pager, &bc);
    memset(all, 0, sizeof *all);
    all->size = sizeof *all;
    all->cache_hits = pc.cache_hits;
    all->cache_misses = pc.cache_misses;
    all->cache_evictions = pc.cache_evictions;
    all->pages_mapped = pc.pages_mapped;
    all->pages_read_db = pc.pages_read_db;
    all->pages_read_wal = pc.pages_read_wal;
    all->pages_written_db = pc.pages_written_db;
    all->wal_frames = pc.wal_frames;
    all->wal_syncs = pc.wal_syncs;
    all->db_syncs = pc.db_syncs;
    all->checkpoints = pc.checkpoints;
    all->checkpoint_pages = pc.checkpoint_pages;
    all->checkpoint_us = pc.checkpoint_us;
    all->checkpoints_short = pc.checkpoints_short;
    all->commits = pc.commits;
    all->rollbacks = pc.rollbacks;
    all->busy_waits = pc.busy_waits;
    all->btree_splits = bc.splits;
    all->btree_merges = bc.merges;
    all->pages_spilled = pc.pages_spilled;
    all->cache_bytes = pc.cache_bytes;
    all->cache_bytes_used = pc.cache_bytes_used;
    all->checkpoint_last_unix_us = pc.checkpoint_last_unix_us;
    uint64_t lc[3];
    db_log_counters(db, lc);
    all->log_records = lc[0];
    all->log_raw_bytes = lc[1];
    all->log_stored_bytes = lc[2];
    db_log_disk(db, &all->log_bytes, &all->log_oldest_version);
}

int folio_metrics(folio_db *db, folio_metrics_data *m)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, m != NULL);
    FOLIO_CHECK_ARG(db, m->size >= METRICS_SIZE_V1 && m->size % 8 == 0);
    folio_metrics_data all;
    gather(db, &all);
    /* A caller built against a later folio.h may ask for more than this
     * version knows: the fields it does not know stay as they were. */
    size_t n = m->size < sizeof all ? m->size : sizeof all;
    uint32_t size = m->size;
    memcpy(m, &all, n);
    m->size = size;
    return FOLIO_OK;
}

/* ---- Prometheus text ---- */

typedef struct metric_def {
    const char *name; /* after "folio_" */
    int counter;      /* else a gauge */
    size_t off;       /* in folio_metrics_data */
    const char *help;
} metric_def;

#define M(name, counter, field, help)                                                              \
    {                                                                                              \
        name, counter, offsetof(folio_metrics_data, field), help                                   \
    }

static const metric_def metric_defs[] = {
    M("cache_hits_total", 1, cache_hits, "Pages found in the page cache."),
    M("cache_misses_total", 1, cache_misses, "Pages read into the page cache."),
    M("cache_evictions_total", 1, cache_evictions, "Clean pages evicted from the page cache."),
    M("pages_mapped_total", 1, pages_mapped,
      "Pages read in place through the map of the database file."),
    M("db_pages_read_total", 1, pages_read_db, "Pages read from the database file."),
    M("wal_pages_read_total", 1, pages_read_wal, "Frames read from the WAL."),
    M("db_pages_written_total", 1, pages_written_db, "Pages written to the database file."),
    M("wal_frames_total", 1, wal_frames, "Frames appended to the WAL."),
    M("wal_syncs_total", 1, wal_syncs, "Syncs of the WAL file."),
    M("db_syncs_total", 1, db_syncs, "Syncs of the database file."),
    M("checkpoints_total", 1, checkpoints, "Checkpoints run."),
    M("checkpoint_pages_total", 1, checkpoint_pages,
      "Pages copied from the WAL into the database file by checkpoints."),
    M("checkpoint_microseconds_total", 1, checkpoint_us, "Time spent in checkpoints."),
    M("checkpoints_short_total", 1, checkpoints_short,
      "Checkpoints that stopped short because a reader held frames back."),
    M("commits_total", 1, commits, "Write transactions committed."),
    M("rollbacks_total", 1, rollbacks, "Write transactions ended without a commit."),
    M("busy_waits_total", 1, busy_waits, "Times a begin or a checkpoint waited for a lock."),
    M("btree_splits_total", 1, btree_splits, "B-tree rebalances that added pages."),
    M("btree_merges_total", 1, btree_merges, "B-tree rebalances that freed pages."),
    M("pages_spilled_total", 1, pages_spilled, "Dirty pages written out before their commit."),
    M("cache_bytes", 0, cache_bytes, "Bytes of page images the cache holds."),
    M("cache_used_bytes", 0, cache_bytes_used, "Bytes of page images pinned or dirty."),
    M("checkpoint_last_time_microseconds", 0, checkpoint_last_unix_us,
      "When the last checkpoint ended, UTC microseconds since 1970 (0: none yet)."),
    M("log_records_total", 1, log_records, "Commit log records appended."),
    M("log_raw_bytes_total", 1, log_raw_bytes, "Bytes of those records, uncompressed."),
    M("log_stored_bytes_total", 1, log_stored_bytes, "Bytes of those records as stored."),
    M("log_bytes", 0, log_bytes, "Bytes of the commit log's files."),
    M("log_oldest_version", 0, log_oldest_version,
      "Version of the commit log's oldest base: the oldest version a restore rebuilds."),
};

/* snprintf that keeps counting past the end of the buffer. */
static void out_add(char *buf, size_t cap, size_t *len, const char *name, const char *help,
                    int counter, uint64_t value)
{
    size_t at = *len < cap ? *len : cap;
    int n = snprintf(buf ? buf + at : NULL, cap - at,
                     "# HELP folio_%s %s\n# TYPE folio_%s %s\nfolio_%s %llu\n", name, help, name,
                     counter ? "counter" : "gauge", name, (unsigned long long)value);
    if (n > 0)
        *len += (size_t)n;
}

int folio_metrics_prometheus(folio_db *db, char *buf, size_t cap)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, buf != NULL || cap == 0);
    folio_metrics_data all;
    gather(db, &all);
    size_t len = 0;
    if (cap)
        buf[0] = 0;
    for (size_t i = 0; i < sizeof metric_defs / sizeof metric_defs[0]; i++) {
        const metric_def *d = &metric_defs[i];
        uint64_t v;
        memcpy(&v, (const char *)&all + d->off, sizeof v);
        out_add(buf, cap, &len, d->name, d->help, d->counter, v);
    }
    if (len > (size_t)INT32_MAX)
        return db_err(db, FOLIO_ERROR, "metrics text too long");
    return (int)len;
}
