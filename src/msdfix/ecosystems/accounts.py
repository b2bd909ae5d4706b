"""The account a ``useradd``/``adduser`` command creates: its name, home and uid, as documented.

Data and one reader, no guesses: shadow's useradd(8) sets the home to ``-d DIR``, or to
``-b BASE``/NAME, or to the ``HOME`` of /etc/default/useradd (``/home``)/NAME; Debian's
adduser(8) to ``--home DIR`` or ``DHOME`` of adduser.conf (``/home``)/NAME, a ``--system``
user's to /nonexistent (busybox's, which takes the same long options, to /home/NAME: unknown);
busybox ``adduser`` to ``-h DIR`` or /home/NAME, its group's id the uid (adduser.c). The uid is known only
where the command gives it (the first free uid depends on the image's accounts); the group's
id is the uid (useradd with ``USERGROUPS_ENAB``, the default in Debian's and Ubuntu's
login.defs, and adduser's ``USERGROUPS=yes`` give the user a group of its own and prefer that
id) unless the command names another group.
"""

from __future__ import annotations

import posixpath
from typing import NamedTuple

DEFAULT_HOME_BASE = "/home"  # HOME in /etc/default/useradd, DHOME in adduser.conf


class Account(NamedTuple):
    """A created account: ``home`` and ``uid`` ("UID:GID") are None where unknown."""

    name: str
    home: str | None
    uid: str | None


# useradd(8) options that take a value, short and long.
_USERADD_VALUES = frozenset(
    "-b --base-dir -c --comment -d --home-dir -e --expiredate -f --inactive -g --gid -G "
    "--groups -k --skel -K --key -p --password -R --root -P --prefix -s --shell -u --uid -Z "
    "--selinux-user --selinux-range".split()
)
# useradd's long options without a value (shadow 4.13's usage text): getopt_long takes any
# unambiguous abbreviation of a long option (``--home`` is ``--home-dir``; ``--ba`` is
# ambiguous and fails).
_USERADD_LONG = frozenset(
    {o for o in _USERADD_VALUES if o.startswith("--")}
    | set(
        "--badname --btrfs-subvolume-home --defaults --add-subids-for-system --help "
        "--no-log-init --create-home --no-create-home --no-user-group --non-unique --system "
        "--user-group".split()
    )
)
# Debian adduser(8) options that take a value.
_DEBIAN_VALUES = frozenset(
    "--home --shell --uid --firstuid --lastuid --gid --firstgid --lastgid --ingroup --gecos "
    "--comment --conf --extrausers --add_extra_groups_list".split()
)
# busybox adduser options that take a value.
_BUSYBOX_VALUES = frozenset("-h -g -s -G -u -k".split())


def created_account(program: str, args: list[str]) -> Account | None:
    """The account ``program args`` creates, or None (not a creation msdfix can read: another
    root, defaults mode, an option it does not know, adding a user to a group)."""
    if program == "useradd":
        return _useradd(args)
    if program == "adduser":
        long_only = all(a.startswith("--") or not a.startswith("-") for a in args)
        return _debian_adduser(args) if long_only else _busybox_adduser(args)
    return None


def _options(
    args: list[str], valued: frozenset[str], longs: frozenset[str] | None = None
) -> tuple[dict[str, str], list[str]] | None:
    """Options and positionals as getopt reads them: ``--opt=value`` split, short options
    bundled (``-ms /bin/bash``: ``-m``, then ``-s`` with the next word) with a value glued to
    its letter (``-d/srv/app``, ``-u1000``); with ``longs``, a long option may be any
    unambiguous abbreviation (getopt_long). None on an option ending the list without its
    value, or an ambiguous or unknown abbreviation."""
    options: dict[str, str] = {}
    names: list[str] = []
    i = 0
    while i < len(args):
        arg, i = args[i], i + 1
        if arg == "--":
            names += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            names.append(arg)
            continue
        if arg.startswith("--"):
            written, eq, value = arg.partition("=")
            key = _long(written, longs) if longs is not None else written
            if key is None:
                return None
            if not eq and key in valued:
                if i >= len(args):
                    return None
                value, i = args[i], i + 1
            options[key] = value
            continue
        for at in range(1, len(arg)):
            letter = "-" + arg[at]
            if letter not in valued:
                options[letter] = ""
                continue
            if at + 1 < len(arg):
                options[letter] = arg[at + 1 :]
            elif i < len(args):
                options[letter], i = args[i], i + 1
            else:
                return None
            break
    return options, names


def _long(key: str, longs: frozenset[str]) -> str | None:
    """The long option ``key`` names, exactly or as its only abbreviation; None otherwise."""
    if key in longs:
        return key
    found = [o for o in longs if o.startswith(key)]
    return found[0] if len(found) == 1 else None


def _pick(options: dict[str, str], *keys: str) -> str | None:
    return next((options[k] for k in keys if k in options), None)


def _uid(uid: str | None, gid: str | None, own_group: bool) -> str | None:
    """The "UID:GID" the command gives in numbers (the gid is the uid where the user
    gets a group of its own)."""
    if uid is None or not uid.isdigit():
        return None
    if gid is None:
        return f"{uid}:{uid}" if own_group else None
    return f"{uid}:{gid}" if gid.isdigit() else None


def _home(home: str | None, base: str | None, name: str) -> str | None:
    if home is not None:
        return posixpath.normpath(home) if home.startswith("/") and "$" not in home else None
    if base is not None and (not base.startswith("/") or "$" in base):
        return None
    return posixpath.join(base or DEFAULT_HOME_BASE, name)


def _useradd(args: list[str]) -> Account | None:
    parsed = _options(args, _USERADD_VALUES, _USERADD_LONG)
    if parsed is None or len(parsed[1]) != 1 or "$" in parsed[1][0]:
        return None
    options, (name,) = parsed
    if any(k in options for k in ("-D", "--defaults", "-R", "--root", "-P", "--prefix")):
        return None
    home = _home(_pick(options, "-d", "--home-dir"), _pick(options, "-b", "--base-dir"), name)
    no_group = "-N" in options or "--no-user-group" in options
    gid = _pick(options, "-g", "--gid")
    return Account(name, home, _uid(_pick(options, "-u", "--uid"), gid, not no_group))


def _debian_adduser(args: list[str]) -> Account | None:
    parsed = _options(args, _DEBIAN_VALUES)
    if parsed is None or len(parsed[1]) != 1 or "$" in parsed[1][0]:
        return None  # ``adduser USER GROUP`` adds an existing user to a group
    options, (name,) = parsed
    if "--group" in options and "--system" not in options:
        return None  # ``adduser --group NAME`` adds a group
    home = _pick(options, "--home")
    if home is None and "--system" in options:
        return Account(name, None, None)  # Debian's /nonexistent, busybox's /home/NAME
    # a --system user is in nogroup unless --group gives it its own
    own_group = "--ingroup" not in options and ("--system" not in options or "--group" in options)
    uid = _uid(_pick(options, "--uid"), _pick(options, "--gid"), own_group)
    return Account(name, _home(home, None, name), uid)


def _busybox_adduser(args: list[str]) -> Account | None:
    parsed = _options(args, _BUSYBOX_VALUES)
    if parsed is None or len(parsed[1]) != 1 or "$" in parsed[1][0]:
        return None  # ``adduser USER GROUP`` adds an existing user to a group
    options, (name,) = parsed
    if any(k.startswith("--") for k in options):
        return None
    home = _home(_pick(options, "-h"), None, name)
    own_group = "-G" not in options and "-S" not in options
    return Account(name, home, _uid(_pick(options, "-u"), None, own_group))
