# SPDX-License-Identifier: GPL-2.0
#
# virtio_net_rust: out-of-tree Rust virtio-net driver.
#
#   make            build virtio_net_rust.ko (against KDIR, default: the project's guest kernel)
#   make run        boot a guest with two NICs, show our driver moving packets
#   make check      quick check while developing: static checks, host tests, in-VM suite (ours)
#   make test       everything from scratch: deps, kernel, module, host tests, VM selftests
#   make install    modules_install into /lib/modules/<release>/updates + depmod (KDIR=
#                   your kernel's build tree; INSTALL_MOD_PATH= a staging root)
#   make uninstall  remove it again
#   make dkms-install / dkms-uninstall   the same through DKMS (dkms.conf)
#   make clippy     clippy with the kernel's lint set (CLIPPY=1), the doc examples compiled
#   make rust-analyzer   rust-project.json for editors
#   make shell      interactive guest shell with the module loaded
#   make bench      ours against the in-tree virtio_net, side by side (BENCHMARKS.md)
#   make fuzz       fuzz the parsers of device-written data (FUZZ_SECS per target)
#   make faults     the fault suite on the debug kernel (KASAN, kmemleak, fault injection)
#   make liar       the hostile-device suite: a lying vhost-user device, debug kernel
#
# KDIR=/path/to/built/kernel  builds against another Rust-enabled 6.12 tree (LLVM=1).

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The project's kernel; scripts/kernel.sh builds it on first use and caches it.
KDIR ?=
kdir = $(if $(KDIR),$(KDIR),$(shell scripts/kdir.sh))

.PHONY: all module deps kernel host-test vm-test check test run shell bench fuzz faults liar fmt fmt-check \
	clippy rust-analyzer install uninstall dkms-install dkms-uninstall clean

all: module

deps:
	@scripts/deps.sh

kernel: deps
	@scripts/kernel.sh

module:
	@k="$(kdir)"; test -n "$$k" || { echo "no kernel tree (KDIR)"; exit 1; }; \
	$(MAKE) -C "$$k" M=$(CURDIR) LLVM=1 modules

# The kernel release KDIR builds for.
krelease = $(shell cat "$(kdir)/include/config/kernel.release")

install: module
	@k="$(kdir)"; $(MAKE) -C "$$k" M=$(CURDIR) LLVM=1 INSTALL_MOD_DIR=updates modules_install

uninstall:
	rm -f $(INSTALL_MOD_PATH)/lib/modules/$(krelease)/updates/virtio_net_rust.ko*
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(krelease)

dkms-install:
	@scripts/dkms.sh install

dkms-uninstall:
	@scripts/dkms.sh uninstall

clippy:
	@k="$(kdir)"; python3 scripts/doc-examples.py > src/doc_examples.rs && touch src/lib.rs && \
		$(MAKE) -C "$$k" M=$(CURDIR) LLVM=1 CLIPPY=1 VNR_DOC_EXAMPLES=y modules

rust-analyzer:
	@scripts/rust-analyzer.sh "$(kdir)"

check:
	@scripts/test.sh --quick

host-test:
	cd host-tests && cargo test --quiet 2>&1 | tee $(CURDIR)/.host-test.log

vm-test: module
	qemu-test/run-tests.sh

run: deps module
	qemu-test/run.sh

shell: module
	qemu-test/shell.sh

test:
	@scripts/test.sh

bench:
	@qemu-test/bench.sh

FUZZ_SECS ?= 60
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECS)

faults:
	@qemu-test/faults.sh

liar:
	@qemu-test/liar.sh

fmt:
	rustfmt src/lib.rs host-tests/src/lib.rs host-tests/tests/*.rs host-tests/fuzz/fuzz_targets/*.rs qemu-test/liar/src/main.rs

fmt-check:
	rustfmt --check src/lib.rs host-tests/src/lib.rs host-tests/tests/*.rs host-tests/fuzz/fuzz_targets/*.rs qemu-test/liar/src/main.rs

clean:
	@k="$(KDIR)"; test -z "$$k" || $(MAKE) -C "$$k" M=$(CURDIR) LLVM=1 clean
	rm -rf src/*.o src/.*.cmd src/bindings_generated.rs *.ko *.mod* Module.symvers modules.order .*.cmd \
		host-tests/target qemu-test/out
