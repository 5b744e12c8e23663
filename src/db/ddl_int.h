/*
 * ddl_int.h - what folio_exec's statements share between ddl.c (CREATE and
 * DROP) and alter.c (ALTER TABLE).
 */
#ifndef FOLIO_DB_DDL_INT_H
#define FOLIO_DB_DDL_INT_H

#include "db/write_int.h"
#include "schema/lex.h"

/** Re-read the schema as the transaction now sees it; the old catalog stays
 * alive for the handles that point into it, open table handles follow their
 * table (same name and root page) or become dead. */
int reload_catalog(folio_txn *txn);

/** The CHECK constraints and generated columns of a table definition
 * compile (SQLite's message when not). */
int ddl_table_exprs_compile(folio_db *db, const sch_table *def);

/** The expression keys and WHERE of an index compile against its table. */
int ddl_index_exprs_compile(folio_db *db, const db_table *tab, const sch_index *def);

/** ALTER TABLE (alter.c): tk[0..nt) are the statement's tokens, tk[0] ALTER. */
int alter_exec(folio_txn *txn, const char *sql, const lx_token *tk, size_t nt);

/** A new, empty database gets page 1 (the header and an empty
 * sqlite_schema) in the write transaction txn; others are left alone. */
int ddl_ensure_formatted(folio_txn *txn);

#endif
