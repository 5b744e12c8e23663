/* Keeps the test support library non-empty. */
typedef int folio_testsupport_empty_unit;
