# What the scenarios run inside a throwaway root check with (in-root.sh and
# the others beside it); sourced there. Checks print "ok ..."/"not ok ..."
# lines for capi-tests' relay_checks.
INPUTS=/libaio-rs-test/inputs
TESTS=/libaio-rs-test/tests
APT=(timeout 120 apt-get -y -q -o Dpkg::Use-Pty=0 -o Acquire::Languages=none)

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
# md5sums_verified PACKAGE: it has md5sums (dpkg --verify says nothing of
# files without), and dpkg --verify finds every file as they say.
md5sums_verified() {
    grep -q . <(dpkg-query --control-show "$1" md5sums) && [ -z "$(dpkg --verify "$1" 2>&1)" ]
}
# The ldconfig trigger has run since the last call if the cache was rewritten.
ld_cache_stamp() { stat -c %y /etc/ld.so.cache; }
needed_libaio() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(libaio[^]]*\)\]/\1/p'; }

# use_arch ARCH: the packages of ours for ARCH, and where they put the
# library (from the package itself, as minimal roots have no dpkg-dev):
# sets ARCH, RUNTIME_DEB, DEV_DEB, TOOLS_DEB, LIBDIR, DIVERSION_DIR, LIBRARY
# and PACKAGED_SHA.
use_arch() {
    ARCH=$1
    RUNTIME_DEB=$(echo "$INPUTS"/libaio-rs1_*_"$1".deb)
    DEV_DEB=$(echo "$INPUTS"/libaio-rs-dev_*_"$1".deb)
    TOOLS_DEB=$(echo "$INPUTS"/libaio-rs-tools_*_"$1".deb)
    LIBDIR=$(dpkg-deb -c "$RUNTIME_DEB" | sed -n 's|.* \.\(/usr/lib/[^/]*\)/libaio\.so\.1\.0\.2$|\1|p')
    DIVERSION_DIR=$LIBDIR/libaio-rs-diverted
    LIBRARY=$LIBDIR/libaio.so.1.0.2
    PACKAGED_SHA=$(dpkg-deb --fsys-tarfile "$RUNTIME_DEB" | tar -xO ".$LIBRARY" | sha256sum | cut -d ' ' -f 1)
}

# diverted_by_us NAME: LIBDIR/NAME is diverted by libaio-rs1 to DIVERSION_DIR/NAME.
diverted_by_us() {
    [ "$(dpkg-divert --listpackage "$LIBDIR/$1")" = libaio-rs1 ] &&
        [ "$(dpkg-divert --truename "$LIBDIR/$1")" = "$DIVERSION_DIR/$1" ]
}
no_diversion_of_ours() { not grep -q ' by libaio-rs1$' <(dpkg-divert --list); }
# no_diversion_of_ours_in DIR: none of libaio-rs1's diversions is of a file in DIR.
no_diversion_of_ours_in() { not grep -q "^diversion of $1/.* by libaio-rs1\$" <(dpkg-divert --list); }
# ldconfig_targets NAME: where the entries of NAME in ldconfig's cache lead,
# for LIBDIR's multiarch directory (under /lib or /usr/lib: the same with a
# merged /usr). Another architecture's NAME is in another directory.
ldconfig_targets() {
    ldconfig -p | sed -n "s|^\t$1 (.*) => \(.*/${LIBDIR##*/}/[^/]*\)\$|\1|p" | xargs -r realpath | sort -u
}
# ldconfig_reads_arch: ldconfig's cache has LIBDIR's libc.so.6. The ldconfig
# of a root of the other byte order skips its libraries (the loader then
# searches LIBDIR): says so, for the checks of its cache that do not apply.
ldconfig_reads_arch() {
    [ -n "$(ldconfig_targets libc.so.6)" ] && return 0
    echo "ldconfig of this $(dpkg --print-architecture) root lists none of $ARCH's libraries: its cache not checked for them"
    return 1
}
# ldconfig_leads NAME FILE: ldconfig's cache has NAME, and it leads to FILE.
ldconfig_leads() {
    same "ldconfig -p: $1 for ${LIBDIR##*/}" "$2" "$(ldconfig_targets "$1")"
}
# ldconfig_none_but NAME FILE: any entry of NAME leads to FILE. ldconfig
# lists a library under its SONAME alone: our libaio.so.1t64, a link to a
# libaio.so.1, is not in its cache, and the loader finds it in LIBDIR.
ldconfig_none_but() {
    local found
    found=$(ldconfig_targets "$1")
    [ -z "$found" ] || same "ldconfig -p: $1 for ${LIBDIR##*/}" "$2" "$found"
}
ours_in_place() { [ "$(sha "$LIBRARY")" = "$PACKAGED_SHA" ]; }

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

# file_state PATH: one line, "PATH -> TARGET" for a link, "PATH sha256 SUM
# MODE OWNER GROUP" for a file, the type and mode of anything else, or
# "PATH missing": to compare before and after.
file_state() {
    if [ -L "$1" ]; then echo "$1 -> $(readlink "$1")"
    elif [ -f "$1" ]; then echo "$1 sha256 $(sha "$1") $(stat -c '%a %U %G' "$1")"
    elif [ -e "$1" ]; then echo "$1 $(stat -c '%F %a %U %G' "$1")"
    else echo "$1 missing"
    fi
}
# debian_files PACKAGE: the state of each file and link of PACKAGE in LIBDIR.
debian_files() {
    local path
    dpkg -L "$1" | grep "^$LIBDIR/[^/]*\$" | sort | while read -r path; do file_state "$path"; done
}
# libaio_state: every libaio file in LIBDIR and in DIVERSION_DIR, and every
# diversion in LIBDIR: what our packages change and their removal gives back.
libaio_state() {
    local path
    for path in "$LIBDIR"/libaio* "$DIVERSION_DIR" "$DIVERSION_DIR"/*; do
        [ -e "$path" ] || [ -L "$path" ] && file_state "$path"
    done
    dpkg-divert --list "$LIBDIR/*" | sort
}
# same WHAT EXPECTED ACTUAL: EXPECTED = ACTUAL, or prints both.
same() {
    [ "$2" = "$3" ] && return 0
    printf '%s, expected:\n%s\nfound:\n%s\n' "$1" "$2" "$3"
    return 1
}
# diverted_intact FILES: each file of Debian's package, whose state
# (debian_files) was FILES before ours came, is diverted by us and waits in
# DIVERSION_DIR as it was.
diverted_intact() {
    local path rest name
    while read -r path rest; do
        name=${path##*/}
        diverted_by_us "$name" || { echo "$path is not diverted by libaio-rs1 to $DIVERSION_DIR"; return 1; }
        same "$DIVERSION_DIR/$name" "$DIVERSION_DIR/$name $rest" "$(file_state "$DIVERSION_DIR/$name")" || return 1
    done <<< "$1"
}

# Before ours and after, in a root of Debian's (in-multiarch-root.sh,
# in-debian13-root.sh), for the architecture of the last use_arch.
# The root's Debian libaio runtime package: libaio1, or libaio1t64 from
# Debian 13 on.
DEBIAN_LIBAIO=$(dpkg-query -W -f '${Package}\n' 'libaio1*' 2> /dev/null | head -n 1)

# debian_sonames_lead_to_debian: each link of Debian's package (its SONAME)
# leads, in ldconfig's cache, to Debian's file.
debian_sonames_lead_to_debian() {
    local path arrow target
    while read -r path arrow target; do
        [ "$arrow" = "->" ] || continue
        ldconfig_leads "${path##*/}" "$LIBDIR/$target" || return 1
    done < "/tmp/$ARCH.debian-files"
}

# loads_debian NAME: the traced run NAME loaded Debian's library of ARCH.
loads_debian() {
    loads $(awk '$2 == "sha256" { print $1, $3 }' "/tmp/$ARCH.debian-files") "$1"
}

# installed_here ARCH: ours for ARCH is in place and Debian's files of ARCH
# wait intact where ours diverted them.
installed_here() {
    use_arch "$1"
    expect "[$ARCH] libaio-rs1's files match its md5sums" md5sums_verified "libaio-rs1:$ARCH"
    expect "[$ARCH] libaio-rs-dev's files match its md5sums" md5sums_verified "libaio-rs-dev:$ARCH"
    expect "[$ARCH] $LIBRARY is the packaged file, libaio-rs1's" ours_in_place
    expect "[$ARCH] each file of Debian's $DEBIAN_LIBAIO:$ARCH is diverted by libaio-rs1, and waits intact" \
        diverted_intact "$(cat "/tmp/$ARCH.debian-files")"
    if ldconfig_reads_arch; then
        expect "[$ARCH] ldconfig -p: libaio.so.1 leads to ours" ldconfig_leads libaio.so.1 "$LIBRARY"
        expect "[$ARCH] ldconfig -p: libaio.so.1t64 leads nowhere but to ours" ldconfig_none_but libaio.so.1t64 "$LIBRARY"
    fi
    expect "[$ARCH] ldconfig -p: nothing in $DIVERSION_DIR" not grep -qF "$DIVERSION_DIR" <(ldconfig -p)
    expect "[$ARCH] apt-get check: every dependency is satisfied" quietly apt-get check
}

# removed_here ARCH: everything of ARCH is as before ours came.
removed_here() {
    use_arch "$1"
    expect "[$ARCH] the libaio files and diversions of $LIBDIR are as before, byte for byte" \
        same "$LIBDIR" "$(cat "/tmp/$ARCH.state")" "$(libaio_state)"
    if ldconfig_reads_arch; then
        expect "[$ARCH] ldconfig -p: Debian's SONAMEs lead to Debian's files" debian_sonames_lead_to_debian
    fi
    expect "[$ARCH] no diversion of libaio-rs1 in $LIBDIR" no_diversion_of_ours_in "$LIBDIR"
}

# record ARCH: the state of ARCH's libaio files before ours.
record() {
    use_arch "$1"
    debian_files "$DEBIAN_LIBAIO:$1" > "/tmp/$1.debian-files"
    libaio_state > "/tmp/$1.state"
}

# fio through its libaio engine, without LD_PRELOAD: a verified write.
# fio_succeeded STATUS: fio exited STATUS, 0, and its one job wrote, and read
# back at least as much (the verify pass), without error.
fio_succeeded() {
    [ "$1" -eq 0 ] && sed -n '/^{$/,$p' /tmp/fio.json | jq -e '.jobs | length == 1 and .[0].error == 0
        and .[0].write.total_ios > 0 and .[0].read.total_ios >= .[0].write.total_ios' > /dev/null
}
# reaped_from_ring LOG: our report in LOG counts completions reaped from the
# ring, in user space.
reaped_from_ring() { grep -Eq 'reaped_from_ring=[1-9]' "$1"; }
fio_verified_write() {
    local status=0
    traced fio timeout 60 env LIBAIO_RS_STATS=1 fio --name=verify --ioengine=libaio --direct=1 --rw=write --bs=4k --iodepth=16 \
        --size=4M --verify=crc32c --verify_state_save=0 --filename=/tmp/fio.data \
        --output-format=json --output=/tmp/fio.json || status=$?
    expect "fio --ioengine=libaio: a write verified without error (fio exited $status)" fio_succeeded $status
    expect "fio: the loader initialised our libaio alone" loads_ours fio
    expect "fio: our report (LIBAIO_RS_STATS=1) counts completions reaped from the ring" reaped_from_ring /tmp/fio.log
}

# client NAME PROGRAM: runs PROGRAM, built from aio-client.c, with our report
# on; relays its checks, and checks that io_setup's code came from our file,
# the only libaio the loader initialised, and that the report counts the
# completion reaped from the ring.
client() {
    local status=0
    traced "$1" env LIBAIO_RS_STATS=1 "$2" "/tmp/$1.data" || status=$?
    expect "$1: exits 0 (exited $status)" [ $status -eq 0 ]
    sed -E "s/^(ok|not ok) /\1 $1: /" "/tmp/$1.log"
    expect "$1: io_setup is mapped from our libaio.so.1.0.2" grep -qx "mapped: $LIBRARY" "/tmp/$1.log"
    expect "$1: the loader initialised our libaio alone" loads_ours "$1"
    expect "$1: our report (LIBAIO_RS_STATS=1) counts the completion reaped from the ring" reaped_from_ring "/tmp/$1.log"
}

# sysbench (Debian's, which depends on libaio1 or libaio1t64) writes through
# its libaio engine, without LD_PRELOAD: it runs, loads ours, and our report
# counts completions reaped from the ring.
# sysbench_ran STATUS: sysbench exited STATUS, 0, after its report.
sysbench_ran() { [ "$1" -eq 0 ] && grep -q 'total number of events' /tmp/sysbench.log; }
sysbench_async() {
    local status=0
    must "sysbench fileio prepare" sysbench fileio --file-num=1 --file-total-size=4M prepare
    traced sysbench timeout 60 env LIBAIO_RS_STATS=1 sysbench fileio --file-num=1 --file-total-size=4M \
        --file-test-mode=rndwr --file-io-mode=async --time=1 run || status=$?
    expect "sysbench fileio --file-io-mode=async runs (exited $status)" sysbench_ran $status
    expect "sysbench: the loader initialised our libaio alone" loads_ours sysbench
    expect "sysbench: our report (LIBAIO_RS_STATS=1) counts completions reaped from the ring" \
        reaped_from_ring /tmp/sysbench.log
}
