#!/usr/bin/env bash
# Test set-up run by Maven before the tests (exec-maven-plugin, skipped with -DskipTests):
# DashboardBrowserTests drives a real headless Chromium, so install Debian's chromium and
# chromium-driver when they are missing. Nothing to do when both are there (or CHROMIUM and
# CHROMEDRIVER point at other binaries).
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-browser: $CHROMIUM or $CHROMEDRIVER missing and no apt-get: install Chromium and its driver" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-browser: installing Debian's chromium and chromium-driver for the dashboard tests"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
