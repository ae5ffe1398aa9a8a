# The sandbox image the Docker executor runs code in: every language's toolchain on the
# Debian base that scripts/build-images makes with debootstrap (no registry is needed).
# Built by scripts/build-images, which passes the base image and copies esbuild (a static
# binary from assets/node_modules) into the build context.
ARG BASE
FROM ${BASE}

# Security updates (rustc-web lives there) and backports (Go 1.23).
RUN printf '%s\n' \
      'deb http://deb.debian.org/debian bookworm main' \
      'deb http://deb.debian.org/debian bookworm-updates main' \
      'deb http://deb.debian.org/debian-security bookworm-security main' \
      'deb http://deb.debian.org/debian bookworm-backports main' \
      > /etc/apt/sources.list \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 nodejs ruby \
      gcc g++ libc6-dev \
      openjdk-17-jdk-headless \
      rustc-web \
      golang-1.23-go \
 && ln -s /usr/lib/go-1.23/bin/go /usr/local/bin/go \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

COPY esbuild /usr/local/bin/esbuild

# The runner: an unprivileged user whose only writable place is the work dir (a tmpfs).
RUN useradd --uid 10001 --home-dir /work --no-create-home --shell /usr/sbin/nologin runner \
 && mkdir -p /work /opt/gocache

# Go compiles the standard library on first use (~10 s); compile it once here. At run time
# the cache is read-only, and GOCACHE points at a copy-on-write view in the work dir.
ENV GOCACHE=/opt/gocache GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
RUN go build std && chmod -R a+rX /opt/gocache

WORKDIR /work
USER runner
