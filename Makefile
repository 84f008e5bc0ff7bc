# libaio-rs: build, test, install. `make help` lists the targets.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
# Where the library's debug info goes: gdb finds it as DEBUGDIR/LIBDIR/NAME.debug
# when DEBUGDIR is its debug-file-directory (/usr/lib/debug by default).
DEBUGDIR ?= $(PREFIX)/lib/debug
DESTDIR ?=
# The architecture to build for, by Debian's name (cdylib/arches.sh lists
# them); another than this machine's is cross-built with Debian's toolchain.
ARCH ?= $(shell dpkg --print-architecture)
VERSION := 0.3.113
SO_FILE := libaio.so.1.0.2
DIST := target/dist/$(ARCH)

.PHONY: help build build-all deps header test test-arch model install demo bench deb

help:
	@echo "make demo     build, then run fio through the system libaio and through ours"
	@echo "make test     install test dependencies, build, run every test"
	@echo "make test-arch ARCH=arm64|ppc64el|s390x|riscv64  every suite in that architecture's emulated machine"
	@echo "make build    ARCH=arm64|ppc64el|s390x|riscv64 cross-builds (default: this machine's, $(ARCH))"
	@echo "make install  PREFIX=/usr/local DESTDIR=  (libaio.so.1.0.2 + links, libaio.a, libaio.h, libaio.pc, aiostat, man pages)"
	@echo "make header   regenerate include/libaio.h with the pinned cbindgen"
	@echo "make model    model-check the reap protocol with loom (part of make test)"
	@echo "make bench    benchmarks against the system libaio"
	@echo "make deb      ARCH=...: Debian packages that replace libaio1 and libaio-dev (in target/deb)"

# target/release/libaio.so (target/RUST-TARGET/release/ for another
# architecture) is what the tests load; target/dist/ARCH holds what install
# ships (stripped, its debug info apart; a libaio.a that exports only the API).
build:
	bash cdylib/build.sh $(ARCH)

# Every architecture of cdylib/arches.sh: the tests compare each with Debian's.
build-all:
	bash -c 'source cdylib/arches.sh && for arch in "$${ARCHES[@]}"; do bash cdylib/build.sh $$arch || exit; done'

deps:
	bash capi-tests/deps.sh

header:
	bash capi-tests/header/generate.sh include/libaio.h

test: deps build-all
	cargo test --release
	$(MAKE) model
	bash capi-tests/run.sh

# One architecture's guest, fully: every suite that runs in it, in a machine
# QEMU emulates, with Debian's kernel and libaio for it (capi-tests/guest).
test-arch: deps
	bash cdylib/build.sh
	bash cdylib/build.sh $(ARCH)
	GUEST_ARCHES=$(ARCH) GUEST_SCOPE=full bash capi-tests/run.sh suites/guest.sh

# The loom build has its own target directory: --cfg loom changes every crate.
model:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
	    cargo test --release -p libaio-rs --lib model -- --nocapture --test-threads=1

demo: deps build
	bash capi-tests/demo.sh

install: build
	install -d "$(DESTDIR)$(LIBDIR)/pkgconfig" "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(DEBUGDIR)$(LIBDIR)" "$(DESTDIR)$(BINDIR)"
	install -m 644 $(DIST)/$(SO_FILE) "$(DESTDIR)$(LIBDIR)/$(SO_FILE)"
	install -m 644 $(DIST)/$(SO_FILE).debug "$(DESTDIR)$(DEBUGDIR)$(LIBDIR)/$(SO_FILE).debug"
	ln -sf $(SO_FILE) "$(DESTDIR)$(LIBDIR)/libaio.so.1"
	ln -sf $(SO_FILE) "$(DESTDIR)$(LIBDIR)/libaio.so.1t64"
	ln -sf libaio.so.1 "$(DESTDIR)$(LIBDIR)/libaio.so"
	install -m 644 $(DIST)/libaio.a "$(DESTDIR)$(LIBDIR)/libaio.a"
	install -m 644 include/libaio.h "$(DESTDIR)$(INCLUDEDIR)/libaio.h"
	install -m 755 $(DIST)/aiostat "$(DESTDIR)$(BINDIR)/aiostat"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' pkgconfig/libaio.pc.in > "$(DESTDIR)$(LIBDIR)/pkgconfig/libaio.pc"
	for section in 1 3 7; do \
	    pages=$$(ls debian/man/*.$$section 2>/dev/null) || continue; \
	    install -d "$(DESTDIR)$(MANDIR)/man$$section" && install -m 644 $$pages "$(DESTDIR)$(MANDIR)/man$$section/"; \
	done

bench: deps build
	bash benches/run.sh

deb:
	bash debian/make-debs.sh $(ARCH)
