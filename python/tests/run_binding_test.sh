#!/bin/sh
# The python_binding CTest: install the binding into a fresh venv, offline,
# and run its tests against a given libfolio.so.
#
#   run_binding_test.sh PYTHON3 SOURCE_DIR WORK_DIR LIBFOLIO [ASAN_RUNTIME]
#
# PYTHON3     the interpreter to make the venv from (Debian's /usr/bin/python3)
# SOURCE_DIR  folio's python/ directory
# WORK_DIR    made afresh: the copy of the sources, the venv, the test files
# LIBFOLIO    the libfolio.so to test (exported as FOLIO_LIB)
# ASAN_RUNTIME  for a libfolio.so built with AddressSanitizer: the ASan
#             runtime, preloaded into python3 (which is not instrumented)
#
# The venv sees the system's site-packages so that pip can build the package
# with Debian's setuptools and wheel and no index: --no-index keeps pip off
# the network, --no-build-isolation makes it use those instead of fetching
# its build requirements.
set -eu
python3=$1 source_dir=$2 work=$3 lib=$4 asan_runtime=${5:-}

rm -rf "$work"
mkdir -p "$work/tmp"
# pip builds in the source tree (build/, *.egg-info): build from a copy, so
# that the source stays clean and parallel builds do not collide.
cp -R "$source_dir" "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info "$work/src/folio/__pycache__" \
       "$work/src/tests/__pycache__"

"$python3" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --no-index --no-build-isolation \
    --disable-pip-version-check --quiet "$work/src"

cd "$work/tmp"
export FOLIO_LIB="$lib"
export FOLIO_TMP="$work/tmp"
export FOLIO_PYTHON_EXPECT_INSTALLED="$work/venv"
if [ -n "$asan_runtime" ]; then
    # Python's own allocations are not freed at exit: leak checks are for
    # the C tests. Later options win, so this one goes last.
    asan_options="detect_leaks=0"
    # ASan starts llvm-symbolizer for its report with our environment; with
    # the runtime preloaded into it too, the symbolizer stays behind after
    # the report, holding the test's output open. Give ASan one that drops
    # LD_PRELOAD (it must be called llvm-symbolizer to be spoken to as one).
    symbolizer=$(command -v llvm-symbolizer || ls /usr/bin/llvm-symbolizer-* 2>/dev/null | tail -n 1 || true)
    if [ -n "$symbolizer" ]; then
        mkdir -p "$work/bin"
        printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$symbolizer" > "$work/bin/llvm-symbolizer"
        chmod +x "$work/bin/llvm-symbolizer"
        export ASAN_SYMBOLIZER_PATH="$work/bin/llvm-symbolizer"
    else
        asan_options="$asan_options:symbolize=0"
    fi
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$asan_options"
    export LD_PRELOAD="$asan_runtime"
fi
exec "$work/venv/bin/python" -m unittest discover -s "$work/src/tests" -t "$work/src/tests" -v
