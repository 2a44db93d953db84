#!/bin/sh
# `make test`: every step runs even when an earlier one fails, so a failing
# Go package never hides the Rego tests or the corpora; the command still
# fails when any step did, and the last lines say which.
#
# Usage: scripts/test.sh STEP...   (each STEP is a make target)
failed=""
for step in "$@"; do
	echo "=== make $step"
	if ! ${MAKE:-make} --no-print-directory "$step"; then
		echo "=== make $step: FAILED"
		failed="$failed $step"
	fi
done
if [ -n "$failed" ]; then
	echo "=== make test: failed:$failed"
	exit 1
fi
echo "=== make test: every step passed ($*)"
