#!/bin/bash
# `make rust-analyzer`: writes rust-project.json for editors, with the kernel's
# scripts/generate_rust_analyzer.py (the sysroot and the kernel's crates) called as
# its rust/Makefile does. The kernel's own target for external modules
# (`make -C KDIR M=... rust-analyzer`) fails on 6.12 with an O= build tree ("No rule
# to make target 'rust/Makefile'"), and the script finds a module's crate only
# where a Kbuild next to the root file names it; ours, src/lib.rs, is named by the
# top-level Kbuild, so it is added here with the kernel crate's cfgs. The 6.12 script
# also lists the sysroot crates (core, alloc, std, proc_macro) as ordinary crates,
# and the rust-analyzer of the pinned toolchain then finds no inherent method of a
# primitive type (`len` on a slice: 605 errors over the kernel's crates and ours);
# they are dropped for `sysroot_src`, from which rust-analyzer loads them as the
# language crates they are (0 errors, `rust-analyzer diagnostics .`).
#
#   scripts/rust-analyzer.sh KDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kdir=${1:?usage: scripts/rust-analyzer.sh KDIR}
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root"
# bindgen output, so that `crate::bindings` resolves in the editor too.
make -s -C "$kdir" M="$root" LLVM=1 src/bindings_generated.rs >/dev/null 2>&1 ||
	make -s -C "$kdir" M="$root" LLVM=1 modules >/dev/null
src=$(readlink -f "$kdir/source")
sysroot=$(rustc --print sysroot)
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
# As rust/Makefile: core's cfgs and edition (2024 from rustc 1.87 on).
edition=2021
[ "$(rustc --version | awk '{split($2, v, "."); print (v[1] > 1 || v[2] >= 87)}')" = 1 ] && edition=2024
python3 "$src/scripts/generate_rust_analyzer.py" --cfgs='core=--cfg no_fp_fmt_parse' "$edition" \
	"$src" "$(readlink -f "$kdir")" "$sysroot" "$sysroot/lib/rustlib/src/rust/library" "$empty" \
	> "$root/rust-project.json"
python3 - "$root" <<'PY'
import json, sys, pathlib
root = pathlib.Path(sys.argv[1])
path = root / "rust-project.json"
project = json.loads(path.read_text())
lib = str(root / "src" / "lib.rs")
lang = {"core", "alloc", "std", "proc_macro"}
old = project["crates"]
keep = [i for i, c in enumerate(old) if c["display_name"] not in lang and c["root_module"] != lib]
renum = {o: n for n, o in enumerate(keep)}
crates = []
for o in keep:
    c = dict(old[o])
    c["deps"] = [{"crate": renum[d["crate"]], "name": d["name"]} for d in c["deps"] if d["crate"] in renum]
    crates.append(c)
project["crates"] = crates
project["sysroot_src"] = project["sysroot"] + "/lib/rustlib/src/rust/library"
index = {c["display_name"]: i for i, c in enumerate(crates)}
kernel = crates[index["kernel"]]
crates.append({
    "display_name": "virtio_net_rust",
    "root_module": lib,
    "is_workspace_member": True,
    "is_proc_macro": False,
    "deps": [{"crate": index[d], "name": d} for d in ("kernel", "macros") if d in index],
    # As Kbuild's default build: AF_XDP zero-copy in.
    "cfg": kernel["cfg"] + ["vnr_xsk_zc"],
    "edition": "2021",
    "env": {"RUST_MODFILE": "This is only for rust-analyzer"},
})
path.write_text(json.dumps(project, sort_keys=True, indent=4) + "\n")
print(f"rust-analyzer: {path} ({len(crates)} crates, virtio_net_rust among them)")
PY
