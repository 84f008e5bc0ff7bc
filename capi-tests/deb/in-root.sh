#!/usr/bin/env bash
# in-root.sh SCENARIO: runs as root inside a throwaway root (throwaway-root.sh
# made it), installs libaio-rs1 and libaio-rs-dev there and uses them:
#   replace   Debian's libaio1 stays: diversions, ldconfig, fio, a program
#             that asks for libaio.so.1t64, the development package,
#             `apt-get install --reinstall libaio1`, ours installed again,
#             then dpkg -r and dpkg -P; libaio-rs-tools installed, its
#             aiostat run, removed and purged.
#   provides  Debian's libaio1 goes: apt keeps fio, installs sysbench
#             (Depends: libaio1) without libaio1, then libaio1 comes back.
# Prints "ok ..."/"not ok ..." lines for capi-tests' relay_checks, and stops
# early, with exit status 1, when a step the rest depends on failed.
set -u
TESTS=/libaio-rs-test/tests
RUNTIME_DEB=$(echo /libaio-rs-test/debs/libaio-rs1_*.deb)
DEV_DEB=$(echo /libaio-rs-test/debs/libaio-rs-dev_*.deb)
TOOLS_DEB=$(echo /libaio-rs-test/debs/libaio-rs-tools_*.deb)
LIBDIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DIVERSION_DIR=$LIBDIR/libaio-rs-diverted
LIBRARY=$LIBDIR/libaio.so.1.0.2
APT=(timeout 120 apt-get -y -q -o Dpkg::Use-Pty=0)
cd /tmp || exit 1

# expect NAME COMMAND...: "ok NAME" if COMMAND exits 0, else "not ok NAME".
expect() {
    local name=$1; shift
    if "$@"; then echo "ok $name"; else echo "not ok $name"; fi
}
# run NAME COMMAND...: expect, with COMMAND's output kept in /tmp/run.log
# and shown if it fails.
run() {
    local name=$1; shift
    if "$@" > /tmp/run.log 2>&1; then echo "ok $name"; else echo "not ok $name"; cat /tmp/run.log; return 1; fi
}
# must NAME COMMAND...: run, and stop here if it fails: what follows needs it.
must() { run "$@" || exit 1; }

not() { ! "$@"; }
quietly() { "$@" > /tmp/quietly.log 2>&1; }
sha() { sha256sum < "$1" | cut -d ' ' -f 1; }
absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
known_to_dpkg() { dpkg-query -W "$1" > /dev/null 2>&1; }
# owned_by PACKAGE PATH: dpkg -S names PACKAGE among PATH's owners.
owned_by() { dpkg -S "$2" | grep -v '^diversion ' | grep -Eq "(^|, )$1(:[a-z0-9]+)?[,:]"; }
# diverted_by_us NAME: LIBDIR/NAME is diverted by libaio-rs1 to DIVERSION_DIR/NAME.
diverted_by_us() {
    [ "$(dpkg-divert --listpackage "$LIBDIR/$1")" = libaio-rs1 ] &&
        [ "$(dpkg-divert --truename "$LIBDIR/$1")" = "$DIVERSION_DIR/$1" ]
}
# md5sums_verified PACKAGE: it has md5sums (dpkg --verify says nothing of
# files without), and dpkg --verify finds every file as they say.
md5sums_verified() {
    grep -q . <(dpkg-query --control-show "$1" md5sums) && [ -z "$(dpkg --verify "$1" 2>&1)" ]
}
no_diversion_of_ours() { not grep -q ' by libaio-rs1$' <(dpkg-divert --list); }
# ldconfig_leads NAME FILE: ldconfig's cache has NAME, and it leads to FILE.
ldconfig_leads() {
    local found
    found=$(ldconfig -p | sed -n "s|^\t$1 (.*) => ||p" | xargs -r realpath | sort -u)
    [ "$found" = "$2" ] || { echo "ldconfig -p: $1 leads to '$found', not $2"; return 1; }
}
# The ldconfig trigger has run since the last call if the cache was rewritten.
ld_cache_stamp() { stat -c %y /etc/ld.so.cache; }
needed_libaio() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(libaio[^]]*\)\]/\1/p'; }

# traced NAME COMMAND...: runs COMMAND, its output in /tmp/NAME.log and the
# loader's log of the files it loads in /tmp/NAME.ld.PID.
traced() {
    local name=$1; shift
    LD_DEBUG=files LD_DEBUG_OUTPUT="/tmp/$name.ld" "$@" > "/tmp/$name.log" 2>&1
}
# loads FILE SHA256 NAME: the traced run NAME initialised one libaio, and
# its real path is FILE, whose content is SHA256.
loads() {
    local loaded
    loaded=$(sed -n 's/.*calling init: \(.*libaio[^ ]*\)$/\1/p' /tmp/"$3".ld.* | xargs -r realpath | sort -u)
    if [ "$loaded" != "$1" ] || [ "$(sha "$1")" != "$2" ]; then
        echo "$3 loaded '$loaded', not $1 with sha256 $2"
        return 1
    fi
}
loads_ours() { loads "$LIBRARY" "$PACKAGED_SHA" "$1"; }
ours_in_place() { [ "$(sha "$LIBRARY")" = "$PACKAGED_SHA" ]; }
system_in_place() { [ "$(sha "$LIBRARY")" = "$SYSTEM_SHA" ]; }
system_soname_link() { [ "$(readlink "$LIBDIR/libaio.so.1")" = libaio.so.1.0.2 ]; }
system_diverted() { [ "$(sha "$DIVERSION_DIR/libaio.so.1.0.2")" = "$SYSTEM_SHA" ]; }

PACKAGED_SHA=$(dpkg-deb --fsys-tarfile "$RUNTIME_DEB" | tar -xO ".$LIBRARY" | sha256sum | cut -d ' ' -f 1)
SYSTEM_SHA=$(sha "$LIBRARY")
# apt installs libaio1 again at this version, so that its files are these.
LIBAIO1=libaio1=$(dpkg-query -W -f='${Version}' libaio1)
expect "before: libaio.so.1.0.2 is Debian's libaio1's" owned_by libaio1 "$LIBRARY"

install_ours() {
    local cache_before had_libaio_dev=no
    cache_before=$(ld_cache_stamp)
    installed libaio-dev && had_libaio_dev=yes
    must "dpkg -i libaio-rs1 libaio-rs-dev" dpkg -i "$RUNTIME_DEB" "$DEV_DEB"
    if [ $had_libaio_dev = yes ]; then
        expect "dpkg -i removed libaio-dev, which libaio-rs-dev replaces" not installed libaio-dev
    else
        echo "libaio-dev was not installed: its replacement by libaio-rs-dev not checked"
    fi
    expect "libaio-rs1's files match its md5sums" md5sums_verified libaio-rs1
    expect "libaio-rs-dev's files match its md5sums" md5sums_verified libaio-rs-dev
    expect "libaio.so.1.0.2 is the packaged file" ours_in_place
    expect "dpkg -S libaio.so.1.0.2 names libaio-rs1" owned_by libaio-rs1 "$LIBRARY"
    local name
    for name in libaio.so.1.0.2 libaio.so.1 libaio.so.1t64.0.2 libaio.so.1t64; do
        expect "$name is diverted by libaio-rs1 to $DIVERSION_DIR" diverted_by_us "$name"
    done
    expect "Debian's libaio.so.1.0.2 waits intact in $DIVERSION_DIR" system_diverted
    expect "dpkg -i ran ldconfig (/etc/ld.so.cache rewritten)" [ "$(ld_cache_stamp)" != "$cache_before" ]
    expect "ldconfig -p: libaio.so.1 leads to ours" ldconfig_leads libaio.so.1 "$LIBRARY"
    expect "ldconfig -p: nothing in $DIVERSION_DIR" not grep -qF "$DIVERSION_DIR" <(ldconfig -p)
}

# fio through its libaio engine, without LD_PRELOAD: a verified write.
# fio_succeeded STATUS: fio exited STATUS, 0, and its one job wrote, and read
# back at least as much (the verify pass), without error.
fio_succeeded() {
    [ "$1" -eq 0 ] && sed -n '/^{$/,$p' /tmp/fio.json | jq -e '.jobs | length == 1 and .[0].error == 0
        and .[0].write.total_ios > 0 and .[0].read.total_ios >= .[0].write.total_ios' > /dev/null
}
fio_verified_write() {
    local status=0
    traced fio timeout 60 fio --name=verify --ioengine=libaio --direct=1 --rw=write --bs=4k --iodepth=16 \
        --size=4M --verify=crc32c --verify_state_save=0 --filename=/tmp/fio.data \
        --output-format=json --output=/tmp/fio.json || status=$?
    expect "fio --ioengine=libaio: a write verified without error (fio exited $status)" fio_succeeded $status
    expect "fio: the loader initialised our libaio alone" loads_ours fio
}

# build_client NAME LINK-FLAGS...: builds /tmp/NAME from aio-client.c.
build_client() {
    local name=$1; shift
    must "build $name" gcc -Wall -Werror -o "/tmp/$name" "$TESTS/aio-client.c" "$@"
}
# client NAME: runs /tmp/NAME, relays its checks, and checks that io_setup's
# code came from our file.
client() {
    local status=0
    traced "$1" "/tmp/$1" "/tmp/$1.data" || status=$?
    expect "$1: exits 0 (exited $status)" [ $status -eq 0 ]
    sed -E "s/^(ok|not ok) /\1 $1: /" "/tmp/$1.log"
    expect "$1: io_setup is mapped from our libaio.so.1.0.2" grep -qx "mapped: $LIBRARY" "/tmp/$1.log"
    expect "$1: the loader initialised our libaio alone" loads_ours "$1"
}

# A program built where libaio is libaio1t64 (Debian 13, Ubuntu 24.04).
t64_client() {
    mkdir -p /tmp/stub
    must "build a libaio.so.1t64 stand-in to link against" gcc -Wall -Werror -shared -fPIC \
        -o /tmp/stub/libaio.so.1t64 -Wl,-soname,libaio.so.1t64 -Wl,--version-script="$TESTS/t64-stub.map" \
        "$TESTS/t64-stub.c"
    build_client t64-client -L/tmp/stub -l:libaio.so.1t64
    expect "t64-client asks for libaio.so.1t64 alone" [ "$(needed_libaio /tmp/t64-client)" = libaio.so.1t64 ]
    client t64-client
}

dev_package() {
    expect "pkg-config --modversion libaio: 0.3.113" [ "$(pkg-config --modversion libaio)" = 0.3.113 ]
    expect "libaio.h is libaio-rs-dev's" owned_by libaio-rs-dev /usr/include/libaio.h
    build_client laio-client -laio
    expect "laio-client asks for libaio.so.1 alone" [ "$(needed_libaio /tmp/laio-client)" = libaio.so.1 ]
    client laio-client
    if dpkg -L libaio-rs-dev | grep -q '/man3/'; then
        expect "man -w io_getevents: libaio-rs-dev's page" owned_by libaio-rs-dev "$(man -w io_getevents)"
    else
        echo "libaio-rs-dev has no man pages yet: man io_getevents not checked"
    fi
}

# The dependency dpkg-shlibdeps gives a package of a program built against
# ours alone: from our DEBIAN/shlibs, on libaio1, which ours provides.
shlibdeps_of_client() {
    mkdir -p /tmp/shlibdeps/debian
    printf 'Source: client\n\nPackage: client\nArchitecture: any\n' > /tmp/shlibdeps/debian/control
    (cd /tmp/shlibdeps && dpkg-shlibdeps -O /tmp/laio-client 2> /dev/null)
}

remove_ours() {
    local cache_before
    cache_before=$(ld_cache_stamp)
    must "dpkg -r libaio-rs-dev libaio-rs1" dpkg -r libaio-rs-dev libaio-rs1
    expect "after dpkg -r: no diversion by libaio-rs1 is left" no_diversion_of_ours
    expect "after dpkg -r: libaio.so.1.0.2 is the system's again, byte for byte" system_in_place
    expect "after dpkg -r: libaio.so.1 links to libaio.so.1.0.2 again" system_soname_link
    expect "after dpkg -r: libaio.so.1t64 is gone" absent "$LIBDIR/libaio.so.1t64"
    expect "after dpkg -r: $DIVERSION_DIR is gone" absent "$DIVERSION_DIR"
    expect "dpkg -r ran ldconfig (/etc/ld.so.cache rewritten)" [ "$(ld_cache_stamp)" != "$cache_before" ]
    expect "after dpkg -r: ldconfig -p: libaio.so.1 leads to the system's" ldconfig_leads libaio.so.1 "$LIBRARY"
    traced fio-after-remove fio --version
    expect "after dpkg -r: fio loads the system's libaio" loads "$LIBRARY" "$SYSTEM_SHA" fio-after-remove
    expect "after dpkg -r: libaio1 is still installed" installed libaio1
    must "dpkg -P libaio-rs-dev libaio-rs1" dpkg -P libaio-rs-dev libaio-rs1
    expect "after dpkg -P: dpkg knows libaio-rs1 no more" not known_to_dpkg libaio-rs1
    expect "after dpkg -P: dpkg knows libaio-rs-dev no more" not known_to_dpkg libaio-rs-dev
    expect "after dpkg -P: still no diversion of ours" no_diversion_of_ours
    expect "after dpkg -P: libaio.so.1.0.2 is still the system's" system_in_place
}

# An install that fails after preinst ran (our package with a file of fio's
# in it): postrm abort-install must leave everything as it was.
failed_install() {
    dpkg-deb -R "$RUNTIME_DEB" /tmp/clashing
    install -D /usr/bin/fio /tmp/clashing/usr/bin/fio
    must "build libaio-rs1 with a file of fio's" dpkg-deb --root-owner-group -b /tmp/clashing /tmp/clashing.deb
    expect "dpkg -i of that package fails" not quietly dpkg -i /tmp/clashing.deb
    expect "after the failed install: libaio-rs1 is not installed" not installed libaio-rs1
    expect "after the failed install: no diversion of ours" no_diversion_of_ours
    expect "after the failed install: libaio.so.1.0.2 is the system's" system_in_place
    expect "after the failed install: libaio.so.1 links to libaio.so.1.0.2" system_soname_link
    expect "after the failed install: $DIVERSION_DIR is gone" absent "$DIVERSION_DIR"
}

# libaio-rs-tools on its own: aiostat runs from it (and sees fio's context
# while fio runs), man finds its page, and it goes away cleanly.
aiostat_sees_fio() {
    local fio status=0
    fio --name=aiostat --ioengine=libaio --iodepth=100 --rw=read --bs=4k --size=4M --filename=/tmp/aiostat.data \
        --thinktime=2s --thinktime_blocks=1 --runtime=30 --time_based > /dev/null 2>&1 &
    fio=$!
    for attempt in $(seq 100); do
        aiostat --json > /tmp/aiostat.json || status=$?
        jq -e '[.processes[] | select(.command == "fio" and .nr_events_min <= 100 and 100 <= .nr_events_max)]
            | length > 0' /tmp/aiostat.json > /dev/null && break
        sleep 0.1
    done
    kill "$fio"
    wait "$fio"
    [ "$status" -eq 0 ] && jq -e '[.processes[] | select(.command == "fio")] | length > 0' /tmp/aiostat.json > /dev/null
}
tools_package() {
    # aiostat reads the possible CPUs from sysfs, which the throwaway root
    # lacks; mounted in its private namespace, it goes with it.
    mountpoint -q /sys || must "mount sysfs on /sys" mount -t sysfs sysfs /sys
    must "dpkg -i libaio-rs-tools" dpkg -i "$TOOLS_DEB"
    expect "libaio-rs-tools' files match its md5sums" md5sums_verified libaio-rs-tools
    expect "dpkg -S /usr/bin/aiostat names libaio-rs-tools" owned_by libaio-rs-tools /usr/bin/aiostat
    expect "man -w aiostat: libaio-rs-tools' page" owned_by libaio-rs-tools "$(man -w aiostat)"
    expect "aiostat from the package names fio's context of 100 events" aiostat_sees_fio
    must "dpkg -r libaio-rs-tools" dpkg -r libaio-rs-tools
    expect "after dpkg -r: /usr/bin/aiostat is gone" absent /usr/bin/aiostat
    must "dpkg -P libaio-rs-tools" dpkg -P libaio-rs-tools
    expect "after dpkg -P: dpkg knows libaio-rs-tools no more" not known_to_dpkg libaio-rs-tools
}

scenario_replace() {
    failed_install
    install_ours
    fio_verified_write
    t64_client
    dev_package
    # Only this part needs the archive: without it, the removal is still checked.
    if run "apt-get update" "${APT[@]}" update &&
       run "apt-get install --reinstall $LIBAIO1" "${APT[@]}" install --reinstall "$LIBAIO1"; then
        expect "after reinstalling libaio1: libaio.so.1.0.2 is still ours" ours_in_place
        expect "after reinstalling libaio1: its libaio.so.1.0.2 went to $DIVERSION_DIR, intact" system_diverted
        expect "after reinstalling libaio1: ldconfig -p: libaio.so.1 still leads to ours" \
            ldconfig_leads libaio.so.1 "$LIBRARY"
        traced fio-after-reinstall fio --version
        expect "after reinstalling libaio1: fio loads ours" loads_ours fio-after-reinstall
    fi
    # Ours over ours: preinst upgrade, the old postrm upgrade.
    must "dpkg -i libaio-rs1 libaio-rs-dev, again" dpkg -i "$RUNTIME_DEB" "$DEV_DEB"
    expect "installed again: libaio.so.1.0.2 is still ours" ours_in_place
    expect "installed again: libaio.so.1 is still diverted" diverted_by_us libaio.so.1
    expect "installed again: Debian's libaio.so.1.0.2 still waits intact" system_diverted
    remove_ours
    tools_package
}

# sysbench_ran STATUS: sysbench exited STATUS, 0, after its report.
sysbench_ran() { [ "$1" -eq 0 ] && grep -q 'total number of events' /tmp/sysbench.log; }

scenario_provides() {
    install_ours
    must "apt-get update" "${APT[@]}" update
    expect "apt-get -s remove libaio1: would remove libaio1 alone" \
        [ "$("${APT[@]}" -s remove libaio1 | grep '^Remv ' | cut -d ' ' -f 2)" = libaio1 ]
    must "apt-get remove libaio1" "${APT[@]}" remove libaio1
    expect "libaio1 is gone" not installed libaio1
    expect "fio (Depends: libaio1) stays" installed fio
    expect "libaio.so.1.0.2 is still ours" ours_in_place
    build_client laio-client -laio
    expect "dpkg-shlibdeps: a program built against ours depends on libaio1 (>= 0.3.113)" \
        grep -q '^shlibs:Depends=.*libaio1 (>= 0.3.113)' <(shlibdeps_of_client)
    must "apt-get install sysbench (Depends: libaio1 (>= 0.3.93))" "${APT[@]}" install sysbench
    expect "sysbench is installed" installed sysbench
    expect "libaio1 is still not installed" not installed libaio1
    must "sysbench fileio prepare" sysbench fileio --file-num=1 --file-total-size=4M prepare
    local status=0
    traced sysbench timeout 60 sysbench fileio --file-num=1 --file-total-size=4M --file-test-mode=rndwr \
        --file-io-mode=async --time=1 run || status=$?
    expect "sysbench fileio --file-io-mode=async runs (exited $status)" sysbench_ran $status
    expect "sysbench: the loader initialised our libaio alone" loads_ours sysbench
    must "apt-get install $LIBAIO1, under ours" "${APT[@]}" install "$LIBAIO1"
    expect "libaio1's libaio.so.1.0.2 went to $DIVERSION_DIR, intact" system_diverted
    expect "with libaio1 back: libaio.so.1.0.2 is still ours" ours_in_place
    traced sysbench-after-libaio1 sysbench --version
    expect "with libaio1 back: sysbench loads ours" loads_ours sysbench-after-libaio1
}

case "${1:-}" in
    replace) scenario_replace ;;
    provides) scenario_provides ;;
    *) echo "usage: in-root.sh replace|provides" >&2; exit 2 ;;
esac
