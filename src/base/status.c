/*
 * status.c - the text of each status code (see status.h).
 */
#include "base/status.h"

#include "folio.h"

const char *status_text(int rc)
{
    switch (rc) {
    case FOLIO_OK:
        return "not an error";
    case FOLIO_ROW:
        return "a row is available";
    case FOLIO_DONE:
        return "no more rows";
    case FOLIO_NOTFOUND:
        return "not found";
    case FOLIO_ERROR:
        return "error";
    case FOLIO_MISUSE:
        return "bad argument or call sequence";
    case FOLIO_NOMEM:
        return "out of memory";
    case FOLIO_IOERR:
        return "I/O error";
    case FOLIO_CORRUPT:
        return "database file is damaged";
    case FOLIO_NOTADB:
        return "file is not a database";
    case FOLIO_UNSUPPORTED:
        return "not supported";
    case FOLIO_BUSY:
        return "database is locked";
    case FOLIO_READONLY:
        return "database is read-only";
    case FOLIO_CONSTRAINT:
        return "constraint failed";
    case FOLIO_FULL:
        return "disk is full";
    case FOLIO_NOTFOUND_ERR:
        return "no such object";
    case FOLIO_CANTOPEN:
        return "cannot open file";
    case FOLIO_TOOBIG:
        return "value too big";
    case FOLIO_MISMATCH:
        return "datatype mismatch";
    case FOLIO_TIMEOUT:
        return "transaction timed out";
    case FOLIO_CONFLICT:
        return "conflict with a concurrent commit";
    default:
        return "unknown status";
    }
}
