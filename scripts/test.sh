#!/usr/bin/env bash
# The whole suite, as CI runs it (`make test` = make install + system-deps + this script):
#   1. lint     ruff check + ruff format --check
#   2. sqlite   pytest over the whole suite on SQLite, browser tests included
#   3. postgres the same suite minus browser tests on a throwaway PostgreSQL 15
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/pg.sh
source scripts/pg.sh

BIN=.venv/bin
if [[ ! -x $BIN/pytest || ! -x $BIN/ruff ]]; then
    echo "test: no $BIN/pytest or $BIN/ruff; run: make install" >&2
    exit 2
fi

trap pg_stop EXIT  # in case a cluster was started outside a step
trap 'exit 130' INT
trap 'exit 143' TERM

# The tests must not pick up a developer's database or settings.
unset DATABASE_URL DJANGO_SETTINGS_MODULE
export PYTHONDONTWRITEBYTECODE=1
rm -rf test-artifacts  # screenshots of this run only (tests/browser)
mkdir -p test-artifacts

results=()
failed=0

# step NAME COMMAND...: run COMMAND (with `set -e` inside), time it and record the result.
step() {
    local name=$1 started=$SECONDS rc=0
    shift
    printf '\n===== %s =====\n' "$name"
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    local took=$((SECONDS - started))
    local verdict="ok"
    if ((rc != 0)); then
        verdict="FAILED (exit $rc)"
        failed=1
    fi
    results+=("$(printf '%-10s %-18s %4ds' "$name" "$verdict" "$took")")
    printf -- '----- %s: %s in %ds\n' "$name" "$verdict" "$took"
}

lint() {
    local rc=0
    echo "ruff check ."
    "$BIN/ruff" check --output-format concise . || rc=1
    echo "ruff format --check ."
    "$BIN/ruff" format --check --output-format concise . || rc=1
    return "$rc"
}

pytest_sqlite() {
    echo "pytest on SQLite: the whole suite, browser tests included"
    "$BIN/pytest" -q -p no:randomly
}

pytest_postgres() {
    # step() runs this in a subshell: the cluster is stopped and removed when it exits,
    # whether pytest passed, failed or was interrupted.
    trap pg_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    pg_start
    echo "pytest on PostgreSQL: the same suite minus the browser tests (-m 'not browser')"
    local rc=0
    DATABASE_URL=$PG_URL "$BIN/pytest" -q -p no:randomly -m "not browser" || rc=$?
    return "$rc"
}

total_started=$SECONDS
step lint lint
step sqlite pytest_sqlite
step postgres pytest_postgres

printf '\n===== summary =====\n'
printf '%s\n' "${results[@]}"
printf 'total      %-18s %4ds\n' "$( ((failed)) && echo FAILED || echo ok)" "$((SECONDS - total_started))"
exit "$failed"
