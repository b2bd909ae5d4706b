"""A generator of hostile Dockerfiles for BuildKit's parser (tests/test_fuzz.py).

Where dockerfile_gen.py writes what people write, this writes what the parser must survive:
parser directives in any case and spacing (and unknown ones), continuations with spaces after
the escape, comment and blank lines inside them, CRLF and mixed line endings, a BOM, Go's
unicode spaces before a keyword, exec form with escapes, unicode and invalid JSON, several
heredocs on one line, ONBUILD, flags, instructions without arguments, keywords in any case,
lines close to BuildKit's 65,535-byte limit and ARG/ENV values with quotes and substitutions.
The oracle (BuildKit 0.12's parser) predates the `check` directive, so `check` and unknown
names come after `escape`, where both versions agree.
"""

from __future__ import annotations

from dockerfile_gen import Chooser

KEYWORDS = ["RUN", "RUN", "RUN", "COPY", "ADD", "ENV", "ARG", "CMD", "ENTRYPOINT", "WORKDIR",
            "USER", "EXPOSE", "LABEL", "VOLUME", "ONBUILD", "HEALTHCHECK", "SHELL", "STOPSIGNAL",
            "MAINTAINER"]  # fmt: skip
JSON_ARGS = ['["sh", "-c", "echo \\"hi\\""]', '["echo", "\\u00e9\\u4e2d"]', '["echo","a\\\\b"]',
             '[ "node" , "x.js" ]', '["a",]', "['sh', 'x']", '["a" "b"]', "[]", '["\\ud83d\\ude00"]',
             '["npm","start"] # c', '["a\\/b"]', '["x"]extra', "[1, 2]", '["ü", "\\t"]']  # fmt: skip
COMMANDS = ["echo hi", "apt-get update && apt-get install -y curl", "npm ci", "go mod download",
            "pip install -r requirements.txt", "echo $HOME ${X:-y} ${Y:+z}", "echo 'a b' \"c d\"",
            "apk add --no-cache git", "cd /app && make", "ls \\\\", "echo '\\'", "echo ü 中文",
            "echo tab\there", "rm -rf /var/lib/apt/lists/*", "true"]  # fmt: skip
FLAGS = {
    "RUN": ["--mount=type=cache,target=/root/.cache", "--mount=type=secret,id=s", "--network=none",
            "--mount=type=cache,target=/var/cache/apt,sharing=locked"],
    "COPY": ["--chown=1000:1000", "--from=s0", "--link", "--chmod=755"],
    "ADD": ["--chown=1:1", "--link"],
    "FROM": ["--platform=$BUILDPLATFORM", "--platform=linux/amd64"],
}  # fmt: skip
VALUES = {
    "ENV": ["A=1", "A=\"x y\" B='z w'", "A ${B:-c}", "PATH=/opt/bin:$PATH", "A=a\\ b",
            "A=${X:-${Y:-z}}", "HOME=/home/app", "PIP_NO_CACHE_DIR=1", "NODE_ENV=production"],
    "ARG": ["V", "V=1", 'V="a b"', "V=${X:-y}", "TARGETARCH", "A=1 B=2"],
    "ONBUILD": ["RUN npm ci", "COPY . /app", "run echo hi", "ADD <<EOF /x\nhi\nEOF"],
    "WORKDIR": ["/app", "/srv/a b", "$HOME/x", "/a\\ b"],
    "USER": ["1000", "app", "node:node", "root"],
    "EXPOSE": ["80", "8080/tcp 53/udp"],
    "LABEL": ["a=b", 'x="y z"', "a.b.c=1 d=2"],
    "VOLUME": ["/data", '["/a", "/b"]', "/x /y"],
    "HEALTHCHECK": ["NONE", "CMD curl -f http://x/", '--interval=5s CMD ["true"]'],
    "SHELL": ['["/bin/bash", "-c"]', '["/bin/sh", "-eu", "-c"]'],
    "STOPSIGNAL": ["SIGTERM"],
    "MAINTAINER": ["me"],
}  # fmt: skip
SPACES = ["\u3000", "\u2003", "\xa0", "\x85", "\v", "\f", "\t", " "]


def _case(c: Chooser, word: str) -> str:
    return c.pick([word, word, word.lower(), word.title(), word[:1].lower() + word[1:]])


class _Writer:
    def __init__(self, c: Chooser, escape: str) -> None:
        self.c, self.escape = c, escape

    def continuation(self) -> str:
        c = self.c
        between = c.pick([[], [], ["# comment"], [""], ["   "], ["#"], ["  # indented"]])
        after = c.pick(["", "", " ", "\t", "  "])
        return f" {self.escape}{after}\n" + "".join(f"{b}\n" for b in between) + "  "

    def shell(self) -> str:
        c = self.c
        script = c.pick(COMMANDS)
        for _ in range(c.number(0, 3)):
            script += (self.continuation() if c.chance(60) else " ") + "&& " + c.pick(COMMANDS)
        return script

    def heredoc(self, keyword: str) -> str:
        c = self.c
        names = [c.pick(["EOF", "EOT", "END"]) + str(i) for i in range(c.number(1, 3))]
        words, bodies = [], []
        for name in names:
            dash, quote = c.pick(["", "-"]), c.pick(["", "'", '"'])
            words.append(f"<<{dash}{quote}{name}{quote}")
            lines = [("\t" if dash else "") + c.pick(COMMANDS) for _ in range(c.number(0, 3))]
            bodies.append("\n".join([*lines, ("\t" if dash and c.chance(50) else "") + name]))
        if keyword == "RUN":
            head = " ".join(words) if c.chance(60) else "cat " + " ".join(words)
        else:
            head = " ".join(words) + " /dest/"
        return head + "\n" + "\n".join(bodies)

    def instruction(self) -> str:
        c = self.c
        keyword = c.pick(KEYWORDS)
        flags = [c.pick(FLAGS[keyword]) for _ in range(c.number(0, 2))] if keyword in FLAGS else []
        head = " ".join([_case(c, keyword), *flags])
        if c.chance(2):
            return head + c.pick(["", " ", "\t"])  # no arguments: BuildKit refuses most
        if keyword in ("RUN", "COPY", "ADD") and c.chance(20):
            return f"{head} {self.heredoc(keyword)}"
        if keyword == "RUN":
            return f"{head} {c.pick(JSON_ARGS) if c.chance(20) else self.shell()}"
        if keyword in ("COPY", "ADD"):
            if c.chance(10):
                return f'{head} ["a b", "/app/"]'
            sources = c.pick(["package.json", "requirements.txt", "src/", "a\\ b", "*.txt"])
            return f"{head} {sources} {c.pick(['/app/', '.', './'])}"
        if keyword in ("CMD", "ENTRYPOINT"):
            return f"{head} {c.pick(JSON_ARGS) if c.chance(60) else self.shell()}"
        return f"{head} {c.pick(VALUES[keyword])}"

    def stage(self, index: int, names: list[str]) -> list[str]:
        c = self.c
        image = c.pick(["debian:12", "python:3.12", "node:20", "golang:1.22", "${BASE}", *names])
        flags = [c.pick(FLAGS["FROM"])] if c.chance(20) else []
        line = " ".join([_case(c, "FROM"), *flags, image])
        if c.chance(50):
            line += f" {_case(c, 'AS')} s{index}"
            names.append(f"s{index}")
        lines = [line]
        for _ in range(c.number(1, 8)):
            if c.chance(15):
                lines.append(c.pick(["", "# comment", "   ", "\t# x", "#", "# escape=`"]))
            lines.append(self.instruction())
        return lines


def _directives(c: Chooser, escape: str) -> list[str]:
    def one(name: str, value: str) -> str:
        space = c.pick(["", " ", "  ", "\t"])
        return f"#{space}{_case(c, name)}{c.pick(['', ' '])}={c.pick(['', ' '])}{value}"

    head = []
    if c.chance(25):
        head.append(one("syntax", c.pick(["docker/dockerfile:1", "x"])))
    if escape == "`" or c.chance(10):
        head.insert(c.number(0, len(head)), one("escape", escape))
    if c.chance(15):
        name = c.pick(["check", "foo"])
        head.append(one(name, "skip=all"))
        if name == "foo" and c.chance(50):  # after the end of the directives: a comment
            head.append(one(c.pick(["escape", "syntax"]), c.pick(["`", "\\"])))
    if c.chance(10):
        head.insert(c.number(0, len(head)), c.pick(["", "# comment"]))
    return [line + c.pick(["", "", " ", "\t"]) for line in head]


def _pad(c: Chooser, lines: list[str]) -> None:
    """Grow one instruction line to just under or over BuildKit's 65,535-byte limit."""
    candidates = [i for i, line in enumerate(lines) if line[:4].upper() in ("RUN ", "CMD ", "ENV ")]
    if candidates:
        i = c.pick(candidates)
        if not lines[i].rstrip(" \t").endswith(("\\", "`")):
            lines[i] += " " + "z" * max(0, c.number(65300, 65540) - len(lines[i].encode()))


def dockerfile(c: Chooser) -> str:
    """One generated hostile Dockerfile."""
    escape = "`" if c.chance(20) else "\\"
    lines = _directives(c, escape)
    if c.chance(30):
        lines.append(f"ARG BASE={c.pick(['debian:12', 'alpine'])}")
    names: list[str] = []
    writer = _Writer(c, escape)
    for index in range(c.number(1, 3)):
        lines += writer.stage(index, names)
    if c.chance(3):
        _pad(c, lines)
    if c.chance(8):
        i = c.number(0, len(lines) - 1)
        lines[i] = c.pick(SPACES) + lines[i]
    if c.chance(10):
        lines = [line + c.pick(["", " ", "\t"]) for line in lines]
    text = "\n".join(lines) + ("\n" if c.chance(90) else "")
    if c.chance(15):
        text = text.replace("\n", "\r\n")
    elif c.chance(8):
        parts = text.split("\n")
        text = "".join(p + c.pick(["\n", "\r\n"]) for p in parts[:-1]) + parts[-1]
    if c.chance(5):
        text = "\ufeff" + text
    return text
