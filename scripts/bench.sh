#!/usr/bin/env bash
# `make bench`: run every bench/*.py (not _*.py helpers) and print its figures.
# Benchmarks print numbers, they do not pass or fail on them; a script that crashes does make
# this exit non-zero, after the others have run. Extra arguments go to every script
# (e.g. `bash scripts/bench.sh --rows 10000`), BENCH_ONLY=name runs just bench/name.py.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
unset DATABASE_URL  # the benchmarks measure SQLite in their own temporary folders

status=0
start=$SECONDS
echo "bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (figures are noisy under load)"
for script in bench/*.py; do
    name=$(basename "$script" .py)
    [[ $name == _* ]] && continue
    [[ -n ${BENCH_ONLY:-} && $name != "$BENCH_ONLY" ]] && continue
    echo
    echo "==================== bench/$name.py ===================="
    t0=$SECONDS
    if "$PY" "$script" "$@"; then
        echo "---- $name: $((SECONDS - t0)) s"
    else
        rc=$?
        echo "---- $name: FAILED (exit $rc) after $((SECONDS - t0)) s"
        status=1
    fi
done
echo
echo "all benchmarks: $((SECONDS - start)) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
