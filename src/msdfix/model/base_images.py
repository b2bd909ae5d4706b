"""What msdfix knows about base images before any instruction runs: default user, working
directory and state.

Data, not code. Docker Hub's official ("library") images run as root unless their Dockerfile
sets ``USER``; the ones that do are listed, and so are service images whose user depends on the
tag or that we have not checked (their user is unknown). Images of other registries and
namespaces are unknown unless listed. Known images ship without apt lists or package caches
(their Dockerfiles clean up), so msdfix can reason about what an instruction leaves behind.
"""

from __future__ import annotations

from msdfix.model.image import ImageRef

ROOT = "root"

# Official images whose Dockerfile ends with a non-root USER (image -> that user).
LIBRARY_USERS: dict[str, str] = {
    "jenkins": "jenkins", "sonarqube": "sonarqube", "elasticsearch": "elasticsearch",
    "kibana": "kibana", "logstash": "logstash", "memcached": "memcache", "odoo": "odoo",
    "kong": "kong", "groovy": "groovy", "adminer": "adminer", "solr": "solr", "jetty": "jetty",
    "open-liberty": "1001", "websphere-liberty": "1001", "storm": "storm", "spark": "spark",
    "mongo-express": "node", "znc": "znc", "rocket.chat": "rocketchat", "neo4j": "neo4j",
}  # fmt: skip
# Official images whose default user changed between versions or is not documented.
LIBRARY_UNKNOWN = frozenset(
    "haproxy varnish couchbase crate zookeeper percona flink geonetwork silverpeas plone"
    " eclipse-mosquitto nats sapmachine unit".split()
)
# Other publishers: image name prefix -> default user (None: unknown even though known).
VENDOR_USERS: dict[str, str | None] = {
    "mcr.microsoft.com/dotnet/": ROOT, "mcr.microsoft.com/devcontainers/": None,
    "gcr.io/distroless/": ROOT, "cgr.dev/chainguard/": "65532", "chainguard/": "65532",
    "bitnami/": "1001", "nvidia/cuda": ROOT, "continuumio/": ROOT, "tensorflow/tensorflow": ROOT,
    "pytorch/pytorch": ROOT, "jupyter/": "jovyan", "quay.io/jupyter/": "jovyan",
    "circleci/": "circleci", "cimg/": "circleci", "selenium/": "seluser", "jenkins/": "jenkins",
    "gitpod/": "gitpod", "amazonlinux": ROOT, "public.ecr.aws/amazonlinux/": ROOT,
    "oven/bun": ROOT,
}  # fmt: skip
# Every repository Docker Hub's library has held (docker-library/official-images, library/ at
# 37079fb, and the names its history removed: centos, java, iojs, django, ...). A name without a
# namespace that is none of them is no official image: ``FROM mybase`` names an image built
# locally (``docker build`` finds it before Docker Hub), whose user, apt lists and caches are
# unknown.
OFFICIAL_IMAGES = frozenset(
    "adminer adoptopenjdk aerospike almalinux alpine alt amazoncorretto amazonlinux "
    "api-firewall arangodb archlinux azul-zulu backdrop bash bonita buildpack-deps busybox "
    "caddy cassandra celery centos chronograf cirros clearlinux clefos clickhouse clojure "
    "composer consul convertigo couchbase couchdb couchdb-nouveau crate crux dart debian "
    "django docker docker-dev drupal eclipse-mosquitto eclipse-temurin eggdrop elasticsearch "
    "elixir emqx erlang espocrm euleros express-gateway fedora flink fluentd friendica fsharp "
    "gazebo gcc geonetwork ghost glassfish golang gradle groovy haproxy haskell haxe "
    "hello-seattle hello-world hipache hitch hola-mundo httpd hylang ibm-semeru-runtimes "
    "ibmjava influxdb iojs irssi java jenkins jetty jobber joomla jruby julia kaazing-gateway "
    "kapacitor kibana known kong krakend lightstreamer lightstreamer-server liquibase "
    "logstash mageia mariadb matomo maven mediawiki memcached mongo mongo-express monica mono "
    "mosquitto mysql nats nats-streaming neo4j neurodebian nextcloud nginx nim node notary "
    "notary-server notary-signer nuxeo odoo open-liberty openjdk opensuse oraclelinux "
    "orientdb owncloud percona perl photon php php-zendserver phpmyadmin piwik plone "
    "postfixadmin postgres pypy python r-base rabbitmq rails rakudo-star rapidoid redis "
    "redmine registry rethinkdb rocket.chat rockylinux ros ruby rust sapmachine satosa sentry "
    "silverpeas sl solr sonarqube sourcemage spark spiped storm swarm swift swipl teamspeak "
    "telegraf thrift tomcat tomee traefik ubuntu ubuntu-debootstrap ubuntu-upstart unit "
    "varnish vault websphere-liberty wordpress xwiki yourls zend-php znc zookeeper".split()
)
# Default working directory of images whose WORKDIR is not ``/``: golang's ``WORKDIR $GOPATH``,
# gradle's ``WORKDIR /home/gradle`` (gradle/docker-gradle jdk21-noble/Dockerfile, after its
# ``VOLUME /home/gradle/.gradle``), bun's ``WORKDIR /home/bun/app``.
DEFAULT_WORKDIRS = {"golang": "/go", "gradle": "/home/gradle", "oven/bun": "/home/bun/app"}
# Owner and mode of those folders where not root's 755, which a runtime's ``WORKDIR`` makes them:
# golang's ``chmod -R 1777 "$GOPATH"`` (docker-library/golang Dockerfile.template), gradle's
# ``chown --recursive gradle:gradle /home/gradle && chmod --recursive o+rwx /home/gradle``.
DEFAULT_WORKDIR_MODES = {
    "golang": "root's with mode 1777",
    "gradle": "gradle's (uid 1000), mode 757",
}
# Tag suffixes that switch a vendor image to its non-root variant.
NON_ROOT_TAGS = ("nonroot", "debug-nonroot", "chiseled", "chiseled-extra", "distroless")


def library_name(image: ImageRef) -> str | None:
    """The official-image name (``python``), or None when ``image`` is not an official image
    (``ImageRef.name`` reads Docker Hub's spellings and mirrors alike)."""
    if not image.on_hub or "/" in image.name or "$" in image.raw:
        return None
    return image.name if image.name in OFFICIAL_IMAGES else None


def default_user(image: ImageRef) -> str | None:
    """The user an image's containers and RUN steps start as; None when unknown.

    ``scratch`` has no user database but runs as root.
    """
    if "$" in image.raw or not image.raw:
        return None
    name = library_name(image)
    if name is not None:
        if name in LIBRARY_UNKNOWN:
            return None
        return LIBRARY_USERS.get(name, ROOT)
    if image.raw == "scratch":
        return ROOT
    full = image.full_name
    for prefix, user in VENDOR_USERS.items():
        if full.startswith(prefix):
            tag = (image.tag or "").lower()
            if user == ROOT and any(tag.endswith(t) or f"{t}-" in tag for t in NON_ROOT_TAGS):
                return "65532" if full.startswith("gcr.io/distroless/") else None
            if full.startswith("cgr.dev/chainguard/") and tag.endswith("-dev"):
                return ROOT
            return user
    return None


def known_clean(image: ImageRef) -> bool:
    """True when the image is known to ship without apt lists and package-manager caches."""
    return default_user(image) is not None
