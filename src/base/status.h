/*
 * status.h - the text of folio's status codes (FOLIO_* in folio.h).
 *
 * The bottom room of the house: every layer may use it, and it uses none.
 * folio_strerror() in the public API answers from it, and so do lower
 * layers that put a code's meaning into a message.
 */
#ifndef FOLIO_BASE_STATUS_H
#define FOLIO_BASE_STATUS_H

/** A short English text for a FOLIO_* code ("database is locked"); never
 * NULL, "unknown status" for a code folio does not define. */
const char *status_text(int rc);

#endif
