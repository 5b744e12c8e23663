/* fuzz_wal.c - recovery of a database plus its WAL. The input is a 4-byte
 * big-endian length, that many bytes of database image, then the WAL. */
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t dblen =
        ((size_t)data[0] << 24) | ((size_t)data[1] << 16) | ((size_t)data[2] << 8) | data[3];
    if (dblen > size - 4)
        dblen = size - 4;
    char db[256], wal[260];
    strcpy(db, fuzz_path(".db"));
    strcpy(wal, db);
    strcat(wal, "-wal");
    if (fuzz_write_file(db, data + 4, dblen) == 0 &&
        fuzz_write_file(wal, data + 4 + dblen, size - 4 - dblen) == 0)
        fuzz_open_scan_check(db);
    unlink(db);
    unlink(wal);
    char shm[300];
    snprintf(shm, sizeof shm, "%s-shm", db);
    unlink(shm);
    return 0;
}
