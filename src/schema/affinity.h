/*
 * affinity.h - column affinity on write (see affinity.c).
 */
#ifndef FOLIO_SCHEMA_AFFINITY_H
#define FOLIO_SCHEMA_AFFINITY_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"
#include "schema/parse.h"

/* Room for the text of any number: an INTEGER's 20 characters, a REAL's
 * "%!.15g" rendering (at most 24). Callers give sch_apply_affinity this much. */
#define SCH_NUMBER_TEXT_BYTES 64

/** Apply `affinity` (SCH_AFF_*) to *v in place. A number turned into text
 * is written to textbuf (cap >= SCH_NUMBER_TEXT_BYTES) and *v points at it. */
int sch_apply_affinity(fmt_value *v, int affinity, char *textbuf, size_t cap);
/** If the text is a well-formed number (spaces around allowed), set *out to
 * its INTEGER or REAL value and return 1; else 0. */
int sch_text_to_number(const uint8_t *p, size_t n, fmt_value *out);
/** SQLite's rendering of a REAL as text ("%!.15g"). Returns the length. */
size_t sch_real_to_text(double r, char *buf, size_t cap);

#endif
