#!/usr/bin/env bash
# The man pages in debian/man (section 3, aiostat(1) and libaio-rs(7)), installed into a tree laid out like
# /usr/share/man: every function of include/libaio.h has a page that man
# finds, whose NAME line names it and whose SYNOPSIS shows the header's
# prototype; every page renders without a warning; `man io_getevents` shows
# ours, not manpages-dev's io_getevents(2); libaio(3) lists every function;
# the io_*(3) cross-references resolve; and each complete example program
# builds against our header and library and prints what its page says.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
PAGES_DIR="$ROOT/debian/man"

for tool in man lexgrog groff perl; do
    if ! command -v "$tool" > /dev/null; then
        fail "$tool is missing: apt-get install man-db groff-base perl"
        finish
    fi
done

# The installed tree: our pages in man3, and a stand-in for manpages-dev's
# io_getevents(2), which our io_getevents(3) must win over.
TREE="$WORK/man"
mkdir -p "$TREE/man1" "$TREE/man2" "$TREE/man3" "$TREE/man7"
cp "$PAGES_DIR"/*.1 "$TREE/man1/"
cp "$PAGES_DIR"/*.3 "$TREE/man3/"
cp "$PAGES_DIR"/*.7 "$TREE/man7/"
cat > "$TREE/man2/io_getevents.2" <<'EOF'
.TH io_getevents 2 2026-11-25 "stand-in" "Linux Programmer's Manual"
.SH NAME
io_getevents \- stand-in for the system call's page in manpages-dev
EOF
export MANPATH="$TREE"
unset MANSECT MANOPT MANPAGER PAGER

# header_functions: every function that include/libaio.h declares or defines,
# as gcc sees it, without the reserved (__-prefixed) internals.
header_functions() {
    echo '#include <libaio.h>' > "$WORK/include.c"
    gcc -std=gnu11 -I"$OUR_INCLUDE" -aux-info "$WORK/decls.aux" -fsyntax-only "$WORK/include.c" &&
        grep -F "$OUR_INCLUDE/libaio.h:" "$WORK/decls.aux" |
        sed -e 's|^/\*[^*]*\*/ ||' -e 's/ (.*//' -e 's/.*[ *]//' | grep -v '^__' | sort -u
}

# prototypes NAME...: "NAME<TAB>prototype" for the first declaration or
# definition of each NAME in the C text on stdin (comments and preprocessor
# lines left out, whitespace normalised), so that the header and a rendered
# SYNOPSIS compare as text.
prototypes() {
    perl -e '
        my $text = do { local $/; <STDIN> };
        $text =~ s{/\*.*?\*/}{ }gs;
        $text =~ s{//[^\n]*}{}g;
        $text =~ s{^\s*#[^\n]*}{}mg;
        my %seen;
        for my $statement (split /[;{}]/, $text) {
            $statement =~ s/\s+/ /g;
            $statement =~ s/ ?([(),*]) ?/$1/g;
            $statement =~ s/^ | $//g;
            next if $statement =~ /^return\b/;
            for my $name (@ARGV) {
                # A return type, then the name: not a call in a helper body.
                next if $seen{$name} || $statement !~ /^(\w+[ *]+)+\Q$name\E\(.*\)$/;
                print "$name\t$statement\n";
                $seen{$name} = 1;
            }
        }' "$@"
}

# render PAGE: PAGE as man shows it, in plain ASCII, lines unbroken.
render() {
    LC_ALL=C MANWIDTH=200 man -l "$1" 2> /dev/null
}

# section TITLE: the lines of the rendered page on stdin under TITLE.
section() {
    awk -v title="$1" '/^[A-Z]/ { on = ($0 == title); next } on'
}

# is_link PAGE: PAGE is a one-line ".so man3/OTHER.3" page.
is_link() {
    head -n 1 "$1" | grep -q '^\.so '
}

mapfile -t FUNCTIONS < <(header_functions)
if [ ${#FUNCTIONS[@]} -lt 20 ]; then
    fail "found ${#FUNCTIONS[@]} functions in include/libaio.h with gcc -aux-info, not the 20 and more it has"
    finish
fi
prototypes "${FUNCTIONS[@]}" < "$OUR_INCLUDE/libaio.h" > "$WORK/header.prototypes"

# Each function: found by man in section 3, named on its page's NAME line,
# and shown there with the header's prototype.
for name in "${FUNCTIONS[@]}"; do
    page=$(man -w "$name" 2> /dev/null)
    if [ "$(dirname "$page")" != "$TREE/man3" ]; then
        fail "man -w $name finds '${page:-nothing}', not a page in man3: add debian/man/$name.3 (or a .so link to the page that covers it)"
        continue
    fi
    check "$name: the NAME line of $(basename "$page") names it" \
        grep -qF ": \"$name - " <(lexgrog "$page")
    header=$(awk -F '\t' -v name="$name" '$1 == name { print $2 }' "$WORK/header.prototypes")
    shown=$(render "$page" | section SYNOPSIS | prototypes "$name" | cut -f 2)
    if [ -z "$header" ]; then
        fail "$name: no prototype found in include/libaio.h (fix this suite's prototypes())"
    elif [ "$shown" = "$header" ]; then
        pass "$name: the SYNOPSIS of $(basename "$page") shows the header's prototype"
    else
        fail "$name: the SYNOPSIS of $(basename "$page") shows '${shown:-nothing}', the header has '$header': copy the prototype from include/libaio.h"
    fi
done

# Each page renders without a warning; each link leads to a page.
for file in "$TREE"/man1/*.1 "$TREE"/man3/*.3 "$TREE"/man7/*.7; do
    base=$(basename "$file")
    if is_link "$file"; then
        target=$(sed -n '1s|^\.so man3/||p' "$file")
        check "$base links to a page in debian/man" test -f "$TREE/man3/$target"
        continue
    fi
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$file" > "$WORK/rendered" 2> "$WORK/warnings"
    if [ -s "$WORK/rendered" ] && [ ! -s "$WORK/warnings" ]; then
        pass "$base renders without warnings"
    else
        sed "s|^|$base: |" "$WORK/warnings"
        fail "$base renders without warnings (fix the lines above; man --warnings=w -l debian/man/$base)"
    fi
done

# man picks section 3 before 2 (man-db's default order), so our page wins.
check "the stand-in io_getevents(2) is installed" test "$(man -w 2 io_getevents)" = "$TREE/man2/io_getevents.2"
check "man -w libaio-rs finds libaio-rs(7)" test "$(man -w libaio-rs)" = "$TREE/man7/libaio-rs.7"
check "man -w aiostat finds aiostat(1)" test "$(man -w aiostat)" = "$TREE/man1/aiostat.1"
check "man -w io_getevents finds our io_getevents(3)" test "$(man -w io_getevents)" = "$TREE/man3/io_getevents.3"
check "man io_getevents shows our io_getevents(3)" \
    cmp -s <(man io_getevents 2> /dev/null) <(man -l "$TREE/man3/io_getevents.3" 2> /dev/null)

# The overview lists every function, and every io_*(3) reference resolves.
render "$TREE/man3/libaio.3" > "$WORK/libaio.txt"
for name in "${FUNCTIONS[@]}"; do
    check "libaio(3) lists $name(3)" grep -qF "$name(3)" "$WORK/libaio.txt"
done
mapfile -t REFERENCES < <(for file in "$TREE"/man3/*.3; do is_link "$file" || render "$file"; done |
    grep -o '\b\(io_[a-z0-9_]*\|libaio\)(3)' | sort -u)
for reference in "${REFERENCES[@]}"; do
    check "the reference $reference leads to a page" test -n "$(man -w 3 "${reference%(3)}" 2> /dev/null)"
done

# Each "Program source" in an EXAMPLES section builds with -Wall -Werror
# against our header and library, and prints the output of the sample
# session ("$ ./program ...") shown above it. At least one page has one.
programs=0
for file in "$TREE"/man3/*.3; do
    is_link "$file" && continue
    base=$(basename "$file" .3)
    render "$file" | section EXAMPLES > "$WORK/$base.examples"
    grep -q '^   Program source$' "$WORK/$base.examples" || continue
    programs=$((programs + 1))
    sed '1,/^   Program source$/d; s/^       //' "$WORK/$base.examples" > "$WORK/$base-example.c"
    awk 'match($0, /^ *\$ \.\//) { indent = RLENGTH - 3; on = 1; next }
         on && /^$/ { exit }
         on { print substr($0, indent) }' "$WORK/$base.examples" > "$WORK/$base.expected"
    check "$base(3): the sample session shows some output" test -s "$WORK/$base.expected"
    if [ ! -f "$OUR_SO" ]; then
        fail "$base(3): the example program needs our library: run cargo build --release"
        continue
    fi
    build "$base-example" gcc "$WORK/$base-example.c" "${OUR_BUILD[@]}" || continue
    if (cd "$WORK" && "./$base-example" "$base-example.data") > "$WORK/$base.output" 2>&1 &&
        cmp -s "$WORK/$base.expected" "$WORK/$base.output"; then
        pass "$base(3): the example program prints what the page shows"
    else
        diff "$WORK/$base.expected" "$WORK/$base.output"
        fail "$base(3): the example program prints what the page shows (fix the program or the sample session)"
    fi
done
check "some page (io_submit(3)) has a complete example program" test "$programs" -gt 0
finish
