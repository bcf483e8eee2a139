#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages v6rep needs to build and run its tests (called by `make deps`).
# Debian is kept from starting the daemons it installs (unbound, nsd, knot): the tests start their
# own instances on high ports with their own configs.
set -euo pipefail

PKGS=(build-essential pkg-config libldns-dev libuv1-dev liblmdb-dev check libpcap-dev zlib1g-dev lmdb-utils
      bind9-dnsutils knot-dnsutils ldnsutils unbound nsd knot python3 iproute2 procps clang
      bind9utils knot-dnssecutils p0f bind9 tcpdump)

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: run as root (or install sudo)" >&2; exit 1; }
	SUDO=sudo
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

# policy-rc.d exiting 101 tells invoke-rc.d not to start services on installation.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
