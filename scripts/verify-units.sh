#!/usr/bin/env bash
# Verify every unit in systemd/ offline and print the services' exposure scores.
#
# `systemd-analyze verify` exits 0 even for "Unknown key" or "Failed to parse ... ignoring", so ANY
# output is a failure. ExecStart= must point at an existing binary: a scratch --root carries a stub
# afc and the system's own units (sysinit.target, timers.target, ...). Needs Debian's `systemd`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
units=${1:-$here/systemd}
command -v systemd-analyze >/dev/null || { echo "verify-units: systemd-analyze not found (apt-get install systemd)" >&2; exit 2; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
install -m755 /bin/true "$root/usr/local/bin/afc"
cp "$units"/*.service "$units"/*.timer "$root/etc/systemd/system/"

names=()
for unit in "$units"/*.service "$units"/*.timer; do names+=("$(basename "$unit")"); done
out=$(systemd-analyze verify --man=no --root="$root" "${names[@]}" 2>&1) || true
if [ -n "$out" ]; then
    echo "$out"
    echo "verify-units: systemd-analyze verify reported the above for ${#names[@]} units" >&2
    exit 1
fi
echo "verify-units: ${#names[@]} units verify clean"

for unit in "$units"/*.service; do
    score=$(systemd-analyze security --offline=true --no-pager --root="$root" "$(basename "$unit")" 2>&1 \
            | sed -n 's/.*Overall exposure level for \([^:]*\): \([0-9.]*\) \(.*\)$/\2 \3/p')
    echo "exposure $(basename "$unit"): ${score:-unknown}"
done
