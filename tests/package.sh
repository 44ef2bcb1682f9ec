#!/usr/bin/env bash
# The package test, as an IT security office would do it (run by .ci/run, as root):
#
#  1. make the offline source bundle (assets/packaging/source-bundle.sh);
#  2. build the release binary from it with the README's command and no registry: an empty
#     CARGO_HOME, CARGO_NET_OFFLINE=true, `cargo build --release --offline --locked`, and no
#     network at all (a new network namespace; under CI=true a missing unshare fails the test);
#  3. build the Debian package from that binary with the bundle's own packaging files;
#  4. sign the checksums with a throwaway Ed25519 key, verify them (into a private copy, which
#     is what gets installed), and check that a changed package, rewritten checksums and
#     another key all fail the verification;
#  5. install the package in a fresh Debian root (debootstrap, minbase) with apt, which must
#     find every dependency the package declares; run `observatory --version` there, and start
#     the app there on an Xvfb display: its window must appear, titled Observatory, with the
#     WM_CLASS of the desktop entry, and draw something (screenshot in target/package/);
#  6. remove the package: nothing of it is left.
#
# Usage: tests/package.sh [WORKDIR [--reuse]]
#   WORKDIR is kept when given, for a look afterwards; --reuse keeps the source bundle and the
#   offline build already in WORKDIR (steps 1-2), to iterate on the later steps.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
keep=0
reuse=0
if [ $# -gt 0 ]; then work="$1"; keep=1; mkdir -p "$work"; else work="$(mktemp -d /tmp/observatory-package.XXXXXX)"; fi
[ "${2:-}" = "--reuse" ] && reuse=1
work="$(cd "$work" && pwd)"
chroot_dir="$work/debian"
xvfb_pid=""
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  for m in tmp/.X11-unix dev proc sys; do
    mountpoint -q "$chroot_dir/$m" 2>/dev/null && umount -R -l "$chroot_dir/$m" || true
  done
  # Never delete through a mount: the chroot binds the host's /dev and /tmp/.X11-unix.
  if grep -q " $chroot_dir/" /proc/self/mounts 2>/dev/null; then
    echo "package test: mounts are left under $chroot_dir; not deleting $work" >&2
    return
  fi
  if [ "$keep" = 1 ]; then
    # A kept work folder is reused; the fresh root is remade by the next run anyway.
    return
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
step() { echo; echo "== $* ($(date -u +%T))"; }
fail() { echo "PACKAGE TEST FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap, chroot)"
for tool in debootstrap dpkg-deb ssh-keygen Xvfb xwininfo xprop import; do
  command -v "$tool" >/dev/null || fail "$tool is missing (.ci/run installs it)"
done

if [ "$reuse" = 0 ]; then
step "1. source bundle"
rm -rf "$work/dist" "$work/src" "$work/cargo-home"
"$root/assets/packaging/source-bundle.sh" --out "$work/dist"
bundle="$(ls "$work"/dist/observatory-*-src.tar.gz)"
mkdir -p "$work/src"
tar xzf "$bundle" -C "$work/src"
fi
srcs=("$work"/src/observatory-*)
[ "${#srcs[@]}" = 1 ] && [ -d "${srcs[0]}" ] || fail "expected one source folder in $work/src, found: ${srcs[*]}"
src="${srcs[0]}"
[ -d "$src/vendor" ] && [ -f "$src/.cargo/config.toml" ] || fail "the bundle has no vendor/ or .cargo/config.toml"

step "2. offline release build from the bundle (empty CARGO_HOME, no network)"
cargo_bin="$(rustup which cargo 2>/dev/null || command -v cargo)"
rustc_bin="$(rustup which rustc 2>/dev/null || command -v rustc)"
mkdir -p "$work/cargo-home"
# Exactly the README's command, with an empty cargo home; the build date comes from the
# bundle's .observatory-source-date.
offline=(env CARGO_HOME="$work/cargo-home" CARGO_NET_OFFLINE=true RUSTC="$rustc_bin")
if unshare -n true 2>/dev/null; then
  echo "(in a network namespace with no interface but lo, down)"
  offline=(unshare -n "${offline[@]}")
elif [ "${CI:-}" = true ]; then
  fail "unshare -n is not allowed here: the build could reach the network"
else
  echo "WARNING: unshare -n is not allowed here: built offline by cargo's settings only, with the network up"
fi
start=$(date +%s)
grep -q " $chroot_dir/" /proc/self/mounts && fail "mounts are left under $chroot_dir from an earlier run"
rm -rf --one-file-system "$chroot_dir" "$work/unpacked" "$work/verified" "$work"/v[123] "$work/tampered" "$work"/release-key* "$work"/other-key* "$work"/dist/observatory_* "$work"/dist/SHA256SUMS*
(cd "$src" && "${offline[@]}" "$cargo_bin" build --release --offline --locked)
echo "offline build: $(( $(date +%s) - start )) s"
[ -z "$(ls -A "$work/cargo-home" | grep -v -e '^\.package-cache' -e '^\.global-cache' || true)" ] \
  || echo "note: CARGO_HOME now holds: $(ls -A "$work/cargo-home" | tr '\n' ' ')"
[ ! -d "$work/cargo-home/registry" ] || fail "the offline build used a registry ($work/cargo-home/registry)"

step "3. the package, from the bundle's packaging files"
(cd "$src" && assets/packaging/build-deb.sh --binary "$src/target/release/observatory" --out "$work/dist")
deb="$(ls "$work"/dist/observatory_*.deb)"
contents="$(dpkg-deb -c "$deb")"
for path in ./usr/bin/observatory ./usr/share/applications/observatory.desktop \
  ./usr/share/icons/hicolor/16x16/apps/observatory.png ./usr/share/icons/hicolor/256x256/apps/observatory.png \
  ./usr/share/icons/hicolor/scalable/apps/observatory.svg \
  ./usr/share/man/man1/observatory.1.gz ./usr/share/man/man1/observatory-bundle.1.gz \
  ./usr/share/bash-completion/completions/observatory ./usr/share/zsh/vendor-completions/_observatory \
  ./usr/share/fish/vendor_completions.d/observatory.fish \
  ./usr/share/doc/observatory/copyright ./usr/share/doc/observatory/SECURITY.md \
  ./usr/share/doc/observatory/sbom.cdx.json ./usr/share/doc/observatory/licences.txt \
  ./usr/share/doc/observatory/DATA-SOURCES.md ./usr/share/doc/observatory/README.md.gz; do
  grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
if grep -v ' root/root ' <<<"$contents" | grep -q .; then fail "a file is not owned by root"; fi
mkdir -p "$work/unpacked" && dpkg-deb -x "$deb" "$work/unpacked"
readelf -S "$work/unpacked/usr/bin/observatory" | grep -q '\.symtab' && fail "the binary is not stripped"
readelf -S "$work/unpacked/usr/bin/observatory" | grep -q '\.debug_line' && fail "the binary keeps debug lines"
grep -q 'Security note' "$work/unpacked/usr/share/doc/observatory/SECURITY.md" || fail "no security note"
echo "package: $(du -h "$deb" | cut -f1), binary $(du -h "$work/unpacked/usr/bin/observatory" | cut -f1) stripped"
dpkg-deb -f "$deb" Package Version Architecture Depends

step "4. checksums signed with Ed25519, verified, and a changed package refused"
"$root/assets/packaging/checksums.sh" key "$work/release-key" >/dev/null
"$root/assets/packaging/checksums.sh" sign "$work/release-key" "$work/dist"
"$root/assets/packaging/checksums.sh" verify "$work/release-key.pub" "$work/dist" --into "$work/verified"
cp -a "$work/dist" "$work/tampered"
printf 'x' >> "$work/tampered/$(basename "$deb")"
if "$root/assets/packaging/checksums.sh" verify "$work/release-key.pub" "$work/tampered" --into "$work/v1" >"$work/tamper1.log" 2>&1; then
  fail "a changed package passed the verification"
fi
grep -q "does not match SHA256SUMS" "$work/tamper1.log" || { cat "$work/tamper1.log"; fail "no clear message for a changed package"; }
# The attacker also rewrites SHA256SUMS to match: the signature no longer verifies.
(cd "$work/tampered" && sha256sum "$(basename "$deb")" "$(basename "$deb" .deb).cdx.json" \
  "$(basename "$deb" .deb).licences.txt" > SHA256SUMS)
if "$root/assets/packaging/checksums.sh" verify "$work/release-key.pub" "$work/tampered" --into "$work/v2" >"$work/tamper2.log" 2>&1; then
  fail "rewritten checksums passed the signature check"
fi
grep -q "signature of SHA256SUMS does not verify" "$work/tamper2.log" || { cat "$work/tamper2.log"; fail "no clear message for rewritten sums"; }
# Another key's signature is refused too.
"$root/assets/packaging/checksums.sh" key "$work/other-key" >/dev/null
if "$root/assets/packaging/checksums.sh" verify "$work/other-key.pub" "$work/dist" --into "$work/v3" >/dev/null 2>&1; then
  fail "the sums verified with another key"
fi
echo "changed package, rewritten sums, another key: refused"

step "5. install in a fresh Debian ($suite, minbase) and run"
debootstrap --variant=minbase "$suite" "$chroot_dir" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
mount -t proc proc "$chroot_dir/proc"
# Slave mounts: unmounting them later never propagates back to the host's /dev.
mount --rbind /dev "$chroot_dir/dev"
mount --make-rslave "$chroot_dir/dev"
mount -t sysfs sys "$chroot_dir/sys"
# The package installed is the verified copy, not the one on the "stick".
cp "$work/verified/$(basename "$deb")" "$chroot_dir/tmp/observatory.deb"
chroot "$chroot_dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
  'apt-get update -qq && apt-get install -y -qq --no-install-recommends /tmp/observatory.deb' \
  >"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log"; fail "apt could not install the package"; }
version="$(chroot "$chroot_dir" observatory --version)"
echo "in the fresh root: $version"
grep -q "^observatory [0-9.]* (commit [0-9a-f]\{12\}, built [0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\})" <<<"$version" \
  || fail "--version lacks the commit or the build date: $version"
chroot "$chroot_dir" observatory sbom | grep -q '"bomFormat":"CycloneDX"' || fail "observatory sbom"
# A whole CLI flow in the fresh root: an identity, a file, a record, a listing.
chroot "$chroot_dir" sh -c 'cd /root && printf "correct horse battery staple\n" > pass &&
  OBSERVATORY_PASSPHRASE_FILE=pass observatory keygen --out me.identity --name "Test" --member-state FR --clearance SECRET >/dev/null &&
  OBSERVATORY_IDENTITY=me.identity OBSERVATORY_PASSPHRASE_FILE=pass observatory init r.observatory >/dev/null &&
  OBSERVATORY_IDENTITY=me.identity OBSERVATORY_PASSPHRASE_FILE=pass observatory list r.observatory technology | grep -q "AI-enabled systems"' \
  || fail "the CLI flow in the fresh root"
echo "CLI flow (identity, init, list): ok"

display=":$(( 90 + RANDOM % 9 ))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
mkdir -p "$chroot_dir/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$chroot_dir/tmp/.X11-unix"
mount --make-slave "$chroot_dir/tmp/.X11-unix"
chroot "$chroot_dir" /usr/bin/env DISPLAY="$display" HOME=/root XDG_RUNTIME_DIR=/tmp \
  LIBGL_ALWAYS_SOFTWARE=1 observatory >"$work/app.log" 2>&1 &
app_pid=$!
window=""
for _ in $(seq 60); do
  window="$(xwininfo -display "$display" -root -tree 2>/dev/null | grep '"Observatory' | awk '{print $1}' | head -1 || true)"
  [ -n "$window" ] && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log"; fail "the app exited"; }
  sleep 0.5
done
[ -n "$window" ] || { cat "$work/app.log"; fail "no Observatory window within 30 s"; }
sleep 3
kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log"; fail "the app died after opening its window"; }
class="$(xprop -display "$display" -id "$window" WM_CLASS 2>/dev/null || true)"
# The top window may be a frame; look for the class on it or its children.
if ! grep -q '"observatory"' <<<"$class"; then
  class="$(xwininfo -display "$display" -root -tree | grep -i 'observatory' | head -3)"
fi
echo "window $window: $class"
grep -qi 'observatory' <<<"$class" || fail "the window's class does not name observatory"
icon="$(xprop -display "$display" -id "$window" -len 8 _NET_WM_ICON 2>/dev/null | head -n 3 || true)"
# xprop prints the size as numbers, or (newer versions) as "Icon (256 x 256):" and a drawing.
grep -Eq '_NET_WM_ICON\(CARDINAL\) = 256, 256|Icon \(256 x 256\)' <<<"$icon" || fail "the window has no 256 px icon: $icon"
echo "window icon: 256x256 (_NET_WM_ICON)"
mkdir -p "$root/target/package"
import -display "$display" -window root "$root/target/package/installed-app.png"
colours="$(convert "$root/target/package/installed-app.png" -format %k info:)"
echo "screenshot: target/package/installed-app.png ($colours colours)"
[ "$colours" -gt 20 ] || fail "the window draws nothing ($colours colours)"
kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""

step "6. remove"
chroot "$chroot_dir" dpkg --purge observatory >/dev/null
[ ! -e "$chroot_dir/usr/bin/observatory" ] && [ ! -e "$chroot_dir/usr/share/applications/observatory.desktop" ] \
  || fail "files left after dpkg --purge"
echo
echo "PACKAGE TEST PASSED: $(basename "$deb") $(sha256sum "$deb" | cut -c1-16)…"
