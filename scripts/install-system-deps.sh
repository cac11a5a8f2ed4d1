#!/usr/bin/env bash
# Installs the Debian packages the test suite uses when they are missing: openssl (test certificates), the
# PostgreSQL server and the MariaDB server. Without root or apt the suite falls back to the PostgreSQL binaries
# shipped on npm; MariaDB has no such fallback (MARIADB_BASEDIR names another install).
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/mariadbd ] && [ -x /usr/bin/mariadb-install-db ] || need+=(mariadb-server)
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
# the Debian packages start servers on 5432 and 3306; tests start their own servers on random ports
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop || true; done
fi
if [[ " ${need[*]} " == *" mariadb-server "* ]]; then
  # where a policy (containers) kept it from starting, these find nothing to do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now mariadb.service mariadb.socket >/dev/null 2>&1 || true
  else
    service mariadb stop >/dev/null 2>&1 || true
    update-rc.d mariadb disable >/dev/null 2>&1 || true
  fi
fi
