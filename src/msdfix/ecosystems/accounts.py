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
import re
from typing import NamedTuple

from msdfix.ecosystems.runtime_users import debian_image
from msdfix.model.base_images import library_name
from msdfix.model.image import parse_image

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
# busybox adduser's long options (adduser.c's adduser_longopts) and the letters they stand for.
_BUSYBOX_LONG = {
    "--home": "-h", "--gecos": "-g", "--shell": "-s", "--ingroup": "-G", "--skel": "-k",
    "--uid": "-u", "--disabled-password": "-D", "--empty-password": "-D", "--system": "-S",
    "--no-create-home": "-H",
}  # fmt: skip


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


def _busybox_letters(arg: str) -> str:
    """A busybox long option as its letter (``--system`` is ``-S``, ``--uid=7`` ``-u7``);
    other words as written (an unknown long option stays one: not read)."""
    key, eq, value = arg.partition("=")
    letter = _BUSYBOX_LONG.get(key) if arg.startswith("--") else None
    return arg if letter is None else letter + value if eq else letter


def _busybox_adduser(args: list[str]) -> Account | None:
    parsed = _options([_busybox_letters(a) for a in args], _BUSYBOX_VALUES)
    if parsed is None or len(parsed[1]) != 1 or "$" in parsed[1][0]:
        return None  # ``adduser USER GROUP`` adds an existing user to a group
    options, (name,) = parsed
    if any(k.startswith("--") for k in options):
        return None
    home = _home(_pick(options, "-h"), None, name)
    own_group = "-G" not in options and "-S" not in options
    return Account(name, home, _uid(_pick(options, "-u"), None, own_group))


# Programs that create a user or a group.
ACCOUNT_MAKERS = frozenset({"useradd", "adduser", "groupadd", "addgroup"})
# groupadd(8) options that take a value; Debian addgroup's and busybox addgroup's.
_GROUPADD_VALUES = frozenset(
    "-g --gid -K --key -p --password -R --root -P --prefix -U --users".split()
)
_ADDGROUP_VALUES = frozenset("-g --gid --conf".split())
# An /etc/passwd or /etc/group line: NAME:PASSWORD:ID...
_DATABASE_LINE = re.compile(r"([a-z_][a-z0-9_.-]*\$?):[^:\s]*:[0-9]+(?::|$)")


def made_name(program: str, args: list[str], redirects: list[str] | None = None) -> str | None:
    """The user or group the command creates, read as the program does: a useradd/adduser
    account (``created_account``), ``adduser --group``'s group, the one name
    ``groupadd``/``addgroup`` take (``addgroup USER GROUP`` adds a user to a group), or the
    NAME of an ``echo NAME:x:ID:...`` line appended to /etc/passwd or /etc/group. None where
    it creates none or msdfix cannot read it (an account it names stays unknown, not absent).
    """
    if program in ("useradd", "adduser"):
        account = created_account(program, args)
        if account is None and program == "adduser" and "--group" in args:
            return _group_name(args, _DEBIAN_VALUES)
        return account.name if account is not None else None
    if program == "groupadd":
        parsed = _options(args, _GROUPADD_VALUES)
        local = parsed is not None and not {"-R", "--root", "-P", "--prefix"} & set(parsed[0])
        return _group_name(args, _GROUPADD_VALUES) if local else None
    if program == "addgroup":
        return _group_name(args, _ADDGROUP_VALUES)
    if program == "echo" and any(_appends_database(r) for r in redirects or []):
        line = " ".join(a for a in args if a not in ("-e", "-n", "-ne", "-en"))
        found = _DATABASE_LINE.match(line) if "\\n" not in line and "\n" not in line else None
        return found.group(1) if found else None
    return None


# usermod(8) options that take a value.
_USERMOD_VALUES = frozenset(
    "-c --comment -d --home -e --expiredate -f --inactive -g --gid -G --groups -l --login -p "
    "--password -R --root -P --prefix -s --shell -u --uid -v --add-subuids -V --del-subuids "
    "-w --add-subgids -W --del-subgids -Z --selinux-user".split()
)


def joined_groups(program: str, args: list[str]) -> list[str]:
    """The groups, by name, a useradd, usermod or adduser command puts a user in, which must
    exist for it to succeed (``-g``/``-G`` of useradd and usermod, Debian adduser's
    ``--ingroup`` and ``adduser USER GROUP``, busybox's ``-G``); numbers left out."""
    valued = {
        "useradd": _USERADD_VALUES,
        "usermod": _USERMOD_VALUES,
        "adduser": _DEBIAN_VALUES | _BUSYBOX_VALUES,
    }.get(program)
    parsed = _options(args, valued) if valued is not None else None
    if parsed is None:
        return []
    options, names = parsed
    keys = ("-g", "--gid", "-G", "--groups") if program != "adduser" else ("--ingroup", "-G")
    found = [g for k in keys if k in options for g in options[k].split(",")]
    found += names[1:2] if program == "adduser" and len(names) == 2 else []
    return [g for g in found if g and not g.isdigit()]


def _group_name(args: list[str], valued: frozenset[str]) -> str | None:
    """The single name of a group-making command line, or None (two names, a variable)."""
    parsed = _options(args, valued)
    if parsed is None or len(parsed[1]) != 1 or "$" in parsed[1][0]:
        return None
    return parsed[1][0]


def _appends_database(redirect: str) -> bool:
    """Whether the redirect appends to /etc/passwd or /etc/group (``>> /etc/passwd``)."""
    op, _, target = redirect.strip().partition(">>")
    return not op.strip("0123456789") and target.strip().strip("'\"") in (
        "/etc/passwd",
        "/etc/group",
    )


class ImageAccount(NamedTuple):
    """An account an image's /etc/passwd holds: ``ids`` "UID:GID" and its home (HOME)."""

    ids: str
    home: str


# base-passwd's accounts, with the same ids in every Debian and Ubuntu image and the official
# images built on them (its master /etc/passwd; read in the Debian 12 images: irc's home was
# /var/run/ircd before, the build's -slim runtime is of the same release). Not listed: _apt
# (its uid is the first free one when apt is installed: 100 before Debian 12, 42 since) and
# gnats (gone in Debian 12: ``docker run --user gnats debian:12`` fails).
DEBIAN_ACCOUNTS = {
    name: ImageAccount(ids, home)
    for name, ids, home in (
        ("root", "0:0", "/root"), ("daemon", "1:1", "/usr/sbin"), ("bin", "2:2", "/bin"),
        ("sys", "3:3", "/dev"), ("sync", "4:65534", "/bin"), ("games", "5:60", "/usr/games"),
        ("man", "6:12", "/var/cache/man"), ("lp", "7:7", "/var/spool/lpd"),
        ("mail", "8:8", "/var/mail"), ("news", "9:9", "/var/spool/news"),
        ("uucp", "10:10", "/var/spool/uucp"), ("proxy", "13:13", "/bin"),
        ("www-data", "33:33", "/var/www"), ("backup", "34:34", "/var/backups"),
        ("list", "38:38", "/var/list"), ("irc", "39:39", "/run/ircd"),
        ("nobody", "65534:65534", "/nonexistent"),
    )
}  # fmt: skip
# Alpine's: only nobody has the same ids and home in the official images (alpine-baselayout)
# and in busybox (its other accounts differ between releases and from busybox's).
ALPINE_ACCOUNTS = {"root": ImageAccount("0:0", "/root"), "nobody": ImageAccount("65534:65534", "/")}
# distroless's whole /etc/passwd.
DISTROLESS_ACCOUNTS = {
    "root": ImageAccount("0:0", "/root"),
    "nonroot": ImageAccount("65532:65532", "/home/nonroot"),
    "nobody": ImageAccount("65534:65534", "/nonexistent"),
}
# Accounts official images add to their distribution's (node's Dockerfiles: groupadd and
# useradd --uid 1000 node, adduser -u 1000 on alpine).
LIBRARY_ACCOUNTS = {
    "node": {"node": ImageAccount("1000:1000", "/home/node")},
    "nginx": {"nginx": ImageAccount("101:101", "/nonexistent")},  # adduser --home /nonexistent
}
# Their alpine tags' own, where they differ (nginx's: adduser -h /var/cache/nginx -u 101).
LIBRARY_ALPINE_ACCOUNTS = {"nginx": {"nginx": ImageAccount("101:101", "/var/cache/nginx")}}
# Official images on debian:*-slim that are no toolchain (``debian_image`` leaves them out).
DEBIAN_SERVICES = frozenset({"nginx"})


# Ubuntu 23.04 and later ship an account ``ubuntu`` 1000:1000 (HOME /home/ubuntu): a
# ``useradd -u 1000`` fails there "UID 1000 is not unique" (adoptium/containers#613, when
# eclipse-temurin's plain tags moved from jammy to noble in July 2024; jupyterhub/repo2docker
# #1346), and a numeric ``USER 1000`` takes its group and HOME.
UBUNTU_ACCOUNT = ImageAccount("1000:1000", "/home/ubuntu")
_UBUNTU_RELEASES = ("trusty", "xenial", "bionic", "focal", "jammy", "lunar", "mantic", "noble",
                    "oracular", "plucky", "questing")  # fmt: skip
_UBUNTU_NUMBERS = {"14": "trusty", "16": "xenial", "18": "bionic", "20": "focal", "22": "jammy"}
# Images built on Ubuntu whose tags name no release: their default release moves (eclipse-
# temurin's and the maven/gradle tags built on it went jammy -> noble), so only a tag that
# moves with it (the major version alone) is the same release as another such tag.
UBUNTU_DEFAULT_IMAGES = frozenset({"eclipse-temurin", "maven", "gradle"})
_MOVING_TAG = re.compile(
    r"^(?:latest|\d+|(?:\d+-)?(?:jdk|jre)-?\d*|(?:\d+-)?eclipse-temurin(?:-\d+)?)$"
)


def ubuntu_release(raw: str) -> str | None:
    """The Ubuntu release of the image ``raw``: its codename, ``"default"`` for a tag that
    moves with the default of an Ubuntu-built image (``eclipse-temurin:17-jre``,
    ``maven:3-eclipse-temurin-17``), ``"other"`` for an image msdfix knows to be no Ubuntu
    (Debian, Alpine, distroless), None when unknown."""
    ref = parse_image(raw)
    library, tag = library_name(ref), (ref.tag or "latest").lower()
    release = next((r for r in _UBUNTU_RELEASES if r in tag), None)
    if library == "ubuntu":
        number = re.match(r"(\d+)\.(?:04|10)\b", tag)
        if number:
            return _UBUNTU_NUMBERS.get(number.group(1), "noble")  # 23.04 and later
        return release or ("noble" if tag in ("latest", "rolling", "devel") else None)
    if release:
        return release
    if library in UBUNTU_DEFAULT_IMAGES and "openjdk" not in tag and "alpine" not in tag:
        return "default" if _MOVING_TAG.match(tag) else None
    other = debian_image(raw) or "alpine" in tag or library == "alpine"
    return "other" if other or raw.startswith("gcr.io/distroless/") else None


def ubuntu_user(raw: str) -> bool | None:
    """Whether the image ``raw`` ships Ubuntu 23.04+'s ``ubuntu`` account (None: unknown).
    The default of eclipse-temurin's tags is noble since July 2024."""
    release = ubuntu_release(raw)
    if release is None:
        return None
    return release == "default" or release in _UBUNTU_RELEASES[_UBUNTU_RELEASES.index("lunar") :]


def _ubuntu_built(raw: str) -> bool:
    """Whether ``raw`` is an image msdfix knows to be built on Ubuntu, of a release it may
    not know (``maven:3.8.6-eclipse-temurin-17``)."""
    release = ubuntu_release(raw)
    if release is not None:
        return release != "other"
    return library_name(parse_image(raw)) in UBUNTU_DEFAULT_IMAGES | {"ubuntu"}


def ubuntu_accounts_differ(build: str, runtime: str) -> str | None:
    """Why ``build`` and ``runtime``, one of them Ubuntu-built, may not agree on uid and gid
    1000 (Ubuntu 23.04+ ships an account ``ubuntu`` there), or None when they do."""
    if not _ubuntu_built(build) and not _ubuntu_built(runtime):
        return None
    if ubuntu_release(build) == ubuntu_release(runtime) is not None:
        return None
    before, after = ubuntu_user(build), ubuntu_user(runtime)
    if before is None or after is None:
        where = build if before is None else runtime
        return (
            f"msdfix does not know which Ubuntu release {where} is, and Ubuntu 23.04+ ships "
            "an account ubuntu at uid and gid 1000"
        )
    if before == after:
        return None
    has = build if before else runtime
    return f"{has} ships Ubuntu 23.04+'s account ubuntu at uid and gid 1000, the other does not"


def image_account(raw: str, name: str) -> ImageAccount | None:
    """The account ``name`` the image ``raw`` ships, or None when msdfix does not know it to
    ship one (unknown, not absent, except in distroless, whose whole list is known)."""
    ref = parse_image(raw)
    if "$" in raw:
        return None
    if raw.startswith("gcr.io/distroless/"):
        return DISTROLESS_ACCOUNTS.get(name)
    library = library_name(ref)
    if library is None:
        return None
    alpine = library == "alpine" or "alpine" in (ref.tag or "")
    own = LIBRARY_ALPINE_ACCOUNTS.get(library, {}).get(name) if alpine else None
    if own := own or LIBRARY_ACCOUNTS.get(library, {}).get(name):
        return own
    if alpine:
        return ALPINE_ACCOUNTS.get(name)
    if name == "ubuntu" and ubuntu_user(raw):
        return UBUNTU_ACCOUNT
    if debian_image(raw) or library in DEBIAN_SERVICES and "windows" not in (ref.tag or ""):
        return DEBIAN_ACCOUNTS.get(name)
    return None


def uid_account(raw: str, uid: str) -> tuple[str, ImageAccount] | None:
    """The name and account that hold ``uid`` among those msdfix knows the image ``raw`` to
    ship (Docker takes a numeric USER's group and HOME from it), or None (unknown)."""
    tables = (
        DEBIAN_ACCOUNTS,
        ALPINE_ACCOUNTS,
        DISTROLESS_ACCOUNTS,
        *LIBRARY_ACCOUNTS.values(),
        {"ubuntu": UBUNTU_ACCOUNT},
    )
    for name in dict.fromkeys(n for table in tables for n in table):
        found = image_account(raw, name)
        if found is not None and found.ids.split(":")[0] == uid:
            return name, found
    return None


def uid_change(build: str, runtime: str, uid: str) -> str | None:
    """Why a numeric USER ``uid`` runs with another group or HOME in ``runtime`` than in
    ``build``: one image ships an account with that uid that the other does not ship alike
    (built: USER 65532 ran in golang as gid 0 with HOME /, on distroless:nonroot as its
    nonroot, 65532:65532 with HOME /home/nonroot). None when neither is known to have one."""
    before, after = uid_account(build, uid), uid_account(runtime, uid)
    if before == after:
        return ubuntu_accounts_differ(build, runtime) if uid == "1000" else None
    where, (name, account) = (build, before) if before is not None else (runtime, after)  # type: ignore[misc]
    other = runtime if where == build else build
    return (
        f"uid {uid} is {name} ({account.ids}, HOME {account.home}) on {where}, "
        f"not an account msdfix knows {other} to have alike"
    )


def account_change(build: str, runtime: str, name: str) -> str | None:
    """Why the account ``name`` of the image ``build`` is not the same one in ``runtime``
    (missing, unknown, other ids or home: the app would run as another user or with another
    HOME), or None when both images ship it with the same ids and home."""
    before, after = image_account(build, name), image_account(runtime, name)
    if before is None:
        return f"{name} is not an account msdfix knows {build} to have"
    if after is None:
        return f"{name} is not an account msdfix knows {runtime} to have"
    if before != after:
        return (
            f"{name} is {before.ids} with HOME {before.home} on {build}, "
            f"{after.ids} with HOME {after.home} on {runtime}"
        )
    return None
