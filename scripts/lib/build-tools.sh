# Sourced by scripts/run-example and scripts/test: the tools building `backfill` needs beyond a Rust toolchain
# and a C compiler — ISA-L (the gzip of request bodies, crate isal-sys) is built from its vendored source with
# nasm and autotools. Installed with apt-get when missing and run as root; otherwise the build would stop in
# isal-sys' build script with "autogen failed", so this says what to install instead.
ensure_build_tools() {
  local missing=()
  for tool in nasm autoconf automake libtool make; do
    dpkg -s "$tool" >/dev/null 2>&1 || command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the build tools ISA-L needs: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  else
    echo "building backfill needs ${missing[*]} (for ISA-L, the gzip of request bodies); install them" \
      "(e.g. sudo apt-get install ${missing[*]}, or brew install nasm autoconf automake libtool) and run again" >&2
    return 1
  fi
}
