# Shared by scripts/serve, scripts/test and scripts/bench: install what is missing,
# keep slow-to-rebuild things in caches outside the clone, and say what is happening.
# Source it from the repository root.

set -euo pipefail

# cargo's target directory lives outside the clone, so a fresh clone (CI) reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pairline/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"

# step "what": prints a visible heading for the next stage.
step() {
  printf '\n\033[1m==> %s\033[0m\n' "$*"
}

die() {
  printf '\033[31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# as_root CMD...: runs CMD as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "'$*' needs root and sudo is not installed"
  fi
}

_apt_updated=""

# apt_install PACKAGE...: installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and this is not a Debian-like system: install them by hand"
  step "Installing ${missing[*]}"
  if [ -z "$_apt_updated" ]; then
    as_root apt-get update -qq
    _apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ensure_toolchain: Rust (cargo), a C compiler for bundled SQLite, Node.js and npm.
ensure_toolchain() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 ||
    die "Rust is not installed: install it with rustup (https://rustup.rs), Rust 1.94 or newer"
  command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
  command -v pkg-config >/dev/null 2>&1 || apt_install pkg-config
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
}

# ensure_assets: the browser client's build tools (esbuild, TypeScript) in assets/node_modules.
# npm's own cache (~/.npm) keeps a fresh clone's install quick.
ensure_assets() {
  local stamp=assets/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ assets/package-lock.json -nt "$stamp" ]; then
    step "Installing the browser client's build tools (npm ci)"
    npm ci --prefix assets --prefer-offline --no-audit --no-fund --loglevel=error
  fi
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  for port in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port between 55432 and 55532"
}

# on_exit CMD: runs CMD when the script exits, after those registered before it.
_on_exit=()
on_exit() {
  _on_exit+=("$1")
  trap '_run_on_exit' EXIT
}
_run_on_exit() {
  local i
  for ((i = ${#_on_exit[@]} - 1; i >= 0; i--)); do
    eval "${_on_exit[$i]}" || true
  done
}
