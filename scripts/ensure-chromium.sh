#!/bin/sh
# ensure-chromium.sh: make sure a headless-capable Chromium is on PATH for the
# console's browser tests (internal/console), installing Debian's package when
# it is missing. Idempotent: a no-op when chromium is already installed.
set -eu

for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		exit 0
	fi
done

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-chromium: chromium is not installed and apt-get is unavailable; install chromium by hand" >&2
	exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "ensure-chromium: chromium is not installed and we are not root (no sudo); run as root: apt-get install chromium" >&2
		exit 1
	fi
fi

echo "ensure-chromium: installing chromium with apt-get" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; then
	echo "ensure-chromium: apt-get update failed" >&2
	exit 1
fi
# --no-install-recommends: the browser only, no desktop extras.
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
	echo "ensure-chromium: apt-get install chromium failed" >&2
	exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
	echo "ensure-chromium: chromium still not on PATH after install" >&2
	exit 1
fi
echo "ensure-chromium: installed $(chromium --version 2>/dev/null || echo chromium)" >&2
