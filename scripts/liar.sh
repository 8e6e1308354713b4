#!/bin/bash
# Builds the lying vhost-user device (qemu-test/liar) and prints its path;
# `scripts/liar.sh --test` runs its unit tests instead.
#
# Two rust-vmm crates are used with one small patch each (qemu-test/liar/patches):
# QEMU 7.2 sends SET_VRING_ENABLE before SET_FEATURES, and vhost 0.18.0 and
# vhost-user-backend 0.24.0 answer that by dropping the connection. Each crate is
# fetched from crates.io (a throwaway manifest pins it), copied, patched, and
# substituted with [patch.crates-io].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
liar="$root/qemu-test/liar"
tgt="$liar/target"
config=()
for p in "$liar"/patches/*.patch; do
	crate=$(basename "$p" .patch)   # NAME-VERSION
	name=${crate%-*}
	ver=${crate##*-}
	dir="$tgt/patched/$crate"
	if [ ! -f "$dir/.patched" ] || [ "$p" -nt "$dir/.patched" ]; then
		mkdir -p "$tgt/fetch/src"
		printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\n%s = "=%s"\n' \
			"$name" "$ver" > "$tgt/fetch/Cargo.toml"
		touch "$tgt/fetch/src/lib.rs"
		cargo fetch -q --manifest-path "$tgt/fetch/Cargo.toml" >&2
		src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$crate" | head -1)
		rm -rf "$dir"
		mkdir -p "$tgt/patched"
		cp -r "$src" "$dir"
		patch -s -d "$dir" -p1 < "$p" >&2
		touch "$dir/.patched"
	fi
	config+=(--config "patch.crates-io.$name.path=\"$dir\"")
done
if [ "${1:-}" = --test ]; then
	exec cargo test --release --manifest-path "$liar/Cargo.toml" "${config[@]}"
fi
cargo build -q --release --manifest-path "$liar/Cargo.toml" "${config[@]}" >&2
echo "$tgt/release/vnr-liar"
