#!/usr/bin/env bash
# Installs what Duskwatch needs on a fresh Debian/Ubuntu machine: Java 17 and Maven (for the
# embedded OpenSearch node), then a virtualenv in .venv with the package and its dev extras.
# With --test also what only the test suite uses: Chromium (the HTML report's render test) and
# rsyslog with its TLS driver (the syslog export tests' real daemon).
# Run by scripts/start and scripts/test; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] || [ -x /usr/lib/jvm/java-17-openjdk-arm64/bin/java ] \
  || [ -n "${JAVA_HOME:-}" ] || need_apt+=(openjdk-17-jdk-headless)
command -v python3.11 >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  [ -x /usr/sbin/rsyslogd ] || need_apt+=(rsyslog)
  dpkg-query -W -f='${Status}' rsyslog-gnutls 2>/dev/null | grep -q "ok installed" || need_apt+=(rsyslog-gnutls)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need_apt[*]} — install them (sudo apt-get install -y ${need_apt[*]}) and re-run" >&2
    exit 1
  fi
  echo "installing ${need_apt[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
