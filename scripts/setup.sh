#!/usr/bin/env bash
# Installs what Folio needs to build (and, with `test`, to be tested), skipping whatever is
# already there at the right version. Safe to run again and again.
#
#   scripts/setup.sh run    toolchain: wasm target, cargo-leptos, wasm-bindgen CLI, wasm-opt
#   scripts/setup.sh test   the above, plus Chromium, HAProxy and the end-to-end test packages
#   scripts/setup.sh bench  the toolchain, plus Chromium, wrk, brotli and Lighthouse
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
CARGO_LEPTOS_VERSION="0.3.10"
BINARYEN_VERSION="132.0.0"
# Lighthouse 13 wants Node 22; 12.2.3 runs on the machine's Node 20.
LIGHTHOUSE_VERSION="12.2.3"
TOOLS="$PWD/.tools"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# The toolchain named in rust-toolchain.toml, with the WebAssembly target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos drives both builds. `no_downloads`: it must use the tools installed here, because
# it cannot fetch its own on a machine that reaches only package registries.
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos ${CARGO_LEPTOS_VERSION}" ]; then
  say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 15 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked --features no_downloads
fi

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wbg_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen ${wbg_version}" ]; then
  say "installing wasm-bindgen-cli ${wbg_version}"
  cargo install wasm-bindgen-cli --version "${wbg_version}"
fi

# wasm-opt for release builds, from npm's binaryen: Debian's older binaryen produces a bundle
# that never hydrates. Installed into .tools/ and put first on PATH by the Makefile.
if [ "$("${TOOLS}/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  say "installing binaryen ${BINARYEN_VERSION} (wasm-opt)"
  mkdir -p "${TOOLS}"
  npm install --prefix "${TOOLS}" --no-audit --no-fund --silent "binaryen@${BINARYEN_VERSION}"
fi

# Debian packages, installed only when one is missing.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

if [ "${mode}" = "bench" ]; then
  # wrk generates the load; brotli measures the bundle; Lighthouse audits pages in Chromium.
  apt_install chromium wrk brotli
  if [ "$(node -p "require('${TOOLS}/node_modules/lighthouse/package.json').version" 2>/dev/null || true)" != "${LIGHTHOUSE_VERSION}" ]; then
    say "installing Lighthouse ${LIGHTHOUSE_VERSION}"
    mkdir -p "${TOOLS}"
    npm install --prefix "${TOOLS}" --no-audit --no-fund --silent "lighthouse@${LIGHTHOUSE_VERSION}"
  fi
fi

if [ "${mode}" = "test" ]; then
  # HAProxy and psql: the scale-out test balances two instances on one PostgreSQL database.
  apt_install chromium haproxy postgresql-client
  # aiosmtpd: the real SMTP server the mail tests start.
  if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    say "installing aiosmtpd (SMTP server for the tests)"
    python3 -m pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
  fi
  # `npm ci` reinstalls from scratch; only do it when the lockfile changed since the last one.
  stamp="end2end/node_modules/.folio-lock"
  if ! cmp -s end2end/package-lock.json "${stamp}" 2>/dev/null; then
    say "installing the end-to-end test packages"
    (cd end2end && npm ci --no-audit --no-fund --silent)
    cp end2end/package-lock.json "${stamp}"
  fi
fi
