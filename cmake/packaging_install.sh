#!/bin/sh
# The packaging_install CTest: install into a fresh prefix, then build and run
# a small program the way a user would, through `pkg-config --cflags --libs
# folio` (and `--static`); check that folio.pc points into the prefix, that
# libsqlite3 reads what the program wrote, and that the man page is installed,
# names every command and option of `folio --help` and renders without
# warnings (when man is there).
#
#   packaging_install.sh CMAKE BUILD_DIR WORK_DIR CC CFLAGS PKG_CONFIG MANDIR SQLITE3 MAN BINDIR
set -eu
cmake=$1 build=$2 work=$3 cc=$4 cflags=$5 pkg_config=$6 mandir=$7 sqlite3=$8 man=$9 bindir=${10}
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name folio.pc)
[ -n "$pc" ] || { echo "no folio.pc under $prefix"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
real_prefix=$(cd "$prefix" && pwd -P)
for var in prefix libdir includedir; do
  dir=$("$pkg_config" --variable=$var folio)
  case "$(cd "$dir" && pwd -P)/" in
    "$real_prefix"/*) ;;
    *) echo "folio.pc: $var=$dir is not inside $prefix"; exit 1 ;;
  esac
done
cat > "$work/hello.c" <<'END_OF_C'
#include <folio.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    folio_db *db;
    folio_txn *tx;
    folio_table *t;
    folio_cursor *c;
    int64_t rowid;
    folio_value row[2] = {{.type = FOLIO_NULL}, {.type = FOLIO_TEXT, .u.s = {"installed", 9}}};
    folio_value v;
    if (argc != 2 || folio_open(&db, argv[1], NULL) != FOLIO_OK)
        return 1;
    if (folio_begin(&tx, db, FOLIO_TXN_WRITE) != FOLIO_OK ||
        folio_exec(tx, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)") != FOLIO_OK ||
        folio_table_open(&t, tx, "t") != FOLIO_OK || folio_insert(&rowid, t, row, 2) != FOLIO_OK ||
        folio_commit(tx) != FOLIO_OK)
        return 2;
    if (folio_begin(&tx, db, FOLIO_TXN_READ) != FOLIO_OK ||
        folio_table_open(&t, tx, "t") != FOLIO_OK || folio_cursor_open(&c, t, NULL) != FOLIO_OK ||
        folio_cursor_seek_rowid(c, rowid) != FOLIO_ROW || folio_cursor_column(&v, c, 1) != FOLIO_OK ||
        v.type != FOLIO_TEXT || v.u.s.n != 9 || memcmp(v.u.s.p, "installed", 9) != 0)
        return 3;
    folio_cursor_close(c);
    if (folio_commit(tx) != FOLIO_OK || folio_close(db) != FOLIO_OK)
        return 4;
    puts("hello from folio");
    return 0;
}
END_OF_C
cd "$work"
# The shared library, as `pkg-config --cflags --libs` gives it.
$cc $cflags -o hello hello.c $("$pkg_config" --cflags --libs folio)
LD_LIBRARY_PATH="$("$pkg_config" --variable=libdir folio)" ./hello shared.db
# The static library, with Libs.private from `pkg-config --static`.
$cc $cflags -o hello-static hello.c $("$pkg_config" --cflags folio) \
    $("$pkg_config" --static --libs folio | sed 's/-lfolio/-Wl,-Bstatic -lfolio -Wl,-Bdynamic/')
./hello-static static.db
for db in shared.db static.db; do
  if [ -n "$sqlite3" ]; then
    out=$("$sqlite3" "$db" "PRAGMA integrity_check; SELECT a, b FROM t;")
    [ "$out" = "$(printf 'ok\n1|installed')" ] || { echo "sqlite3 reads $db as: $out"; exit 1; }
  fi
done
page="$prefix/$mandir/man1/folio.1"
[ -s "$page" ] || { echo "man page not installed: $page"; exit 1; }
# Every command of the usage and every option of each command's help has its
# entry ("\-" is roff's hyphen).
folio="$prefix/$bindir/folio"
for cmd in $("$folio" --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'); do
  grep -qF ".BI \"$cmd " "$page" || { echo "folio.1 lacks the command $cmd"; exit 1; }
  for opt in $("$folio" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" "$page" ||
      { echo "folio.1 lacks the option $opt (of folio $cmd)"; exit 1; }
  done
done
if [ -n "$man" ]; then
  warnings=$(MANWIDTH=80 "$man" --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || { echo "man -l $page: $warnings"; exit 1; }
  MANWIDTH=80 "$man" -l "$page" 2>/dev/null | grep -q "EXIT STATUS"
fi
echo "packaging ok: $prefix"
