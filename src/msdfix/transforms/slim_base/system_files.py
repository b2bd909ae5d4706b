"""slim-base: system files that only the full image's packages bring.

The full node/python/ruby images (buildpack-deps) carry openssh-client, imagemagick,
mysql-common, libldap-common, wget, subversion, mercurial, procps, git, fontconfig and the
DejaVu fonts, with their configuration files. A RUN that edits one without installing the
package (``sed -i ... /etc/ssh/ssh_config``, ImageMagick's ``policy.xml``) passes on the full
image and fails on -slim: "sed: can't read /etc/ssh/ssh_config: No such file or directory"
(node:18 -> node:18-slim, built for real). slim-base reads the programs a RUN runs; this reads
the files.
"""

from __future__ import annotations

import posixpath
import re

from msdfix.document import Document
from msdfix.model import Stage
from msdfix.shell.classify import program_args
from msdfix.shell.script import run_script
from msdfix.syntax.values import instruction_values
from msdfix.transforms.slim_base.facts import Facts, expand_sh

# A path of a full-only package (a directory when the pattern ends with "/", where a write
# fails too: the directory is missing), and the apt packages that bring it (the usual first).
_FULL_ONLY: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(rf"(?:^|[=:]){pattern}"), tuple(packages.split()))
    for pattern, packages in (
        (r"/etc/ssh/", "openssh-client openssh-server ssh"),
        (
            r"/etc/ImageMagick[^/]*/",
            "imagemagick imagemagick-6-common imagemagick-7-common imagemagick-6.q16 "
            "libmagickcore-6.q16-6 libmagickcore-dev libmagickwand-dev libmagickcore-6-dev",
        ),
        (
            r"/etc/mysql/",
            "mysql-common default-libmysqlclient-dev libmysqlclient-dev libmariadb-dev "
            "libmariadb-dev-compat mariadb-client default-mysql-client mysql-client "
            "mariadb-server default-mysql-server mysql-server",
        ),
        (r"/etc/ldap/", "libldap-common libldap2-dev libldap-dev ldap-utils slapd"),
        (r"/etc/subversion/", "subversion libsvn1"),
        (r"/etc/mercurial/", "mercurial"),
        (r"/(?:usr/share|usr/lib)/git-core/", "git"),
        (r"/etc/wgetrc\b", "wget"),
        (r"/etc/sysctl\.conf\b", "procps"),
        (
            r"/usr/share/fonts/truetype/dejavu/",
            "fonts-dejavu-core fonts-dejavu fonts-dejavu-extra fontconfig fontconfig-config "
            "libfontconfig1 libfontconfig-dev",
        ),
        (r"/etc/fonts/", "fontconfig-config fontconfig libfontconfig1 libfontconfig-dev"),
    )
)
# Commands that name such a path without needing it: cleanups, mkdir, tests, echo's text.
_NOT_READING = frozenset({"rm", "rmdir", "mkdir", "echo", "printf", "test", "[", "[[", ":"})
_REDIRECT = re.compile(r"^\d*(?:>>|>\||&>>|&>|>|<)\s*(\S+)$")


def _dir_of(pattern: re.Pattern[str], path: str) -> str | None:
    """The directory the pattern names in ``path`` (None when it names a file)."""
    found = pattern.search(path)
    if found is None or not found.group(0).endswith("/"):
        return None
    return found.group(0).lstrip("=:")


def full_only_file(doc: Document, stage: Stage, facts: Facts) -> str | None:
    """Why the stage needs a file that a package of the full image brings and -slim lacks
    (a RUN reads, edits or writes into it before any install of the package), or None."""
    made: list[str] = []  # directories a COPY/ADD or mkdir creates
    for ins in stage.instructions:
        if ins.cmd in ("copy", "add", "workdir"):
            values = instruction_values(ins)[1]
            if values:
                made.append(values[-1])
            continue
        script = run_script(ins, doc.text)
        if script is None:
            continue
        for command in script.commands:
            redirects = [m.group(1) for r in command.redirects if (m := _REDIRECT.match(r))]
            for program, args in expand_sh(*program_args(command)):
                name = posixpath.basename(program)
                if name == "mkdir":
                    made += [a for a in args if a.startswith("/")]
                    continue
                if name in _NOT_READING:
                    continue
                reason = _needed(ins.start_line, [a for a in args if "/" in a], facts, made)
                if reason:
                    return f"RUN at line {ins.start_line} {reason}"
            reason = _needed(ins.start_line, redirects, facts, made, writes=True)
            if reason:
                return f"RUN at line {ins.start_line} {reason}"
    return None


def _needed(
    line: int, paths: list[str], facts: Facts, made: list[str], writes: bool = False
) -> str | None:
    """The first of ``paths`` under a full-only package's files, described, or None."""
    for path in paths:
        for pattern, packages in _FULL_ONLY:
            if pattern.search(path) is None:
                continue
            folder = _dir_of(pattern, path)
            if writes and folder is None:
                continue  # `>> /etc/sysctl.conf` creates the file: /etc is there
            if any(at <= line and names & set(packages) for at, names in facts.apt.items()):
                continue
            if _created(path, folder, made):
                continue
            return f"names {path}, which {packages[0]} brings on the full image only"
    return None


def _created(path: str, folder: str | None, made: list[str]) -> bool:
    """True when a COPY/ADD, WORKDIR or mkdir of the stage made the file or its directory."""
    for raw in made:
        done = raw.rstrip("/")
        if not done.startswith("/") or len(done) <= len("/etc"):
            continue
        if done == path.rstrip("/") or (folder is not None and (done + "/").startswith(folder)):
            return True
    return False
