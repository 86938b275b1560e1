#!/usr/bin/env bash
# Builds the Lambda package (build/lambda/ and build/lambda.zip) on Amazon Linux 2023, the OS of the
# provided.al2023 runtime, so the binary links against the same glibc (2.34), OpenSSL 3 and CA paths
# it finds on Lambda. Then it runs scripts/check-lambda-package.sh on the result.
#
# Run it from the repository root inside an AL2023 container (the deploy workflows do this):
#   docker run --rm -v "$PWD":/src -w /src public.ecr.aws/amazonlinux/amazonlinux:2023 \
#     scripts/build-lambda-al2023.sh
#
# Libraries come from AL2023's own repositories where it has them. Those it may lack (libspng,
# libmicrohttpd, jansson, libzip) are built from pinned upstream release tarballs, each verified
# against its SHA-256 (the same versions Debian 12 ships, so the code is built against the same
# APIs as on a developer machine). They land in /usr/local/lib and are bundled into lib/ by
# `make lambda`, as scripts/al2023-base-libs.txt does not list them. Set PP_SRC_CACHE to a folder
# that already holds the tarballs to build without downloading.
#
# Options: --force   run on another OS too (for trying the recipes; the package check still
#                    applies its glibc 2.34 ceiling). PP_PREFIX (default /usr/local) is where the
#                    source builds are installed; PP_FORCE_SOURCE="spng jansson" forces those.
# Exit: 0 package built and checked, 1 a step failed, 2 usage error.
set -euo pipefail

force=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
prefix=${PP_PREFIX:-/usr/local}
cache=${PP_SRC_CACHE:-$root/build-al2023/src}
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib64/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
jobs=$(nproc 2>/dev/null || echo 2)

log() { printf '\n== %s\n' "$*"; }
die() { printf 'build-lambda-al2023: %s\n' "$*" >&2; exit 1; }

if [ "$force" -eq 0 ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  if [ "${ID:-}" != amzn ] || [ "${VERSION_ID:-}" != 2023 ]; then
    die "this is ${PRETTY_NAME:-an unknown OS}, not Amazon Linux 2023 (run it in the AL2023 container; see the header)"
  fi
fi

# ---- 1. packages from AL2023's repositories ----------------------------------------------------
if command -v dnf >/dev/null; then
  log "dnf: toolchain and the libraries AL2023 has"
  # --allowerasing: curl and libcurl-devel replace the image's curl-minimal and libcurl-minimal.
  dnf install -y -q --allowerasing gcc make pkgconf-pkg-config findutils tar gzip xz binutils \
    python3 cmake curl libcurl-devel openssl-devel sqlite-devel zlib-devel libjpeg-turbo-devel libwebp-devel
  for p in jansson-devel libzip-devel libmicrohttpd-devel libspng-devel; do
    dnf install -y -q "$p" >/dev/null 2>&1 || echo "  $p: not in the repositories, built from source below"
  done
fi

# ---- 2. the rest from pinned sources ------------------------------------------------------------
fetch() { # fetch FILE URL SHA256 -> path of the verified tarball
  local file=$1 url=$2 sha=$3 dest="$cache/$1"
  mkdir -p "$cache"
  if [ ! -f "$dest" ]; then
    curl -fsSL --retry 3 -o "$dest.part" "$url" || die "download of $url failed"
    mv "$dest.part" "$dest"
  fi
  echo "$sha  $dest" | sha256sum -c --quiet - >&2 || die "$file does not match its pinned SHA-256; not building it"
  echo "$dest"
}

unpack() { # unpack TARBALL -> fresh build folder
  local dir
  dir="$root/build-al2023/deps/$(basename "$1")"
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xf "$1" -C "$dir" --strip-components=1
  echo "$dir"
}

build_spng() { # libspng 0.7.3: one C file; its CMake install puts the .pc under another name
  local t d
  t=$(fetch libspng-0.7.3.tar.gz https://github.com/randy408/libspng/archive/v0.7.3.tar.gz \
    a50cadbe808ffda1a7fab17d145f52a23b163f34b3eb3696c7ecb5a52340fc1d)
  d=$(unpack "$t")
  mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
  cc -O2 -fPIC -shared -Wl,-soname,libspng.so.0 -o "$prefix/lib/libspng.so.0.7.3" "$d/spng/spng.c" -lz -lm
  ln -sf libspng.so.0.7.3 "$prefix/lib/libspng.so.0"
  ln -sf libspng.so.0 "$prefix/lib/libspng.so"
  cp "$d/spng/spng.h" "$prefix/include/"
  cat >"$prefix/lib/pkgconfig/spng.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: spng
Description: PNG decoding and encoding library
Version: 0.7.3
Requires.private: zlib
Libs: -L\${libdir} -lspng
Cflags: -I\${includedir}
PC
}

build_microhttpd() { # GNU libmicrohttpd 0.9.75, without its own TLS (Lambda and proxies terminate TLS)
  local t d
  t=$(fetch libmicrohttpd-0.9.75.tar.gz https://ftp.gnu.org/gnu/libmicrohttpd/libmicrohttpd-0.9.75.tar.gz \
    9278907a6f571b391aab9644fd646a5108ed97311ec66f6359cebbedb0a4e3bb)
  d=$(unpack "$t")
  (cd "$d" && ./configure -q --prefix="$prefix" --libdir="$prefix/lib" --disable-https --disable-doc \
    --disable-examples --disable-curl --disable-static && make -s -j"$jobs" && make -s install)
}

build_cmake() { # build_cmake TARBALL_PATH CMAKE_ARGS...
  local d
  d=$(unpack "$1")
  shift
  cmake -S "$d" -B "$d/_build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON "$@" >/dev/null
  cmake --build "$d/_build" -j "$jobs" >/dev/null
  cmake --install "$d/_build" >/dev/null
}

build_jansson() { # jansson 2.14
  build_cmake "$(fetch jansson-2.14.tar.gz https://github.com/akheron/jansson/archive/v2.14.tar.gz \
    c739578bf6b764aa0752db9a2fdadcfe921c78f1228c7ec0bb47fa804c55d17b)" \
    -DJANSSON_BUILD_SHARED_LIBS=ON -DJANSSON_BUILD_DOCS=OFF -DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON
}

build_libzip() { # libzip 1.7.3 (deflate only: the gallery zip needs nothing else)
  build_cmake "$(fetch libzip-1.7.3.tar.xz https://libzip.org/download/libzip-1.7.3.tar.xz \
    a60473ffdb7b4260c08bfa19c2ccea0438edac11193c3afbbb1f17fbcf6c6132)" \
    -DBUILD_SHARED_LIBS=ON -DBUILD_TOOLS=OFF -DBUILD_REGRESS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOC=OFF \
    -DENABLE_COMMONCRYPTO=OFF -DENABLE_GNUTLS=OFF -DENABLE_MBEDTLS=OFF -DENABLE_OPENSSL=OFF \
    -DENABLE_WINDOWS_CRYPTO=OFF -DENABLE_BZIP2=OFF -DENABLE_LZMA=OFF
}

for pair in spng:build_spng libmicrohttpd:build_microhttpd jansson:build_jansson libzip:build_libzip; do
  mod=${pair%%:*}
  fn=${pair#*:}
  # PP_FORCE_SOURCE="spng jansson ..." builds those from source even when a package has them.
  if [[ " ${PP_FORCE_SOURCE:-} " == *" $mod "* ]] || ! pkg-config --exists "$mod"; then
    log "source build: $mod"
    "$fn"
  fi
done
if [ "$force" -eq 0 ] && [ -w /etc/ld.so.conf.d ]; then
  echo "$prefix/lib" >/etc/ld.so.conf.d/pixelprompt-local.conf
  ldconfig
fi

for mod in libmicrohttpd libcurl jansson sqlite3 spng libjpeg libwebp libzip openssl; do
  pkg-config --exists "$mod" || die "pkg-config module $mod is still missing"
  printf '  %-14s %s\n' "$mod" "$(pkg-config --modversion "$mod")"
done

# ---- 3. build, package, check -------------------------------------------------------------------
# A build folder of its own, so objects from another OS (a developer's build/) are never reused.
log "make lambda"
make --no-print-directory BUILD=build-al2023 LAMBDA_DIR=build/lambda LAMBDA_ZIP=build/lambda.zip lambda
log "package check"
scripts/check-lambda-package.sh build/lambda.zip

# Hand the files back to the owner of the checkout (the container runs as root).
owner=$(stat -c %u:%g "$root")
chown -R "$owner" build build-al2023 2>/dev/null || true
