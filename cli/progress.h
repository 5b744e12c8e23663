/*
 * progress.h: a progress line on stderr for long work, drawn only when
 * stderr is a terminal and nothing otherwise (so pipes, files and tests see
 * no extra output).
 *
 *   dump  45% [##########..............] 1.2M/2.6M rows  310k rows/s  ETA 0:04
 *
 * With an unknown total (0) it shows the count, the rate and the elapsed time.
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
    unsigned tick; /* calls since the clock was last read */
    double start_s;
    double last_draw_s;
} cli_progress;

/** Start a progress line. `label` and `unit` must outlive the progress. */
void progress_start(cli_progress *p, const char *label, uint64_t total, const char *unit);
/** Record that `done` units are done; redraws when it is time. Cheap. */
void progress_update(cli_progress *p, uint64_t done);
/** Draw now (for work that cannot report steps, e.g. "check: working"). */
void progress_show(cli_progress *p);
/** Erase the line. */
void progress_finish(cli_progress *p);

#endif /* FOLIO_CLI_PROGRESS_H */
