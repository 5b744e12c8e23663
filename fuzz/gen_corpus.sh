#!/usr/bin/env bash
# Seed corpora, made at run time: records and pages taken from small
# databases that sqlite3 writes, and whole database (+WAL) images.
set -euo pipefail
name=$1 dir=$2
[ -n "$(ls -A "$dir" 2>/dev/null)" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make_db() { # path pagesize
  sqlite3 "$1" "PRAGMA page_size=$2; CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL, d BLOB);
    CREATE INDEX tb ON t(b); CREATE TABLE w(x TEXT PRIMARY KEY, y) WITHOUT ROWID;
    INSERT INTO t(b,c,d) SELECT printf('row%d',value), value*0.5, zeroblob(value%7*300) FROM generate_series(1,60);
    INSERT INTO w SELECT printf('k%03d',value), value FROM generate_series(1,40);
    DELETE FROM t WHERE a%5=0;" >/dev/null
}
case "$name" in
  fuzz_record)
    printf '\x03\x01\x0f\x2a\x61\x62' > "$dir/r1"; printf '\x02\x07\x40\x09\x21\xfb\x54\x44\x2d\x18' > "$dir/r2"
    printf '\x04\x00\x08\x09' > "$dir/r3"; printf '\x05\x06\x0c\x0d\x01\x80\x00\x00\x00\x00\x00\x00\x00' > "$dir/r4" ;;
  fuzz_page)
    make_db "$tmp/p.db" 512
    n=$(( $(stat -c %s "$tmp/p.db") / 512 ))
    for i in $(seq 1 "$n"); do dd if="$tmp/p.db" of="$dir/page$i" bs=512 skip=$((i-1)) count=1 status=none; done ;;
  fuzz_db)
    make_db "$tmp/d.db" 512; cp "$tmp/d.db" "$dir/db512"
    make_db "$tmp/e.db" 1024; cp "$tmp/e.db" "$dir/db1024" ;;
  fuzz_wal)
    # A database plus a WAL left by a process that did not checkpoint: the
    # input is a 4-byte big-endian database length, the database, the WAL.
    sqlite3 "$tmp/w.db" "PRAGMA page_size=512; PRAGMA journal_mode=WAL; CREATE TABLE t(a,b); INSERT INTO t VALUES(1,'x');" >/dev/null
    python3 - "$tmp/w.db" "$dir/walseed" <<'PY'
import sqlite3, sys, os, shutil, struct
src, out = sys.argv[1], sys.argv[2]
c = sqlite3.connect(src); c.execute('PRAGMA wal_autocheckpoint=0')
for i in range(20): c.execute('INSERT INTO t VALUES(?,?)', (i, 'v'*(i*10))); c.commit()
db = open(src, 'rb').read(); wal = open(src + '-wal', 'rb').read()
open(out, 'wb').write(struct.pack('>I', len(db)) + db + wal)
c.close()
PY
    ;;
  fuzz_schema)
    for s in "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'x', UNIQUE(b))" \
             "CREATE TABLE w(x, y, PRIMARY KEY(x DESC, y)) WITHOUT ROWID" \
             "CREATE INDEX i ON t(b COLLATE NOCASE DESC, a) WHERE a > 0" \
             'CREATE TABLE "q""x"([a b] INT, `c` REAL DEFAULT -1.5e3, d BLOB DEFAULT x'"'"'00ff'"'"') STRICT'; do
      printf '%s' "$s" > "$dir/s$(printf '%s' "$s" | md5sum | cut -c1-8)"; done ;;
  fuzz_jsonl)
    # JSONL operations against the database fuzz_jsonl.c makes: t (rowid,
    # INTEGER PRIMARY KEY), w (WITHOUT ROWID, key (k, n)), p.
    i=0
    while IFS= read -r line; do
      i=$((i + 1)); printf '%s\n' "$line" > "$dir/op$i"
    done <<'JSONL'
{"op":"insert","table":"t","values":[null,"x",2.5,{"blob":"0aff"}]}
{"op":"insert","table":"t","rowid":9,"values":[null,{"text_hex":"ff00"},{"real":"-Infinity"},null]}
{"op":"update","table":"t","rowid":1,"values":[1,"uno",1e300,"z"]}
{"op":"upsert","table":"t","rowid":7,"values":[null,"seven",-0.0,9223372036854775807]}
{"op":"patch","table":"t","rowid":2,"set":{"A":"dos","c":{"blob":""}}}
{"op":"delete","table":"t","rowid":1}
{"op":"update","table":"w","key":["k",1],"values":["k",1,"x\u0000y"]}
{"op":"patch","table":"w","key":["k",2],"set":{"n":5}}
{"op":"upsert","table":"w","values":["q",-9223372036854775808,null]}
{"op":"delete","table":"w","key":["k",2]}
{"op":"exec","sql":"CREATE TABLE n(a INTEGER PRIMARY KEY, b)"}
{"op":"insert","table":"p","values":[]}
JSONL
    # Several lines in one input: a transaction with a failing line inside.
    printf '%s\n' '{"op":"exec","sql":"CREATE TABLE n(a, b UNIQUE)"}' \
      '{"op":"insert","table":"n","values":[1,2]}' '{"op":"insert","table":"n","values":[3,2]}' \
      '{"op":"insert","table":"n","values":[4,5]}' > "$dir/multi" ;;
esac
exit 0
