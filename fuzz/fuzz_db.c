/* fuzz_db.c - open, scan every table and index, and check a whole database
 * image. */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(".db");
    if (fuzz_write_file(path, data, size) == 0)
        fuzz_open_scan_check(path);
    unlink(path);
    /* A WAL-mode image opened read-only joins (and so makes) a -shm. */
    char shm[300];
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(shm);
    return 0;
}
