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
             'CREATE TABLE "q""x"([a b] INT, `c` REAL DEFAULT -1.5e3, d BLOB DEFAULT x'"'"'00ff'"'"') STRICT' \
             "CREATE VIEW v(x) AS WITH c AS (SELECT 1) SELECT a FROM t LEFT JOIN c USING (a) WHERE a IN (SELECT b FROM u) UNION ALL VALUES (1) ORDER BY 1" \
             "CREATE VIEW w AS SELECT sum(a) FILTER (WHERE a > 0) OVER (PARTITION BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t WINDOW x AS (ORDER BY a)"; do
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
  fuzz_write)
    # Inputs laid out as fuzz_write.c describes (options, schema, operations):
    # a small schema, an index of 140 columns, a WITHOUT ROWID key of 70
    # columns, 66 indexes (past the 64 whose entries folio defers), 1000
    # columns at page size 65536; the operations are bytes from a fixed seed.
    python3 - "$dir" <<'PY'
import random, sys
d = sys.argv[1]
rnd = random.Random(18)
def ops(n):
    return bytes(rnd.randrange(256) for _ in range(n))
def count(n):  # 0xff then a 16-bit count: n columns
    return bytes([0xFF, (n - 1) & 0xFF, (n - 1) >> 8])
def index(unique, width, first, decor):  # width 1..4, or a count
    if width <= 4:
        return bytes([unique | (width - 1) << 1, first, decor])
    return bytes([unique | 0xFE, (width - 1) & 0xFF, (width - 1) >> 8, first, decor])
seeds = {
    # page 4096, a 64 KiB cache; t0: rowid alias, 5 columns, two indexes;
    # t1: WITHOUT ROWID, key of 2 columns, one index.
    'small': bytes([0x03, 1,
                    4, 0x04, 0, 0, 0x03, 0x13, 0x05, 0x00, 0x24, 2])
             + index(0, 1, 1, 0) + index(1, 2, 2, 1)
             + bytes([3, 0x21, 0, 0x02, 1, 0x01, 0x13, 0x83, 0x2e, 1]) + index(0, 1, 3, 0)
             + ops(3600),
    'index140': bytes([0x13, 0]) + count(150) + bytes([0x00, 0, 0]) + bytes(range(16))
                + bytes([2]) + index(0, 140, 0, 0x5A) + index(1, 140, 10, 0) + ops(2400),
    'key70': bytes([0x13, 0]) + count(80) + bytes([0x31, 0, 0x55, 70, 0]) + bytes(range(16))
             + bytes([1]) + index(0, 1, 75, 0) + ops(2400),
    'indexes66': bytes([0x02, 0, 11, 0x00, 0, 0]) + bytes(range(0, 48, 4))
                 + bytes([0xFF, 66])
                 + b''.join(index(k % 2, 1 + k % 2, k % 12, k * 37 & 0xFF) for k in range(66))
                 + ops(2400),
    'cols1000': bytes([0x07, 0]) + count(1000) + bytes([0x21, 0, 0x05, 2])
                + bytes(range(16)) + bytes([2]) + index(0, 140, 0, 0x33) + index(0, 1, 5, 0)
                + ops(1600),
    'page512': bytes([0x00, 2]) + ops(4800),
}
for i in range(6):
    seeds['random%d' % i] = ops(500 + 700 * i)
for name, data in seeds.items():
    open('%s/%s' % (d, name), 'wb').write(data)
PY
    ;;
  fuzz_expr)
    # The first byte picks the context (fuzz_expr.c), the rest is the text.
    i=0
    for s in "i + 1 > r AND x LIKE 'a%' ESCAPE '!'" "CASE WHEN i IS NULL THEN printf('%.3f|%-5s|%q', r, x, b) ELSE substr(x, -2, 3) END" \
             "CAST(n AS INTEGER) BETWEEN -9223372036854775808 AND 0x7fffffffffffffff" \
             "coalesce(NULL, abs(i), round(r, 2)) IN (1, 2.5, 'x' COLLATE NOCASE, hex(b))" \
             "x GLOB '[a-c]*' OR quote(b) <> trim(x) || rowid" "iif(i % 0, unicode(x), char(233, 0x1F600)) >> 63 << -1"; do
      printf "\\x$(printf '%02x' $i)%s" "$s" > "$dir/e$i"; i=$((i+1)); done
    # The trigger contexts (6, 7): NEW, OLD, subqueries over t and u, RAISE.
    printf '\x06%s' "(SELECT max(i) || group_concat(x, '-') FROM t WHERE x > new.x) || EXISTS (SELECT 1 FROM u WHERE v = old.x) || new.i IN (SELECT a FROM u ORDER BY a DESC LIMIT 1 OFFSET 1)" > "$dir/t1"
    printf '\x07%s' "new.i > 0 AND RAISE(ABORT, 'no') OR (SELECT count(*) FROM t AS q WHERE q.r < (SELECT min(a) FROM u WHERE u.v = q.x)) > old.rowid" > "$dir/t2"
    printf '\x06%s' "CASE WHEN new.n IS NULL THEN RAISE(IGNORE) ELSE (SELECT b || sum(i) FROM t ORDER BY 1 LIMIT new.i) END" > "$dir/t3" ;;
esac
exit 0
