#!/usr/bin/env bash
# CI bootstrap for real-build tests: install Debian's docker.io + debootstrap when missing,
# start dockerd (tests/support/dockerd.sh), build the offline stand-in images, and print the
# `export` lines for the caller to eval. Exits non-zero (and says why on stderr) when no
# daemon can be started; the caller then runs the tests without Docker, loudly.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! { command -v dockerd || [ -x /usr/sbin/dockerd ]; } >/dev/null || ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci-docker: docker.io/debootstrap missing and not root: cannot install them" >&2
    exit 1
  fi
  echo "ci-docker: installing docker.io and debootstrap from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq docker.io debootstrap; } >&2 || {
    echo "ci-docker: apt-get install docker.io debootstrap failed" >&2
    exit 1
  }
fi

exports="$("$here/dockerd.sh" start)" || exit 1
eval "$exports"
start=$SECONDS
if ! "$here/standins.sh" >&2; then
  echo "ci-docker: building the stand-in images failed" >&2
  exit 1
fi
echo "ci-docker: stand-in images ready in $((SECONDS - start)) s" >&2
echo "$exports"
