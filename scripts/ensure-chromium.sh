#!/bin/sh
# Headless Chromium for the report's browser test (tests/pipeline/test_report.py): Debian's package,
# installed once; later runs find it and do nothing.
set -e
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
