"""tests/support/standins.sh: the debian -slim stand-in is slimmed as debuerreotype does it.

A real build (skipped without a daemon or the debian:bookworm stand-in): the script's own
Dockerfile for ``debian:*-slim`` is built from the full stand-in, then a package installed
afterwards (made offline with dpkg-deb) must lose its docs and man page but keep its program
and copyright, and the files of the base must be gone while the man section folders stay.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from support import docker

FULL = "debian:bookworm"

# A package built inside the image (dpkg-deb needs no network) with one file under each kind
# of path debuerreotype's lists name, then installed with dpkg -i.
PROBE = """set -e
d=/tmp/probe; mkdir -p $d/DEBIAN $d/usr/bin $d/usr/share/doc/probe $d/usr/share/man/man1 \
  $d/usr/share/locale/de/LC_MESSAGES $d/usr/share/info
printf 'Package: probe\\nVersion: 1\\nArchitecture: all\\nMaintainer: t <t@t>\\nDescription: t\\n' \
  > $d/DEBIAN/control
printf '#!/bin/sh\\necho probe-ok\\n' > $d/usr/bin/probe && chmod 755 $d/usr/bin/probe
for f in doc/probe/README doc/probe/copyright man/man1/probe.1.gz locale/de/LC_MESSAGES/probe.mo \
  info/probe.info; do echo x > $d/usr/share/$f; done
dpkg-deb --build $d /tmp/probe.deb >/dev/null && dpkg -i /tmp/probe.deb >/dev/null
probe
for f in /usr/share/doc/probe/README /usr/share/doc/probe/copyright /usr/share/man/man1/probe.1.gz \
  /usr/share/locale/de/LC_MESSAGES/probe.mo /usr/share/info/probe.info; do
  if [ -e $f ]; then echo "kept $f"; else echo "gone $f"; fi; done
echo "base-docs $(find /usr/share/doc -type f ! -name copyright | wc -l)"
echo "base-man $(find /usr/share/man -type f | wc -l)"
echo "copyrights $(find /usr/share/doc -name copyright | wc -l)"
[ -d /usr/share/man/man1 ] && echo man1-dir
"""


def _slim_dockerfile(base: str) -> str:
    """The Dockerfile standins.sh builds debian:*-slim from (its function, sourced)."""
    script = f'source "{docker.STANDINS_SH}" && debian_slim_dockerfile {base}'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return out.stdout


def test_debian_slim_standin_excludes_what_debuerreotype_excludes() -> None:
    docker.require_images(FULL)
    with tempfile.TemporaryDirectory() as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(_slim_dockerfile(FULL))
        built = docker.build(tmp, dockerfile)
        try:
            assert built.ok, built.tail()
            slim = docker.run(built.tag, PROBE).stdout.split("\n")
            full = docker.run(FULL, PROBE).stdout.split("\n")
        finally:
            docker.remove_image(built.tag)
    assert "probe-ok" in slim
    for kind in ("doc/probe/README", "man/man1/probe.1.gz", "locale/de/LC_MESSAGES/probe.mo"):
        assert f"gone /usr/share/{kind}" in slim
        assert f"kept /usr/share/{kind}" in full
    assert "gone /usr/share/info/probe.info" in slim
    assert "kept /usr/share/doc/probe/copyright" in slim
    assert "base-docs 0" in slim and "base-man 0" in slim
    assert "base-docs 0" not in full and "base-man 0" not in full
    copyrights = [line for line in slim if line.startswith("copyrights ")]
    assert copyrights and copyrights == [line for line in full if line.startswith("copyrights ")]
    assert "man1-dir" in slim


def test_slim_standins_have_the_config_of_their_full_image() -> None:
    """The official debian, node and python -slim images differ from the full ones in files
    only; tests compare configs before and after slim-base (a label and WorkingDir "/" on the
    first debian -slim stand-in failed them)."""
    pairs = [("debian:bookworm", "debian:bookworm-slim"), ("node:18", "node:18-slim")]
    docker.require_images(*(tag for pair in pairs for tag in pair))
    for full, slim in pairs:
        assert docker.image_config(slim) == docker.image_config(full), (full, slim)
