#!/usr/bin/env bash
# Signs and verifies the published checksums (SHA256SUMS, written by build-deb.sh) with an
# Ed25519 key, using OpenSSH's file signatures (ssh-keygen -Y; openssh-client, offline):
#
#   assets/packaging/checksums.sh key RELEASE_KEY             # once: makes RELEASE_KEY, RELEASE_KEY.pub
#   assets/packaging/checksums.sh sign RELEASE_KEY [DIR]      # writes DIR/SHA256SUMS.sig
#   assets/packaging/checksums.sh verify RELEASE_KEY.pub [DIR]
#
# `verify` checks the signature with the public key (it must be an ssh-ed25519 key), then
# every file's sum (sha256sum -c). It exits non-zero if either fails. The IT security office
# gets RELEASE_KEY.pub by a separate channel and can do the same by hand:
#   echo "observatory-release namespaces=\"observatory-release\" $(cat RELEASE_KEY.pub)" > allowed_signers
#   ssh-keygen -Y verify -f allowed_signers -I observatory-release -n observatory-release \
#     -s SHA256SUMS.sig < SHA256SUMS && sha256sum -c SHA256SUMS
set -euo pipefail
namespace=observatory-release
cmd="${1:-}"; key="${2:-}"; dir="${3:-target/dist}"
case "$cmd" in
  key)
    [ -n "$key" ] || { echo "usage: $0 key FILE" >&2; exit 2; }
    ssh-keygen -q -t ed25519 -N '' -C "$namespace" -f "$key"
    echo "made $key (keep it offline) and $key.pub (publish it)"
    ;;
  sign)
    [ -f "$key" ] && [ -f "$dir/SHA256SUMS" ] || { echo "usage: $0 sign KEY [DIR with SHA256SUMS]" >&2; exit 2; }
    rm -f "$dir/SHA256SUMS.sig"
    ssh-keygen -q -Y sign -f "$key" -n "$namespace" "$dir/SHA256SUMS"
    echo "signed $dir/SHA256SUMS -> $dir/SHA256SUMS.sig"
    ;;
  verify)
    [ -f "$key" ] && [ -f "$dir/SHA256SUMS" ] && [ -f "$dir/SHA256SUMS.sig" ] || {
      echo "usage: $0 verify KEY.pub [DIR with SHA256SUMS and SHA256SUMS.sig]" >&2; exit 2; }
    case "$(cut -d' ' -f1 "$key")" in
      ssh-ed25519) ;;
      *) echo "checksums: $key is not an Ed25519 public key" >&2; exit 1 ;;
    esac
    signers="$(mktemp)"
    trap 'rm -f "$signers"' EXIT
    echo "$namespace namespaces=\"$namespace\" $(cut -d' ' -f1,2 "$key")" > "$signers"
    if ! ssh-keygen -Y verify -f "$signers" -I "$namespace" -n "$namespace" \
        -s "$dir/SHA256SUMS.sig" < "$dir/SHA256SUMS"; then
      echo "checksums: the signature of SHA256SUMS does not verify with $key: do not install" >&2
      exit 1
    fi
    (cd "$dir" && sha256sum -c SHA256SUMS) || {
      echo "checksums: a file does not match SHA256SUMS: do not install" >&2; exit 1; }
    ;;
  *) echo "usage: $0 key|sign|verify ..." >&2; exit 2 ;;
esac
