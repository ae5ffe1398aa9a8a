# Finds a PostgreSQL server for tests and benchmarks, in this order: PAIRLINE_TEST_POSTGRES
# or DATABASE_URL if set; a server already listening on 127.0.0.1:5432; else a throwaway
# cluster (initdb in a temporary directory, installing Debian's package if needed) that is
# stopped and deleted when the calling script exits. Exports PAIRLINE_TEST_POSTGRES: a URL
# on which the caller may create and drop databases. Source after scripts/lib.sh.

# postgres_bin_dir: the newest installed PostgreSQL's bin directory, if any.
postgres_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

# ensure_test_postgres [durable]: sets PAIRLINE_TEST_POSTGRES. A throwaway cluster runs
# with fsync off unless "durable" is given (benchmarks want real commits).
ensure_test_postgres() {
  if [ -n "${PAIRLINE_TEST_POSTGRES:-}" ]; then
    echo "PostgreSQL: PAIRLINE_TEST_POSTGRES (${PAIRLINE_TEST_POSTGRES%%@*}@...)"
  elif [ -n "${DATABASE_URL:-}" ]; then
    export PAIRLINE_TEST_POSTGRES="$DATABASE_URL"
    echo "PostgreSQL: DATABASE_URL"
  elif (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export PAIRLINE_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/postgres"
    echo "PostgreSQL: the server listening on 127.0.0.1:5432"
  else
    start_throwaway_postgres "${1:-}"
  fi
}

start_throwaway_postgres() {
  local durable="$1" bin dir port run=()
  bin=$(postgres_bin_dir) || {
    apt_install postgresql
    bin=$(postgres_bin_dir) || die "PostgreSQL's package installed no initdb under /usr/lib/postgresql"
  }
  dir=$(mktemp -d -t pairline-postgres.XXXXXX)
  port=$(free_port)
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    id postgres >/dev/null 2>&1 || as_root useradd --system --no-create-home postgres
    chown postgres "$dir"
    run=(runuser -u postgres --)
  fi
  step "Starting a throwaway PostgreSQL cluster on 127.0.0.1:$port ($dir)"
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" ||
    { cat "$dir/initdb.log"; die "initdb failed"; }
  local options="-p $port -k $dir -c listen_addresses=127.0.0.1"
  [ "$durable" = durable ] || options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$options" -w start >/dev/null ||
    { cat "$dir/server.log"; die "the throwaway PostgreSQL did not start"; }
  on_exit "${run[*]} $bin/pg_ctl -D $dir/data -m immediate stop >/dev/null; rm -rf $dir"
  export PAIRLINE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
}
