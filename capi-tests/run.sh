#!/usr/bin/env bash
# Runs every suite in capi-tests/suites (or those named) and prints the total.
set -u
cd "$(dirname "$0")"
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
