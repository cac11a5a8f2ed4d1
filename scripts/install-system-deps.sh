#!/usr/bin/env bash
# Installs the Debian packages the test suite uses when they are missing: openssl (test certificates) and the
# PostgreSQL server. Without root or apt the suite falls back to the PostgreSQL binaries shipped on npm.
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -eq 0 ]; then
  echo "system deps: present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system deps: missing ${need[*]} and cannot install (not root or no apt-get)" >&2
  exit 0
fi
echo "system deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the Debian package starts a cluster on 5432; tests start their own servers on random ports
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop || true; done
fi
