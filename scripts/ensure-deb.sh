#!/bin/sh
# ensure-deb.sh COMMAND PACKAGE: make sure COMMAND is on PATH, installing
# Debian's PACKAGE when it is missing (e.g. `ensure-deb.sh wrk wrk`, the load
# generator of make bench-compare). Idempotent: a no-op when it is there.
set -eu
cmd=$1 pkg=$2

if command -v "$cmd" >/dev/null 2>&1; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-deb: $cmd is not installed and apt-get is unavailable; install $pkg by hand" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "ensure-deb: $cmd is not installed and we are not root (no sudo); run as root: apt-get install $pkg" >&2
		exit 1
	fi
fi
echo "ensure-deb: installing $pkg with apt-get" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; then
	echo "ensure-deb: apt-get update failed" >&2
	exit 1
fi
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; then
	echo "ensure-deb: apt-get install $pkg failed" >&2
	exit 1
fi
if ! command -v "$cmd" >/dev/null 2>&1; then
	echo "ensure-deb: $cmd still not on PATH after installing $pkg" >&2
	exit 1
fi
echo "ensure-deb: installed $pkg" >&2
