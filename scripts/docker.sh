# The Docker engine and the sandbox images, for scripts/test, scripts/build-images and
# scripts/bench. Source it after scripts/lib.sh.

# The image the Docker executor runs code in; its tag is the hash of what builds it, so
# that a changed Dockerfile builds a new image and an unchanged one is reused.
RUNNER_REPOSITORY=pairline-runner
BASE_IMAGE=pairline-base:bookworm

# ensure_docker: installs docker.io when missing and starts dockerd when nothing answers
# (there is no systemd here), then waits until it does.
ensure_docker() {
  # The client alone may be installed (some machines have it without the engine).
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  step "Starting the Docker engine (dockerd)"
  local log="${XDG_CACHE_HOME:-$HOME/.cache}/pairline/dockerd.log"
  mkdir -p "$(dirname "$log")"
  as_root sh -c "nohup dockerd >'$log' 2>&1 &"
  local i
  for i in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "dockerd did not start within 60 s; its log: $log"
}

# runner_image: prints the runner image's name and tag for the current images/ directory.
runner_image() {
  local hash
  hash=$(cat images/runner.Dockerfile assets/node_modules/@esbuild/linux-x64/package.json | sha256sum | cut -c1-12)
  echo "$RUNNER_REPOSITORY:$hash"
}

# build_base_image: a minimal Debian root file system made by debootstrap, imported as
# $BASE_IMAGE (about a minute). Skipped when the image exists.
build_base_image() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  step "Building the base image $BASE_IMAGE (debootstrap, about a minute)"
  local root
  root=$(mktemp -d)
  as_root debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian |
    grep --line-buffered -E '^I: (Retrieving|Validating|Extracting|Installing|Configuring|Base system)' |
    awk '{ n++; if (n % 20 == 1 || /Base system/) print "  " $0; fflush() }'
  as_root tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  as_root rm -rf "$root"
}

# build_images: the base image, then the runner image with every toolchain (about three
# minutes the first time, ~2 GB), each only when missing. Prints the runner image.
build_images() {
  ensure_assets
  build_base_image
  local image
  image=$(runner_image)
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "The sandbox image $image is up to date."
    docker tag "$image" "$RUNNER_REPOSITORY:latest"
    return 0
  fi
  step "Building the sandbox image $image (every language's toolchain, a few minutes)"
  local context
  context=$(mktemp -d)
  cp images/runner.Dockerfile "$context/Dockerfile"
  cp assets/node_modules/@esbuild/linux-x64/bin/esbuild "$context/esbuild"
  DOCKER_BUILDKIT=0 docker build --network host --build-arg "BASE=$BASE_IMAGE" -t "$image" "$context" |
    grep --line-buffered -E '^(Step [0-9]+/[0-9]+|Setting up (python3|nodejs|ruby|gcc|g\+\+|openjdk|rustc|golang)[^ ]* |Successfully)' |
    sed -u 's/^/  /'
  rm -rf "$context"
  docker image inspect "$image" >/dev/null 2>&1 || die "building $image failed"
  docker tag "$image" "$RUNNER_REPOSITORY:latest"
}
