/*
 * progress.h: a progress line on stderr for long work, drawn only when
 * stderr is a terminal and nothing otherwise (so pipes, files and tests see
 * no extra output).
 *
 *   dump  45% [##########..............] 1.2M/2.6M rows  310k rows/s  ETA 0:04
 *
 * With an unknown total (0) it shows the count, the rate and the elapsed time.
 * Work that counts one thing (rows) but knows its size in another (bytes of
 * an input file) uses progress_update_sized(): the count and rate are shown
 * in the unit, the percentage and ETA come from the bytes:
 *
 *   import  45% [##########..............] 1.2M rows  310k rows/s  ETA 0:04
 *
 * The line is redrawn at most a few times a second, and only after the work
 * has run for a moment, so quick commands never flicker. progress_finish()
 * erases it.
 */
#ifndef FOLIO_CLI_PROGRESS_H
#define FOLIO_CLI_PROGRESS_H

#include <stdint.h>

typedef struct cli_progress {
    int active;        /* stderr is a terminal */
    int drawn;         /* something is on the line and must be erased */
    int bytes;         /* the unit is bytes: print KiB/MiB/GiB */
    const char *label; /* "dump", "import", ... */
    const char *unit;  /* "rows", "pages", "bytes", ... */
    uint64_t total;    /* 0: unknown */
    uint64_t done;
    uint64_t size_total; /* bytes of input for progress_update_sized(); 0: none */
    uint64_t size_done;
    unsigned tick; /* calls since the clock was last read */
    double start_s;
    double last_draw_s;
} cli_progress;

/** Start a progress line. `label` and `unit` must outlive the progress. */
void progress_start(cli_progress *p, const char *label, uint64_t total, const char *unit);
/** Record that `done` units are done; redraws when it is time. Cheap. */
void progress_update(cli_progress *p, uint64_t done);
/** Start a progress line counting `unit` for work whose size is `size_total`
 * bytes (0: unknown, then it shows as progress_start() with no total). */
void progress_start_sized(cli_progress *p, const char *label, uint64_t size_total,
                          const char *unit);
/** Record `done` units and `size_done` bytes of the total done. Cheap. */
void progress_update_sized(cli_progress *p, uint64_t done, uint64_t size_done);
/** Draw now (for work that cannot report steps, e.g. "check: working"). */
void progress_show(cli_progress *p);
/** Erase the line. */
void progress_finish(cli_progress *p);

#endif /* FOLIO_CLI_PROGRESS_H */
