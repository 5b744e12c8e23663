#!/usr/bin/env bash
# The `make run` demo: bulk-load a generated dataset with folio and with
# sqlite3, compare, then look at folio's file with folio and stock sqlite3.
set -euo pipefail
build=${1:-build}
rows=${FOLIO_DEMO_ROWS:-2000000}
dir=demo
mkdir -p "$dir"
folio="$build/folio"

echo "== bulk load ($rows rows) =="
"$build/folio_demo" "$dir" "$rows"

echo
echo "== stock sqlite3 opens folio's file =="
echo "\$ sqlite3 $dir/demo.db 'PRAGMA integrity_check; SELECT count(*), min(id), max(id), avg(age) FROM user;'"
sqlite3 "$dir/demo.db" 'PRAGMA integrity_check; SELECT count(*), min(id), max(id), avg(age) FROM user;'

echo
echo "== folio reads it back =="
for cmd in "info" "tables" "check"; do
  echo "\$ folio $cmd $dir/demo.db"
  "$folio" $cmd "$dir/demo.db"
  echo
done
echo "\$ folio dump $dir/demo.db user | head -3"
"$folio" dump "$dir/demo.db" user | head -3 || true
echo
echo "Files are in $dir/."
