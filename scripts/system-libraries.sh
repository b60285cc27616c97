#!/bin/sh
# Install the system libraries recueil needs when they are missing (Debian/Ubuntu).
# Pango renders text for WeasyPrint; libharfbuzz-subset0 lets it subset fonts quickly;
# Chromium runs the web catalogue's browser tests.
set -eu
missing=""
have() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have "libpango-1.0.so.0" || missing="$missing libpango-1.0-0"
have "libpangoft2-1.0.so.0" || missing="$missing libpangoft2-1.0-0"
have "libharfbuzz-subset.so.0" || missing="$missing libharfbuzz-subset0"
# the web catalogue's browser tests drive Debian's Chromium (Playwright cannot download its own)
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# the accessibility tests read the structure text with poppler's pdfinfo
command -v pdfinfo >/dev/null 2>&1 || missing="$missing poppler-utils"
if [ -z "$missing" ]; then
    echo "system libraries: present"
    exit 0
fi
echo "system libraries: installing$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: please install$missing with your system's package manager" >&2
    exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
