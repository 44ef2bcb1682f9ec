#!/usr/bin/env bash
# Signs and verifies the published checksums (SHA256SUMS, written by build-deb.sh) with an
# Ed25519 key, using OpenSSH's file signatures (ssh-keygen -Y; openssh-client, offline):
#
#   assets/packaging/checksums.sh key RELEASE_KEY             # once: makes RELEASE_KEY, RELEASE_KEY.pub
#   assets/packaging/checksums.sh sign RELEASE_KEY [DIR]      # writes DIR/SHA256SUMS.sig
#   assets/packaging/checksums.sh verify RELEASE_KEY.pub [DIR] [--into OUT]
#
# `verify` first copies SHA256SUMS, its signature and the files it lists into a private folder
# (OUT, default a new temporary folder), so that a stick or a shared folder cannot serve
# other bytes to the check and to the installation. On the copy it checks that the key is an
# Ed25519 key (and prints its fingerprint, to compare with the one published by another
# channel), the signature, that every line names a plain file of DIR (no path, no option),
# then every sum (sha256sum --strict -c). It prints the versions the signature covers and
# which files of DIR it does not cover, and exits non-zero if anything fails. Install from
# the verified copy it names, never from DIR.
#
# The IT security office can do the same by hand:
#   echo "observatory-release namespaces=\"observatory-release\" $(cat RELEASE_KEY.pub)" > allowed_signers
#   ssh-keygen -Y verify -f allowed_signers -I observatory-release -n observatory-release \
#     -s SHA256SUMS.sig < SHA256SUMS && sha256sum --strict -c SHA256SUMS
set -euo pipefail
unset CDPATH
namespace=observatory-release
cmd="${1:-}"; key="${2:-}"; dir="${3:-target/dist}"
die() { echo "checksums: $*" >&2; exit 1; }
case "$cmd" in
  key)
    [ -n "$key" ] || { echo "usage: $0 key FILE" >&2; exit 2; }
    ssh-keygen -q -t ed25519 -N '' -C "$namespace" -f "$key"
    echo "made $key (keep it offline) and $key.pub (publish it); fingerprint:"
    ssh-keygen -l -f "$key.pub"
    ;;
  sign)
    [ -f "$key" ] && [ -f "$dir/SHA256SUMS" ] || { echo "usage: $0 sign KEY [DIR with SHA256SUMS]" >&2; exit 2; }
    rm -f -- "$dir/SHA256SUMS.sig"
    ssh-keygen -q -Y sign -f "$key" -n "$namespace" "$dir/SHA256SUMS"
    echo "signed $dir/SHA256SUMS -> $dir/SHA256SUMS.sig"
    ;;
  verify)
    into=""
    [ "${4:-}" = "--into" ] && into="${5:-}"
    [ -f "$key" ] && [ -f "$dir/SHA256SUMS" ] && [ -f "$dir/SHA256SUMS.sig" ] || {
      echo "usage: $0 verify KEY.pub [DIR with SHA256SUMS and SHA256SUMS.sig] [--into OUT]" >&2; exit 2; }
    [ "$(cut -d' ' -f1 "$key")" = ssh-ed25519 ] || die "$key is not an Ed25519 public key"
    echo "key: $(ssh-keygen -l -f "$key")"
    umask 077
    if [ -z "$into" ]; then into="$(mktemp -d /tmp/observatory-verified.XXXXXX)"; else mkdir -p -- "$into"; fi
    [ -z "$(ls -A -- "$into")" ] || die "$into is not empty"
    # Read once: everything is checked on this copy.
    cp -- "$dir/SHA256SUMS" "$dir/SHA256SUMS.sig" "$into/"
    signers="$into/.allowed_signers"
    echo "$namespace namespaces=\"$namespace\" $(cut -d' ' -f1,2 "$key")" > "$signers"
    if ! ssh-keygen -Y verify -f "$signers" -I "$namespace" -n "$namespace" \
        -s "$into/SHA256SUMS.sig" < "$into/SHA256SUMS"; then
      die "the signature of SHA256SUMS does not verify with $key: do not install"
    fi
    rm -f -- "$signers"
    names=()
    while IFS= read -r line; do
      [[ "$line" =~ ^[0-9a-f]{64}\ \ ([A-Za-z0-9._+~][A-Za-z0-9._+~-]*)$ ]] \
        || die "SHA256SUMS has a line that is not a sum and a plain file name: $line"
      name="${BASH_REMATCH[1]}"
      [ "$name" != . ] && [ "$name" != .. ] || die "SHA256SUMS names $name"
      [ -f "$dir/$name" ] && [ ! -L "$dir/$name" ] || die "$name (listed) is missing or not a plain file: do not install"
      cp -- "$dir/$name" "$into/$name"
      names+=("$name")
    done < "$into/SHA256SUMS"
    [ "${#names[@]}" -gt 0 ] || die "SHA256SUMS lists nothing"
    (cd -- "$into" && sha256sum --strict -c SHA256SUMS) || die "a file does not match SHA256SUMS: do not install"
    echo "signed and intact: ${names[*]}"
    for f in "$dir"/*; do
      b="$(basename -- "$f")"
      case " ${names[*]} SHA256SUMS SHA256SUMS.sig " in *" $b "*) ;; *) echo "not covered by the signature (do not install): $b" ;; esac
    done
    echo "verified copy (install from here): $into"
    ;;
  *) echo "usage: $0 key|sign|verify ..." >&2; exit 2 ;;
esac
