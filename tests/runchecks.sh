#!/bin/sh
# Runs each check suite (a make target) and sums the results into one line.
# A suite reports either "N passed, M failed" (optionally "name: " first) or
# cmocka's "[  PASSED  ] N test(s)." / "[  FAILED  ] M test(s)" lines; a
# suite that exits non-zero without saying how many failed counts as one.
make_cmd=$1; shift
total_pass=0; total_fail=0; failed_suites=
out=$(mktemp); trap 'rm -f "$out"' EXIT
for suite in "$@"; do
    echo "=== $suite"
    t0=$(date +%s)
    $make_cmd -s --no-print-directory "$suite" > "$out" 2>&1
    rc=$?
    cat "$out"
    echo "--- $suite: $(( $(date +%s) - t0 )) s"
    p=0; f=0; seen=0
    line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/')
        f=$(echo "$line" | sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/')
        seen=1
    else
        cp=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$out" | sed -E 's/.* ([0-9]+) test.*/\1/' | awk '{s+=$1} END {print s+0}')
        cf=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$out" | sed -E 's/.* ([0-9]+) test.*/\1/' | awk '{s+=$1} END {print s+0}')
        if [ "$cp" -gt 0 ] || [ "$cf" -gt 0 ]; then p=$cp; f=$cf; seen=1; fi
    fi
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=$((f + 1)); fi
    [ $seen -eq 0 ] && [ $rc -eq 0 ] && p=$((p + 1))
    [ "$f" -gt 0 ] && failed_suites="$failed_suites $suite"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
[ -n "$failed_suites" ] && echo "failed suites:$failed_suites"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
