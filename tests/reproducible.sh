#!/usr/bin/env bash
# Reproducibility check (heavy: two full release builds, about 20 minutes on 2 cores; not run
# by CI, results in the closing notes):
#
#   tests/reproducible.sh [COMMIT]      (default: HEAD)
#
# Clones the commit into two clean folders with different paths, builds the package in each
# with assets/packaging/build-deb.sh (each with its own target folder; the same
# SOURCE_DATE_EPOCH, the commit's), and compares the unstripped binaries, the packaged
# (stripped) binaries, the packages and the SBOMs byte for byte. Prints both SHA-256 sums of
# each and exits non-zero if any differ.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$root" rev-parse "${1:-HEAD}")"
work="$(mktemp -d /tmp/observatory-repro.XXXXXX)"
trap 'rm -rf "$work"' EXIT
for side in a b-with-a-longer-path; do
  git clone -q --no-local "$root" "$work/$side"
  git -C "$work/$side" checkout -q "$commit"
done
for side in a b-with-a-longer-path; do
  echo "== building in $work/$side ($(date -u +%T))"
  start=$(date +%s)
  (cd "$work/$side" && CARGO_TARGET_DIR="$work/$side/target" assets/packaging/build-deb.sh --out "$work/$side/dist") \
    > "$work/$side.log" 2>&1 || { tail -30 "$work/$side.log"; exit 1; }
  echo "   $(( $(date +%s) - start )) s"
done
status=0
compare() {
  local what="$1" a="$2" b="$3"
  local sa sb
  sa="$(sha256sum "$a" | cut -d' ' -f1)"
  sb="$(sha256sum "$b" | cut -d' ' -f1)"
  local verdict=identical
  [ "$sa" = "$sb" ] || { verdict=DIFFERENT; status=1; }
  printf '%-30s %-9s a: %s\n%-30s %-9s b: %s\n' "$what" "$verdict" "$sa" "" "" "$sb"
}
deb_a="$(ls "$work"/a/dist/*.deb)"
deb_b="$(ls "$work"/b-with-a-longer-path/dist/*.deb)"
echo
echo "commit $commit, SOURCE_DATE_EPOCH $(git -C "$root" log -1 --format=%ct "$commit")"
compare "binary (unstripped)" "$work/a/target/release/observatory" "$work/b-with-a-longer-path/target/release/observatory"
dpkg-deb -x "$deb_a" "$work/deb-a" && dpkg-deb -x "$deb_b" "$work/deb-b"
compare "binary (packaged, stripped)" "$work/deb-a/usr/bin/observatory" "$work/deb-b/usr/bin/observatory"
compare "package $(basename "$deb_a")" "$deb_a" "$deb_b"
compare "SBOM" "$(ls "$work"/a/dist/*.cdx.json)" "$(ls "$work"/b-with-a-longer-path/dist/*.cdx.json)"
compare "SHA256SUMS" "$work/a/dist/SHA256SUMS" "$work/b-with-a-longer-path/dist/SHA256SUMS"
if [ "$status" = 0 ]; then echo "REPRODUCIBLE"; else
  echo "NOT REPRODUCIBLE (diffoscope on the two packages shows where)"; fi
exit "$status"
