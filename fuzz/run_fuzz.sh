#!/usr/bin/env bash
# Run one fuzz target briefly (make test) or longer (FOLIO_SOAK=1), over a
# seed corpus that gen_corpus.sh makes with sqlite3, plus any crash
# reproductions kept in fuzz/regressions/<target>/.
set -euo pipefail
bin=$1 name=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
corpus="$work/$name"
mkdir -p "$corpus"
"$here/gen_corpus.sh" "$name" "$corpus"
# The targets' scratch files go to a directory of this run's own, which must
# be empty again at the end: a target that leaves files behind fails.
scratch="$work/$name.tmp"
rm -rf "$scratch"
mkdir -p "$scratch"
export FOLIO_FUZZ_TMP="$scratch"
secs=${FOLIO_FUZZ_SECONDS:-6}
[ "${FOLIO_SOAK:-0}" = 1 ] && secs=${FOLIO_FUZZ_SOAK_SECONDS:-300}
# Known crashers first: each must now run clean.
if [ -d "$here/regressions/$name" ] && ls "$here/regressions/$name"/* >/dev/null 2>&1; then
  "$bin" "$here/regressions/$name"/*
fi
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/$name-" "$corpus" 2>&1 | tail -15
if [ -n "$(ls -A "$scratch")" ]; then
  echo "$name left files behind in $scratch:" >&2
  ls -la "$scratch" >&2
  exit 1
fi
rmdir "$scratch"
