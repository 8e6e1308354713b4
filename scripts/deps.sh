#!/bin/bash
# Installs what the build and the VM harness need, if it is missing. Idempotent.
set -euo pipefail

BINDGEN_VERSION=0.73.2
pkgs=(linux-source-6.12 clang lld llvm libclang-dev bc bison flex libelf-dev libssl-dev
      cpio xz-utils gzip qemu-system-x86 iperf3 ethtool busybox-static iproute2 socat
      kmod python3 python3-yaml iputils-ping jq make sockperf patch libc6-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install packages" >&2
		exit 1
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v rustup >/dev/null; then
	echo "deps: rustup is required (the machine's Rust toolchain)" >&2
	exit 1
fi
# rust-toolchain.toml pins the version and the components; this installs them.
(cd "$(dirname "$0")/.." && rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install)
(cd "$(dirname "$0")/.." && rustup component add rust-src rustfmt clippy >/dev/null)
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked "bindgen-cli@$BINDGEN_VERSION"
fi
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
	echo "deps: installing cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi
