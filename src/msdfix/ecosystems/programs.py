"""Programs msdfix can classify without knowing what a script does.

Data, not code. ``INERT`` programs never read or refresh a package index (apt's lists), never
read a package manager's cache or dependency store, and leave none behind: file and text tools,
archivers, downloaders, user management, compilers that only compile, dpkg (it installs .deb
files without the index) and helpers that refresh, install and clean up in one go. Anything not
classified here or by a package manager's table is *unknown*: a script, an interpreter running
a file, ``make``, a program from the build context. Unknown may do anything.
"""

from __future__ import annotations

import re

# Programs that print, test, wait, inspect or set the shell's own state: they create no file
# and read no cache, so they are harmless anywhere (the one list; users add what they also allow).
HARMLESS = frozenset(
    """
    [ test true echo printf cd pwd set export ls cat which whoami id uname date env sleep file du
    df
    """.split()
)
INERT = HARMLESS | frozenset(
    """
    [[ false : unset umask exit return shift trap
    wait ulimit alias type hash read local declare readonly
    mkdir rmdir rm cp mv ln chmod chown chgrp touch head tail tee sed awk gawk mawk grep
    egrep fgrep cut tr sort uniq wc find stat basename dirname realpath readlink
    mktemp install diff cmp comm paste join split csplit nl od hexdump sha1sum sha256sum
    sha512sum md5sum cksum base64 yes seq groups hostname nproc printenv
    command getent timeout tac rev fold expand unexpand fmt column iconv strings strip
    tar gzip gunzip zcat bzip2 bunzip2 xz unxz zstd unzstd zip unzip 7z lz4
    curl wget git ssh-keyscan ssh-keygen gpg gpg2 gpgv openssl update-ca-certificates
    useradd userdel usermod groupadd groupdel groupmod adduser addgroup deluser delgroup passwd
    chpasswd visudo setcap getcap locale-gen localedef update-locale ldconfig
    update-alternatives ln dpkg-reconfigure debconf-set-selections apt-key apt-mark dpkg-divert
    update-rc.d systemctl service dpkg dpkg-query dpkg-deb rpm install_packages
    upx ccache javac jar gcc g++ cc c++ clang clang++ ld as ar ranlib cmake ninja
    meson pkg-config autoreconf autoconf automake libtoolize
    """.split()
)

# Shells that run ``-c SCRIPT`` as /bin/sh does (shell form's default, ``SHELL ["bash", "-c"]``).
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash"})
# Programs that run the script given with -c, or a script file (then unknown).
SHELLS = POSIX_SHELLS | {"zsh", "ksh", "busybox"}
# Interpreters that, given no program (no script, no ``-c``/``-m``/``-e``), start a prompt or
# read the program from stdin (python(1), node(1), irb(1)): the image's users bring the program.
REPLS = frozenset(
    {"python", "python2", "python3", "pypy", "pypy3", "ipython", "node", "nodejs", "irb"}
)
_VERSIONED_REPL = re.compile(r"(?:python|pypy)[23](?:\.\d+)?")
# Their options that give the program on the command line.
REPL_PROGRAM_OPTIONS = frozenset({"-c", "-m", "-e", "-p", "--eval", "--print"})


def bare_interpreter(argv: list[str]) -> bool:
    """``argv`` starts an interpreter with no program of its own (``python3``, ``node -i``)."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name not in REPLS and not _VERSIONED_REPL.fullmatch(name):
        return False
    return all(a.startswith("-") and a not in REPL_PROGRAM_OPTIONS for a in argv[1:])


# Prefixes that run the rest of the command line as a program.
WRAPPERS = frozenset({"sudo", "exec", "command", "nice", "nohup", "time", "env", "eatmydata"})

# Programs a container starts that run only the app's own code (which msdfix reads) or serve
# files: interpreters, application servers and process managers of the ecosystems. Any other
# program an image starts (pre-commit, ansible, prisma, supervisord) is opaque: msdfix cannot
# see which tools it runs, so whether a smaller image has them is unknown.
APP_STARTERS = frozenset(
    """
    python python3 pypy pypy3 node nodejs deno bun java ruby perl php dotnet npm yarn pnpm
    gunicorn uvicorn hypercorn daphne waitress-serve uwsgi granian flask django-admin celery
    streamlit gradio rq dramatiq huey alembic pm2 pm2-runtime nodemon ts-node tsx next nuxt
    serve http-server sirv vite puma rails rackup unicorn sidekiq bundle rake thin
    nginx httpd apache2-foreground php-fpm caddy
    """.split()
) | {"tsc"}  # TypeScript's compiler: 3.9 to 5.9 require only fs, path, os, crypto, inspector,
# perf_hooks, buffer and source-map-support, no child_process (read in their packages; built:
# `npm start` running `tsc && node dist/index.js` split onto node:18-slim, same answer)
