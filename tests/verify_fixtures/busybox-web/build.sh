#!/bin/sh
# Stands in for a slow dependency install: only depends on this file.
set -e
mkdir -p /opt/deps
sleep 2
echo "deps installed" > /opt/deps/marker
