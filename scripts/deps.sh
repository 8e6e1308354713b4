#!/bin/bash
# Installs what the build and the VM harness need, if it is missing. Idempotent.
set -euo pipefail

BINDGEN_VERSION=0.73.2
pkgs=(linux-source-6.12 clang lld llvm libclang-dev bc bison flex libelf-dev libssl-dev
      cpio xz-utils gzip qemu-system-x86 iperf3 ethtool busybox-static iproute2 socat
      kmod python3 python3-yaml iputils-ping jq make sockperf patch libc6-dev dwarves)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]} (apt; a few minutes on a fresh machine)"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install packages" >&2
		exit 1
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# DKMS (make dkms-install, and make test's check of it) without its recommended
# kernel headers: the module builds against a Rust-enabled tree, not Debian's.
if ! dpkg-query -W -f='${Status}' dkms 2>/dev/null | grep -q "install ok installed"; then
	echo "deps: installing dkms"
	[ "$(id -u)" = 0 ] || { echo "deps: need root to install packages" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dkms ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dkms; }
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v rustup >/dev/null; then
	echo "deps: rustup is required (the machine's Rust toolchain)" >&2
	exit 1
fi
# rust-toolchain.toml pins the version and the components; this installs them.
(cd "$(dirname "$0")/.." && rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install)
(cd "$(dirname "$0")/.." && rustup component add rust-src rustfmt clippy rust-analyzer llvm-tools >/dev/null)
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION (cargo install, ~2 min)"
	cargo install --locked "bindgen-cli@$BINDGEN_VERSION"
fi
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
	echo "deps: installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install, ~1 min)"
	cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi
