#!/usr/bin/env bash
# Runs every suite in capi-tests/suites (or those named) and prints the total.
set -u
cd "$(dirname "$0")"
# What every suite takes for granted: one line each, instead of a cascade of failures.
if [ "$(id -u)" -ne 0 ]; then
    echo "capi-tests: the suites mount filesystems, attach loop devices and set sysctls: run them as root (make test)"
    exit 1
fi
missing=$(for tool in gcc g++ fio strace valgrind jq losetup readelf nm pkg-config apt-get; do
    command -v "$tool" >/dev/null || echo "$tool"; done)
if [ -n "$missing" ]; then
    echo "capi-tests: missing $(echo $missing): run 'make deps' (capi-tests/deps.sh) first"
    exit 1
fi
if [ ! -f ../target/release/libaio.so ]; then
    echo "capi-tests: no target/release/libaio.so: run 'make build' first"
    exit 1
fi
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(suites/*.sh)
log=$(mktemp)
for suite in "${suites[@]}"; do
    echo "=== $suite"
    bash "$suite" 2>&1 | tee -a "$log"
done
passed=$(grep -c '^PASS: ' "$log")
failed=$(grep -c '^FAIL: ' "$log")
grep '^FAIL: ' "$log"
rm -f "$log"
echo "capi-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
