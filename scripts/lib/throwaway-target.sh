# A throwaway in-memory target for the example scripts (source this file; bash).
#
# start_throwaway_target: installs osmem-server (PyPI, pinned) into $root/.venv when missing, starts it on a free
# loopback port, waits until it answers, and sets osmem_pid and BACKFILL_TARGET_ENDPOINT (exported). The caller
# stops it (kill "$osmem_pid") in its EXIT trap. Needs $root (the repository) and a `say` function.
start_throwaway_target() {
  local venv="$root/.venv"
  if ! "$venv/bin/python" -c "import osmem_server" 2>/dev/null; then
    say "installing a throwaway target (osmem-server==0.1.6) into $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check osmem-server==0.1.6
  fi
  local server port
  server=$("$venv/bin/python" -c "import osmem_server; print(osmem_server.resolve_binary())")
  port=$("$venv/bin/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  "$server" --addr "127.0.0.1:$port" --no-ja --no-stdin-watch >/dev/null 2>&1 &
  osmem_pid=$!
  export BACKFILL_TARGET_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 50); do curl -fs "$BACKFILL_TARGET_ENDPOINT/" >/dev/null 2>&1 && break; sleep 0.1; done
  say "throwaway target at $BACKFILL_TARGET_ENDPOINT"
}
