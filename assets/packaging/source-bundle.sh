#!/usr/bin/env bash
# Makes the offline source bundle: the committed sources of HEAD, every dependency vendored
# (cargo vendor), and a cargo configuration that builds from them with no registry:
#
#   assets/packaging/source-bundle.sh [--out DIR]
#
# writes DIR/observatory-VERSION-src.tar.gz (default DIR: target/dist) and its SHA-256 sum.
# Run it where the crates can be fetched (or are in cargo's cache). On the air-gapped side:
#
#   tar xzf observatory-VERSION-src.tar.gz && cd observatory-VERSION
#   assets/packaging/build-deb.sh                 # cargo build --release --locked, offline, then the package
#
# The bundle carries .observatory-commit and .observatory-source-date (the commit and its
# date), since it has no .git: the build's --version, SBOM and package say which commit they
# come from, and build-deb.sh takes SOURCE_DATE_EPOCH from it. The tarball itself is
# reproducible (sorted, dated SOURCE_DATE_EPOCH, owned by root, gzip -n).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
out="$root/target/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
  esac
done
export LC_ALL=C TZ=UTC
umask 022
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
name="observatory-$version"
commit="$(git rev-parse --short=12 HEAD)"
date="$(git log -1 --format=%ct)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/$name"
git archive --format=tar HEAD | tar -x -C "$work/$name"
echo "$commit" > "$work/$name/.observatory-commit"
echo "$date" > "$work/$name/.observatory-source-date"
(
  cd "$work/$name"
  mkdir -p .cargo
  # `cargo vendor` prints the source replacement to use: added to the project's own
  # configuration (which sets how SQLite is built: it must stay), and offline by default.
  printf '\n# Added by assets/packaging/source-bundle.sh: build from vendor/, never the registry.\n' >> .cargo/config.toml
  cargo vendor --locked --versioned-dirs vendor >> .cargo/config.toml
  printf '\n[net]\noffline = true\n' >> .cargo/config.toml
  grep -q 'SQLITE_TEMP_STORE=3' .cargo/config.toml || { echo "source-bundle: lost the SQLite flags" >&2; exit 1; }
)
mkdir -p "$out"
# Modes normalised too: git archive and the registry cache follow whoever's umask.
tar --sort=name --mtime="@$date" --owner=0 --group=0 --numeric-owner --mode='u=rwX,go=rX' \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$work" -cf - "$name" | gzip -9n > "$out/$name-src.tar.gz"
(cd "$out" && sha256sum "$name-src.tar.gz" > "$name-src.tar.gz.sha256")
echo "built $out/$name-src.tar.gz (commit $commit, $(du -h "$out/$name-src.tar.gz" | cut -f1))"
