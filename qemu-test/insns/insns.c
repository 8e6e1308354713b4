// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU TCG plugin for `make bench` with VNR_BENCH_INSNS=1: counts the guest
 * instructions each vCPU executes, by where they run (user space, kernel text,
 * module space), and prints the running totals each time the guest executes the
 * marker instruction `xchg %bx,%bx` (qemu-test/insns/mark.c). A deterministic
 * per-packet cost, independent of how busy the host is, to set beside the
 * timings, which on a loaded two-core TCG host are noisy.
 *
 * Output (QEMU log, -d plugin -D FILE), one line per marker:
 *   insns mark=N user=U kernel=K module=M blocks=B
 * where B counts translated blocks run: each block boundary (a call, a return, a
 * taken branch) costs TCG a dispatch, so two paths of equal length may differ in
 * time by how many pieces they run in; and T (trans=T) counts blocks translated,
 * by any vCPU: a block is translated again after its code cache entry was
 * dropped (e.g. a write to a page holding code), which costs far more than
 * running it.
 * and QEMU's own CPU time so far (host, user + system, in microseconds), split
 * into its vCPU threads ("CPU n/TCG", needs -name debug-threads=on) and the rest
 * (main loop, I/O threads: device emulation and the tap backends):
 *   insns mark=N host_vcpu_us=V host_other_us=O
 * with module-space instructions also per 4 KiB page, to split modules apart:
 *   insns mark=N page=0xADDR count=C
 * and with the plugin argument "tbs=on", kernel and module instructions per
 * translated block, for a profile by symbol (VNR_BENCH_INSNS=tbs):
 *   insns mark=N tb=0xADDR count=C
 *
 * Built against the plugin API of QEMU 7.2 (version 1); the few declarations it
 * needs are below, as that QEMU ships no header.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu, void *udata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *udata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_VCPUS 8
/* x86-64 module space: MODULES_VADDR..MODULES_END (1520 MiB). */
#define MOD_START 0xffffffffa0000000ull
#define MOD_PAGES (1520ull << 8)

enum { USER, KERNEL, MODULE, NBUCKETS };

/* Per-vCPU counters, each written by its own vCPU thread only. */
static uint64_t counts[MAX_VCPUS][NBUCKETS];
static uint64_t blocks[MAX_VCPUS];
static uint32_t *mod_pages[MAX_VCPUS];
static uint64_t marks;
static uint64_t translated;

/* What a translated block adds when it runs: its size, and where it is. */
struct tb_info {
	uint32_t n;
	uint32_t bucket;
	uint64_t page; /* module-space page index, for MODULE */
	uint64_t vaddr;
	uint64_t count[MAX_VCPUS]; /* with tbs=on: instructions run, per vCPU */
};

/* With tbs=on, every kernel and module block translated, for the profile. */
static bool tbs;
#define TB_MAX (1 << 20)
static struct tb_info **tb_list;
static size_t tb_len;

static void tb_exec(unsigned int vcpu, void *udata)
{
	const struct tb_info *t = udata;

	if (vcpu >= MAX_VCPUS)
		return;
	counts[vcpu][t->bucket] += t->n;
	blocks[vcpu]++;
	if (t->bucket == MODULE)
		mod_pages[vcpu][t->page] += t->n;
	if (tbs)
		((struct tb_info *)udata)->count[vcpu] += t->n;
}

/*
 * QEMU's CPU time in microseconds, from /proc/self/task/TID/stat (utime and
 * stime, fields 14 and 15 after the parenthesised name), summed over its vCPU
 * threads into *vcpu and over all other threads into *other.
 */
static void host_cpu(uint64_t *vcpu, uint64_t *other)
{
	long hz = sysconf(_SC_CLK_TCK);
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	*vcpu = *other = 0;
	if (!d || hz <= 0) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		char path[300], buf[512], *name, *end;
		unsigned long long ut, st;
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		name = strchr(buf, '(');
		end = strrchr(buf, ')');
		if (!name || !end ||
		    sscanf(end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &ut, &st) != 2)
			continue;
		if (!strncmp(name + 1, "CPU ", 4))
			*vcpu += (ut + st) * 1000000ull / hz;
		else
			*other += (ut + st) * 1000000ull / hz;
	}
	closedir(d);
}

static void mark(unsigned int vcpu, void *udata)
{
	uint64_t host_vcpu, host_other;
	uint64_t sum[NBUCKETS] = { 0 }, nblocks = 0;
	char line[192];
	uint64_t m = __atomic_add_fetch(&marks, 1, __ATOMIC_SEQ_CST);

	(void)vcpu;
	(void)udata;
	/* Other vCPUs' counters are read while they run: off by a block at most. */
	for (int c = 0; c < MAX_VCPUS; c++) {
		for (int b = 0; b < NBUCKETS; b++)
			sum[b] += counts[c][b];
		nblocks += blocks[c];
	}
	snprintf(line, sizeof(line),
		 "insns mark=%" PRIu64 " user=%" PRIu64 " kernel=%" PRIu64
		 " module=%" PRIu64 " blocks=%" PRIu64 " trans=%" PRIu64 "\n",
		 m, sum[USER], sum[KERNEL], sum[MODULE], nblocks,
		 __atomic_load_n(&translated, __ATOMIC_RELAXED));
	qemu_plugin_outs(line);
	host_cpu(&host_vcpu, &host_other);
	snprintf(line, sizeof(line),
		 "insns mark=%" PRIu64 " host_vcpu_us=%" PRIu64 " host_other_us=%" PRIu64 "\n",
		 m, host_vcpu, host_other);
	qemu_plugin_outs(line);
	for (uint64_t p = 0; p < MOD_PAGES; p++) {
		uint64_t s = 0;

		for (int c = 0; c < MAX_VCPUS; c++)
			s += mod_pages[c][p];
		if (!s)
			continue;
		snprintf(line, sizeof(line),
			 "insns mark=%" PRIu64 " page=0x%" PRIx64 " count=%" PRIu64 "\n",
			 m, (uint64_t)(MOD_START + (p << 12)), s);
		qemu_plugin_outs(line);
	}
	/* Blocks translated meanwhile by another vCPU may be missed: a block at most. */
	for (size_t i = 0; tbs && i < __atomic_load_n(&tb_len, __ATOMIC_RELAXED) && i < TB_MAX; i++) {
		const struct tb_info *t = __atomic_load_n(&tb_list[i], __ATOMIC_ACQUIRE);
		uint64_t s = 0;

		if (!t)
			continue;
		for (int c = 0; c < MAX_VCPUS; c++)
			s += t->count[c];
		if (!s)
			continue;
		snprintf(line, sizeof(line),
			 "insns mark=%" PRIu64 " tb=0x%" PRIx64 " count=%" PRIu64 "\n",
			 m, t->vaddr, s);
		qemu_plugin_outs(line);
	}
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct tb_info *t = calloc(1, sizeof(*t));

	(void)id;
	__atomic_add_fetch(&translated, 1, __ATOMIC_RELAXED);
	if (!t)
		return;
	t->n = n;
	t->vaddr = va;
	if (va < 0x800000000000ull) {
		t->bucket = USER;
	} else if (va >= MOD_START && (va - MOD_START) >> 12 < MOD_PAGES) {
		t->bucket = MODULE;
		t->page = (va - MOD_START) >> 12;
	} else {
		t->bucket = KERNEL;
	}
	if (tbs && t->bucket != USER) {
		/* vCPUs translate in parallel: claim a slot, then publish the block. */
		size_t i = __atomic_fetch_add(&tb_len, 1, __ATOMIC_RELAXED);

		if (i < TB_MAX)
			__atomic_store_n(&tb_list[i], t, __ATOMIC_RELEASE);
	}
	/* The block's info lives as long as QEMU may run the block: never freed. */
	qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, t);

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		static const unsigned char magic[] = { 0x66, 0x87, 0xdb };

		if (qemu_plugin_insn_size(insn) == sizeof(magic) &&
		    !memcmp(qemu_plugin_insn_data(insn), magic, sizeof(magic)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, mark,
							       QEMU_PLUGIN_CB_NO_REGS,
							       NULL);
	}
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
		    char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "tbs=on"))
			tbs = true;
	if (tbs && !(tb_list = calloc(TB_MAX, sizeof(*tb_list))))
		return -1;
	for (int c = 0; c < MAX_VCPUS; c++) {
		mod_pages[c] = calloc(MOD_PAGES, sizeof(uint32_t));
		if (!mod_pages[c])
			return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	return 0;
}
