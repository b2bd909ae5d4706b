"""Helpers shared by the tests of build-checks, exec-form, non-root and build-secrets."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from msdfix.engine import Result, Settings, rewrite
from msdfix.model import BuildContext

try:
    from tests.support import docker as sd
except ImportError:  # pragma: no cover
    from support import docker as sd  # type: ignore[no-redef]

BENCH = Path(__file__).resolve().parent.parent / "bench" / "apps"


def run(
    text: str, transform: str | None, unsafe: bool = True, context: Path | None = None
) -> Result:
    select = frozenset({transform}) if transform else None
    return rewrite(text, None, BuildContext(context), Settings(select, unsafe=unsafe))


def messages(result: Result) -> str:
    return " | ".join(f.message for f in result.applied + result.suggestions)


def copy_app(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(BENCH / name, target)
    return target


def tag(label: str) -> str:
    return f"msdfix-newtransforms/{label}:{uuid.uuid4().hex[:10]}"


def serve_and_get(image: str, port: int, path: str = "/") -> tuple[str, str]:
    """Run ``image``, fetch http://127.0.0.1:PORT/PATH from inside it; (body, uid of PID 1)."""
    name = f"msdfix-nt-{uuid.uuid4().hex[:10]}"
    sd.docker("run", "-d", "--name", name, image, check=True)
    try:
        probe = (
            "import urllib.request,time\n"
            "for _ in range(60):\n"
            "    try:\n"
            f"        print(urllib.request.urlopen('http://127.0.0.1:{port}{path}').read().decode()); break\n"
            "    except OSError: time.sleep(0.5)\n"
        )
        node = (
            "const go=n=>require('http').get('http://127.0.0.1:"
            + str(port)
            + path
            + "',r=>{let b='';"
            "r.on('data',d=>b+=d);r.on('end',()=>console.log(b))}).on('error',()=>n&&setTimeout(()=>go(n-1),500));go(60)"
        )
        out = sd.docker("exec", name, "python3", "-c", probe, timeout=60)
        if out.returncode != 0:
            out = sd.docker("exec", name, "node", "-e", node, timeout=60)
        uid = sd.docker("exec", name, "sh", "-c", "stat -c %u /proc/1", timeout=30).stdout.strip()
        if not uid:
            uid = sd.docker("exec", name, "id", "-u", timeout=30).stdout.strip()
        return out.stdout.strip(), uid
    finally:
        sd.docker("rm", "-f", name, timeout=60)


def stop_seconds(image: str) -> float:
    """How long ``docker stop -t 10`` takes on a running container of ``image``."""
    name = f"msdfix-nt-{uuid.uuid4().hex[:10]}"
    sd.docker("run", "-d", "--name", name, image, check=True)
    try:
        time.sleep(2)
        start = time.monotonic()
        sd.docker("stop", "-t", "10", name, timeout=60)
        return time.monotonic() - start
    finally:
        sd.docker("rm", "-f", name, timeout=60)
