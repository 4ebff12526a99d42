#!/bin/sh
# Build the vllm stand-in wheel into ./dist
set -eu
cd "$(dirname "$0")"
exec "${PYTHON:-python3}" -m pip wheel --no-deps -w dist .
