#!/bin/sh
# ensure-redis.sh: make sure a redis-server binary is on PATH, installing
# Debian's package when it is missing. Idempotent: a no-op when redis-server
# is already installed. Integration tests (internal/testutil/redistest) need it
# both for the process fallback and to build the FROM-scratch Docker image.
set -eu

if command -v redis-server >/dev/null 2>&1; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-redis: redis-server is not installed and apt-get is unavailable; install redis-server by hand" >&2
	exit 1
fi

# apt-get needs root; use sudo only when we are not root and it exists.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "ensure-redis: redis-server is not installed and we are not root (no sudo); run as root: apt-get install redis-server" >&2
		exit 1
	fi
fi

echo "ensure-redis: installing redis-server with apt-get" >&2
# env, not export: sudo resets the environment. noninteractive: no debconf prompts.
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; then
	echo "ensure-redis: apt-get update failed" >&2
	exit 1
fi
# --no-install-recommends: the server only (redis-tools is not needed).
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; then
	echo "ensure-redis: apt-get install redis-server failed" >&2
	exit 1
fi

if ! command -v redis-server >/dev/null 2>&1; then
	echo "ensure-redis: redis-server still not on PATH after install" >&2
	exit 1
fi
echo "ensure-redis: installed $(redis-server --version)" >&2
