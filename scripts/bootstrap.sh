#!/usr/bin/env bash
# Installs what building, running and testing Pixel Prompt needs, when it is missing.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -euo pipefail

build_pkgs=(gcc make pkg-config libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev
  libsqlite3-dev libspng-dev libjpeg62-turbo-dev libwebp-dev libzip-dev libssl-dev)
# clang and its compiler-rt (libFuzzer, sanitizers) build the fuzz targets (tests/fuzz).
test_pkgs=(libcmocka-dev python3 curl shellcheck yamllint chromium nodejs npm clang libclang-rt-dev)
want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ] || [ -n "${PP_BOOTSTRAP_TEST:-}" ]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # nodejs/npm may come from outside Debian; accept any working binary.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
      python3) command -v python3 >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing packages; run as root:" >&2
    echo "  sudo apt-get update && sudo $cmd" >&2
    exit 1
  fi
fi

# Test tooling beyond Debian: npm packages pinned by lockfiles, and Python tools for the AWS parts.
if [ "${1:-}" = "--test" ] || [ -n "${PP_BOOTSTRAP_TEST:-}" ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  for dir in tests/tools tests/e2e; do
    if [ -f "$root/$dir/package-lock.json" ] && [ ! -d "$root/$dir/node_modules" ]; then
      echo "bootstrap: npm ci in $dir" >&2
      (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  done
  py_missing=()
  python3 -c 'import moto' 2>/dev/null || py_missing+=('moto[server]')
  command -v cfn-lint >/dev/null || py_missing+=(cfn-lint)
  command -v aws >/dev/null || py_missing+=(awscli)
  if [ ${#py_missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${py_missing[*]} with pip" >&2
    python3 -m pip install --quiet "${py_missing[@]}" || {
      echo "bootstrap: pip could not install ${py_missing[*]}; the AWS tests need them" >&2
      exit 1
    }
  fi
fi
