#!/bin/bash
# DKMS packaging of the module (dkms.conf).
#
#   scripts/dkms.sh install     stage the sources in /usr/src/virtio_net_rust-VERSION,
#                               dkms add + build + install for the running kernel
#                               (or KERNELRELEASE=, with KDIR= for its build tree)
#   scripts/dkms.sh uninstall   dkms remove --all, and the staged sources
#   scripts/dkms.sh test KDIR   the same add/build/install into scratch DKMS, source
#                               and module trees against KDIR, then modinfo and
#                               modprobe --dry-run must find the module there
#
# Only what the build needs is staged: Kbuild, src/ (without build products),
# scripts/lto-link.sh and dkms.conf. The version in dkms.conf must be the driver's (`ethtool -i`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' dkms.conf)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
driver_version=$(sed -n 's/^pub const DRIVER_VERSION: &\[u8\] = b"\(.*\)";/\1/p' src/driver/mod.rs)
if [ "$version" != "$driver_version" ]; then
	echo "dkms: dkms.conf says $version, the driver $driver_version" >&2
	exit 1
fi

# stage DIR: a clean copy of the sources in DIR/NAME-VERSION.
stage() {
	local dst="$1/$name-$version"
	rm -rf "$dst"
	mkdir -p "$dst"
	{ echo Kbuild; echo dkms.conf; echo scripts/lto-link.sh; find src -type f \( -name '*.rs' -o -name '*.[ch]' -o -name '*.allow' \) \
		! -name bindings_generated.rs; } | xargs cp --parents -t "$dst"
	[ -f "$dst/src/lib.rs" ] || { echo "dkms: staging failed" >&2; exit 1; }
}

case "${1:-}" in
install)
	command -v dkms >/dev/null || { echo "dkms: not installed (apt-get install dkms)" >&2; exit 1; }
	kver=${KERNELRELEASE:-$(uname -r)}
	args=(-k "$kver")
	[ -z "${KDIR:-}" ] || args+=(--kernelsourcedir "$KDIR")
	dkms remove "$name/$version" --all >/dev/null 2>&1 || true
	stage /usr/src
	dkms add "$name/$version"
	dkms build "$name/$version" "${args[@]}"
	dkms install "$name/$version" "${args[@]}"
	;;
uninstall)
	dkms remove "$name/$version" --all || true
	rm -rf "/usr/src/$name-$version"
	;;
test)
	kdir=${2:?usage: scripts/dkms.sh test KDIR}
	kver=$(cat "$kdir/include/config/kernel.release")
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
	trees=(--sourcetree "$scratch/src" --dkmstree "$scratch/dkms" --installtree "$scratch/root/lib/modules")
	mkdir -p "$scratch/src" "$scratch/dkms" "$scratch/root/lib/modules/$kver"
	# What the kernel's modules_install puts beside the modules, so depmod has it.
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ ! -f "$kdir/$f" ] || cp "$kdir/$f" "$scratch/root/lib/modules/$kver/"
	done
	stage "$scratch/src"
	dkms add "$name/$version" "${trees[@]}" >"$scratch/log" 2>&1 &&
		dkms build "$name/$version" -k "$kver" --kernelsourcedir "$kdir" "${trees[@]}" >>"$scratch/log" 2>&1 &&
		dkms install "$name/$version" -k "$kver" --kernelsourcedir "$kdir" --no-depmod "${trees[@]}" \
			>>"$scratch/log" 2>&1 ||
		{ tail -30 "$scratch/log" >&2; find "$scratch/dkms" -name make.log -exec tail -20 {} \; >&2; exit 1; }
	depmod -b "$scratch/root" "$kver"
	ko=$(find "$scratch/root" -name "$name.ko*")
	echo "dkms: installed $ko"
	modinfo -b "$scratch/root" -k "$kver" -F version "$name" | grep -qx "$version" ||
		{ echo "dkms: modinfo does not find $name $version" >&2; exit 1; }
	modprobe -d "$scratch/root" -S "$kver" --dry-run --show-depends "$name" | tee "$scratch/dep" |
		grep -q "/updates/dkms/$name.ko" ||
		{ cat "$scratch/dep" >&2; echo "dkms: modprobe --dry-run does not find $name" >&2; exit 1; }
	echo "dkms: modinfo and modprobe --dry-run find $name $version for $kver"
	;;
*)
	sed -n '2,14p' "$0" >&2
	exit 2
	;;
esac
