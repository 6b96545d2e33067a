#!/usr/bin/env bash
# System packages the test suite needs, from Debian 12's own archive (idempotent):
#   chromium + fonts-noto-cjk  - the browser tests (Playwright drives /usr/bin/chromium; it
#                                never downloads a browser of its own)
#   postgresql-15              - the second test pass runs on a throwaway PostgreSQL cluster
# Prints one line per check; runs `apt-get update` once, only when something is missing.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
missing=()

check() {  # check LABEL PACKAGE COMMAND...
    local label=$1 package=$2
    shift 2
    if "$@"; then
        echo "system-deps: ${label}: ok"
    else
        echo "system-deps: ${label}: missing -> apt package ${package}"
        missing+=("$package")
    fi
}

have_cjk_fonts() {
    compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc' >/dev/null \
        || { command -v fc-list >/dev/null && fc-list ':lang=zh-cn' family | grep -q 'Noto Sans CJK'; }
}

have_pg15() {
    [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]]
}

check "chromium (/usr/bin/chromium)" chromium test -x /usr/bin/chromium
check "Noto CJK fonts" fonts-noto-cjk have_cjk_fonts
check "PostgreSQL 15 initdb/pg_ctl ($PG_BIN)" postgresql-15 have_pg15

if ((${#missing[@]} == 0)); then
    echo "system-deps: nothing to install"
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        echo "system-deps: need root to install: ${missing[*]}" >&2
        echo "system-deps: run: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

apt() {  # quiet apt-get; its output is shown only if it fails
    local log rc=0
    log=$(mktemp)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
        cat "$log" >&2
        echo "system-deps: apt-get $* failed (exit $rc)" >&2
    fi
    rm -f "$log"
    return "$rc"
}

echo "system-deps: apt-get update"
apt update -qq
echo "system-deps: apt-get install ${missing[*]} (takes a minute or two)"
apt install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}"

# Verify, so a broken install fails here rather than in the middle of the tests.
test -x /usr/bin/chromium || { echo "system-deps: chromium still missing" >&2; exit 1; }
have_cjk_fonts || { echo "system-deps: Noto CJK fonts still missing" >&2; exit 1; }
have_pg15 || { echo "system-deps: PostgreSQL 15 still missing" >&2; exit 1; }
echo "system-deps: installed ${missing[*]}"
