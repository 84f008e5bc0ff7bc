# libaio-rs: build, test, install. `make help` lists the targets.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=
VERSION := 0.3.113
SO_FILE := libaio.so.1.0.2

.PHONY: help build deps header test install demo bench

help:
	@echo "make demo     build, then run fio through the system libaio and through ours"
	@echo "make test     install test dependencies, build, run every test"
	@echo "make install  PREFIX=/usr/local DESTDIR=  (libaio.so.1.0.2 + links, libaio.a, libaio.h, libaio.pc)"
	@echo "make header   regenerate include/libaio.h with the pinned cbindgen"
	@echo "make bench    benchmarks against the system libaio"

build:
	cargo build --release

deps:
	bash capi-tests/deps.sh

header:
	bash capi-tests/header/generate.sh include/libaio.h

test: deps build
	cargo test --release
	bash capi-tests/run.sh

demo: deps build
	bash capi-tests/demo.sh

install: build
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 target/release/libaio.so $(DESTDIR)$(LIBDIR)/$(SO_FILE)
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/libaio.so.1
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/libaio.so.1t64
	ln -sf libaio.so.1 $(DESTDIR)$(LIBDIR)/libaio.so
	install -m 644 target/release/libaio.a $(DESTDIR)$(LIBDIR)/libaio.a
	install -m 644 include/libaio.h $(DESTDIR)$(INCLUDEDIR)/libaio.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' pkgconfig/libaio.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libaio.pc

bench: deps build
	bash benches/run.sh
