# folio: top-level wrapper around CMake.
#   make run     install missing packages, build, run the demo
#   make test    install missing packages, build with sanitizers, run the whole suite
#   make bench   benchmarks against SQLite and LMDB (release build)
#   make soak    longer crash, fuzz and model runs (bounded)
#   make install PREFIX=/usr/local

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

DEBS := gcc clang cmake ninja-build make pkg-config libcriterion-dev libsqlite3-dev sqlite3 \
        libjansson-dev liblmdb-dev libzstd-dev liblz4-dev python3-venv python3-setuptools \
        python3-wheel
# Each package is checked through a file it installs, so the check is quick.
CHECKS := /usr/bin/gcc /usr/bin/clang /usr/bin/cmake /usr/bin/ninja /usr/bin/pkg-config \
          /usr/include/criterion/criterion.h /usr/include/sqlite3.h /usr/bin/sqlite3 \
          /usr/include/jansson.h /usr/include/lmdb.h /usr/include/zstd.h /usr/include/lz4.h \
          /usr/share/doc/python3-venv \
          /usr/lib/python3/dist-packages/setuptools/__init__.py \
          /usr/lib/python3/dist-packages/wheel/__init__.py

.PHONY: all deps build run test test-build test-tsan bench soak fuzz install clean format

all: build

deps:
	@missing=0; for f in $(CHECKS); do [ -e $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: $(DEBS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null; \
	  else \
	    echo "missing packages; run as root: apt-get install -y $(DEBS)"; exit 1; \
	  fi; \
	fi

build: deps
	cmake -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF -DFOLIO_BENCH=ON >/dev/null
	cmake --build build -j $(JOBS)

run: build
	@./demo.sh build

test-build: deps
	cmake -S . -B build-test $(GEN) -DCMAKE_BUILD_TYPE=Debug -DFOLIO_SANITIZE=ON -DFOLIO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DFOLIO_TEST_TIMEOUT=600 >/dev/null
	cmake --build build-test -j $(JOBS)

test: test-build
	cd build-test && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-tsan

# The threading tests again under ThreadSanitizer.
test-tsan: deps
	cmake -S . -B build-tsan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DFOLIO_TSAN=ON -DCMAKE_C_COMPILER=clang >/dev/null
	cmake --build build-tsan -j $(JOBS) --target model_test_threads model_test_bg_checkpoint regress_test_group_commit compat_test_metrics
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R '(model_test_(threads|bg_checkpoint)|regress_test_group_commit|compat_test_metrics)'
	# Again with readers reading through a map of the file.
	cd build-tsan && FOLIO_TEST_MMAP=1073741824 TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R 'model_test_(threads|bg_checkpoint)'

bench: build
	./build/bench/folio_bench $(BENCH_ARGS)

soak: test-build
	cmake -S . -B build-test -DFOLIO_TEST_TIMEOUT=3600 >/dev/null
	cd build-test && FOLIO_SOAK=1 ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)
	# The compat and model suites again, folio reading through a map of each file.
	cd build-test && FOLIO_SOAK=1 FOLIO_TEST_MMAP=1073741824 ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -R '^(compat|model)_'

install: deps
	cmake -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=Release -DFOLIO_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build -j $(JOBS)
	cmake --install build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-tsan
