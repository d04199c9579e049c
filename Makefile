# rdumap — the two set-up commands of the README live here.
#
#   make run      install what is missing, build, map and emulate examples/gemm.pat on fabric/sn10.cfg
#   make install  build and install rdumap on the PATH (/usr/local/bin; PREFIX=... to change)
#   make test   install what is missing, build with ASan+UBSan and -Werror, run every test
#
# Both work on a fresh Debian 12 machine as root (or with sudo).

PACKAGES := build-essential meson ninja-build pkg-config \
            libigraph-dev libglpk-dev libcmocka-dev libinih-dev libjansson-dev \
            libxml2-dev libgraphviz-dev python3 python3-numpy gnuplot-nox parallel \
            libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata \
            clang libclang-rt-14-dev valgrind

BUILD      ?= build
TEST_BUILD ?= build-test
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FABRIC     ?= fabric/sn10.cfg
EXAMPLE    ?= examples/gemm.pat

PREFIX     ?= /usr/local

.PHONY: all deps build run install test bench results clean

all: build

# Install only the Debian packages that are missing.
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

run: build
	./$(BUILD)/cli/rdumap $(EXAMPLE) --fabric $(FABRIC)

# meson install puts rdumap in PREFIX/bin, so that `rdumap ...` works as the
# README writes it.
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson compile -C $(BUILD)
	$(SUDO) meson install -C $(BUILD) --no-rebuild

$(TEST_BUILD)/build.ninja:
	meson setup $(TEST_BUILD) --buildtype=debugoptimized -Db_sanitize=address,undefined -Dwerror=true

test: deps $(TEST_BUILD)/build.ninja
	meson compile -C $(TEST_BUILD)
	python3 tests/fuzz/run --build-only --build $(TEST_BUILD)/fuzz-tree
	python3 tests/valgrind/run --build-only --build $(TEST_BUILD)/plain-tree
	@# The checker recurses once per operator of a chain (up to 4096, docs/robustness.md):
	@# the release build does so in the default 8 MiB stack; sanitizers at -O2 need more.
	ulimit -s 65536 && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(TEST_BUILD) --print-errorlogs --num-processes 2

bench: build
	meson test -C $(BUILD) --benchmark --verbose

# The results page (docs/results.md, its plots in docs/img/) and the
# strategies table in docs/placement.md, measured on this machine by the
# full sweep of bench/run (bench/README.md): some 400 to 500 rdumap runs
# (more with the imported suites), about 16 minutes on 2 shared cores.
results: build
	bench/run --update-docs --rdumap ./$(BUILD)/cli/rdumap --synth-dot ./$(BUILD)/bench/synth_dot

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
