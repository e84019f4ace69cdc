#!/usr/bin/env bash
# Idempotent set-up for `make run` / `make test` on a fresh machine.
#
# A fresh machine (and CI: a fresh clone, as root) has Python, Node and apt
# and nothing else. This script brings, only when missing:
#   1. uv (pinned, in .tools/uv) when no `uv` is on PATH;
#   2. the project's virtual environment (.venv) from requirements.lock
#      (hashed pins for every package, dev tools included);
#   3. PostgreSQL (+ contrib, for btree_gist), Redis and Chromium (for the
#      GraphiQL browser test) from Debian's
#      packages: db/embedded runs private servers from them on their own
#      ports, never the system's services (which we neither use nor stop).
# It prints nothing when everything is already there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION=0.13.8

say() { echo "bootstrap: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root for: $*"
        exit 1
    fi
}

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "missing $* and apt-get is not available: install them by hand"
        exit 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $* with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Run "$@" with package scripts refused to start services (policy-rc.d, which
# invoke-rc.d and deb-systemd-invoke honour): we use the binaries, never the
# system's services, and in a container without an init a start fails the
# install (Prometheus's postinst starts one). A machine's own policy is kept.
refusing_service_starts() {
    local policy=/usr/sbin/policy-rc.d
    if [ -e "$policy" ]; then
        "$@"
        return
    fi
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT  # also when the install fails
    "$@"
    as_root rm -f "$policy"
    trap - EXIT
}

# 1. uv ---------------------------------------------------------------------
if command -v uv >/dev/null 2>&1; then
    UV=uv
elif [ -x .tools/uv/bin/uv ]; then
    UV=.tools/uv/bin/uv
else
    say "installing uv ${UV_VERSION} into .tools/uv"
    if ! python3 -m venv .tools/uv >/dev/null 2>&1; then
        # Debian's own python3 ships venv separately.
        rm -rf .tools/uv
        apt_install python3-venv
        python3 -m venv .tools/uv
    fi
    .tools/uv/bin/pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
    UV=.tools/uv/bin/uv
fi

# 2. Python packages, exactly as locked (dev group included: tests need it) --
if [ ! -x .venv/bin/python ]; then
    "$UV" venv --quiet --python python3 .venv
fi
"$UV" pip sync --quiet --python .venv/bin/python --require-hashes requirements.lock

# 3. PostgreSQL and Redis binaries ------------------------------------------
have_postgres() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1
}
have_btree_gist() {
    compgen -G "/usr/share/postgresql/*/extension/btree_gist.control" >/dev/null
}
have_redis() {
    command -v redis-server >/dev/null 2>&1
}
# promtool (Debian's prometheus package): the tests check and unit-test deploy/monitoring's alerts.
have_promtool() {
    command -v promtool >/dev/null 2>&1
}
# HAProxy: the load balancer of `ATHENA_REPLICAS=2 make run` (Debian puts it in /usr/sbin).
have_haproxy() {
    command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]
}

missing=()
if ! have_postgres || ! have_btree_gist; then
    missing+=(postgresql postgresql-contrib)
fi
if ! have_redis; then
    missing+=(redis-server)
fi
if ! have_promtool; then
    missing+=(prometheus)
fi
if ! have_haproxy; then
    missing+=(haproxy)
fi
# Headless Chromium: the test that GraphiQL loads and runs a query offline.
if ! command -v chromium >/dev/null 2>&1; then
    missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    refusing_service_starts apt_install "${missing[@]}"
fi

# 4. Node packages: the supergraph composer, GraphiQL's assets, Hive Gateway, and
#    graphql-http and urql (the GraphQL over HTTP audit and client tests) ---
for dir in tools/compose router/graphiql tools/hive-gateway tools/graphql-http; do
    if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
        say "installing npm packages in $dir"
        npm ci --prefix "$dir" --silent --no-audit --no-fund
    fi
done
