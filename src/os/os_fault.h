/*
 * os_fault.h - a fault-injecting os_vfs for tests.
 *
 * It wraps another vfs (normally the POSIX one) and:
 *   - counts operations by kind, so a test can run a workload once to learn
 *     how many there are and then fail or crash at each of them;
 *   - fails the Nth operation of a kind with an error (FOLIO_IOERR,
 *     FOLIO_FULL), optionally every one after it, or makes a write short;
 *   - simulates a power loss: from the Nth write-or-sync on, every operation
 *     fails; os_fault_crash() then puts the files into a state a real disk
 *     could be in after the loss: everything synced survives, and of the
 *     writes since each file's last sync an arbitrary (seeded) subset
 *     survives, in any order, each possibly torn at 512-byte sectors.
 *
 * Writes reach the real files at once; the vfs keeps, per file, the bytes
 * each unsynced write replaced so that the loss can be played back.
 * Directory entries are treated as durable (files created or removed stay so).
 */
#ifndef FOLIO_OS_FAULT_H
#define FOLIO_OS_FAULT_H

#include <stdint.h>

#include "os/os.h"

typedef struct os_fault os_fault;

enum {
    OSF_READ,
    OSF_WRITE,
    OSF_SYNC,
    OSF_TRUNCATE,
    OSF_OPEN,
    OSF_LOCK,
    OSF_ANY, /* every operation above */
    OSF_NKINDS
};

/** A fault vfs over `base` (NULL: POSIX). */
os_fault *os_fault_new(os_vfs *base);
void os_fault_free(os_fault *f);
os_vfs *os_fault_vfs(os_fault *f);

/** Operations of `kind` seen so far. */
long os_fault_count(const os_fault *f, int kind);
/** Forget counts and pending faults (the unsynced-write logs stay). */
void os_fault_reset(os_fault *f);

/**
 * The `nth` operation of `kind` from now (1-based) fails with `rc`
 * (FOLIO_IOERR, FOLIO_FULL); with `sticky` every later one of that kind too.
 * With `short_write` a failing write first writes half its bytes.
 */
void os_fault_fail(os_fault *f, int kind, long nth, int rc, int sticky, int short_write);

/** Power loss at the `nth` write or sync from now: it and everything after
 * fail with FOLIO_IOERR until os_fault_crash(). */
void os_fault_crash_at(os_fault *f, long nth);
/** Whether the power-loss point has been reached. */
int os_fault_crashed(const os_fault *f);
/**
 * Put every file touched into a post-power-loss state (see above), then
 * forget the logs and let operations through again. Returns the number of
 * unsynced writes that were dropped, or a negative error.
 */
long os_fault_crash(os_fault *f, uint64_t seed, int tear, int reorder);
/** Declare everything written so far durable (as after a clean shutdown). */
void os_fault_sync_all(os_fault *f);

#endif
