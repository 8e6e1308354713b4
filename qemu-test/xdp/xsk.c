// SPDX-License-Identifier: GPL-2.0
/*
 * An AF_XDP socket on one queue of an interface, with raw system calls only (no
 * libbpf, no libxdp: the guest has neither): an XSKMAP, an XDP program that
 * redirects every frame of the queue to it, the socket's rings.
 *
 *   xsk IFNAME QUEUE rx COUNT SECS
 *	prints "ready" once bound, then receives until COUNT frames arrived, SECS
 *	passed or SIGINT came; prints "rx N"
 *   xsk IFNAME QUEUE tx COUNT SRC_MAC DST_MAC SRC_IP DST_IP PORT [SECS]
 *	sends COUNT UDP datagrams "vnr-xsk N" (beyond 512, the same frames again
 *	as they complete, as fast as they do) and waits for their completions, at
 *	most SECS (default 10); prints "tx N completed"
 *
 * Copy mode, or zero-copy with VNR_XSK_MODE=zc in the environment (then with
 * need_wakeup: the socket kicks the driver when its fill ring had run dry).
 *
 * The program is attached in driver mode through a BPF link, so it goes when
 * the process exits. Exit status 0 when all COUNT frames went through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define FRAMES 1024
#define FRAME_SIZE 2048
#define RING 512

static void die(const char *what)
{
	fprintf(stderr, "xsk: %s: %s\n", what, strerror(errno));
	exit(2);
}

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	stop = 1;
}

static int bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

struct ring {
	uint32_t *producer, *consumer, *flags;
	void *desc;
	uint32_t mask;
};

static void ring_map(int fd, struct ring *r, const struct xdp_ring_offset *off, uint64_t pgoff,
		     size_t entry)
{
	size_t len = off->desc + RING * entry;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);

	if (p == MAP_FAILED)
		die("mmap ring");
	r->producer = (uint32_t *)(p + off->producer);
	r->consumer = (uint32_t *)(p + off->consumer);
	r->flags = (uint32_t *)(p + off->flags);
	r->desc = p + off->desc;
	r->mask = RING - 1;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint16_t *w = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	if (len)
		sum += *(const uint8_t *)w;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* An Ethernet + IPv4 + UDP frame carrying "vnr-xsk N"; returns its length. */
static size_t build_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst, in_addr_t sip,
			  in_addr_t dip, uint16_t port, int n)
{
	char payload[32];
	size_t plen = snprintf(payload, sizeof(payload), "vnr-xsk %d\n", n);
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t tot = 20 + 8 + plen;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
	*(uint16_t *)(ip + 2) = htons(tot);
	memcpy(ip + 12, &sip, 4);
	memcpy(ip + 16, &dip, 4);
	*(uint16_t *)(ip + 10) = csum(ip, 20);
	*(uint16_t *)udp = htons(40000);
	*(uint16_t *)(udp + 2) = htons(port);
	*(uint16_t *)(udp + 4) = htons(8 + plen);
	*(uint16_t *)(udp + 6) = 0; /* no UDP checksum (IPv4) */
	memcpy(udp + 8, payload, plen);
	return 14 + tot;
}

int main(int argc, char **argv)
{
	struct xdp_umem_reg reg = { 0 };
	struct xdp_mmap_offsets off;
	struct sockaddr_xdp sxdp = { 0 };
	struct ring rx, tx, fill, comp;
	union bpf_attr attr;
	socklen_t optlen = sizeof(off);
	int fd, map, prog, link, ifindex, queue, count, done = 0, i, tx_mode, size = RING, zc;
	int sent, secs, kicked;
	uint32_t lens[RING];
	char *umem;
	time_t end;

	if (argc < 5)
		return fprintf(stderr, "usage: see qemu-test/xdp/xsk.c\n"), 2;
	ifindex = if_nametoindex(argv[1]);
	queue = atoi(argv[2]);
	tx_mode = !strcmp(argv[3], "tx");
	count = atoi(argv[4]);
	if (!ifindex)
		die("interface");
	if (tx_mode && argc < 10)
		return fprintf(stderr, "xsk: tx needs SRC_MAC DST_MAC SRC_IP DST_IP PORT\n"), 2;

	/* The map and the program: r2 = ctx->rx_queue_index; redirect_map(map, r2, XDP_PASS). */
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_XSKMAP;
	attr.key_size = 4, attr.value_size = 4, attr.max_entries = 64;
	map = bpf(BPF_MAP_CREATE, &attr);
	if (map < 0)
		die("BPF_MAP_CREATE xskmap");
	struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 1,
		  .off = offsetof(struct xdp_md, rx_queue_index) },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = map },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[65536];
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_XDP;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (uintptr_t)"GPL";
	attr.log_buf = (uintptr_t)log, attr.log_size = sizeof(log), attr.log_level = 1;
	prog = bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0) {
		fprintf(stderr, "%s", log);
		die("BPF_PROG_LOAD");
	}

	/* The socket, its memory and rings. */
	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_XDP)");
	umem = mmap(NULL, FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (umem == MAP_FAILED)
		die("mmap umem");
	reg.addr = (uintptr_t)umem, reg.len = FRAMES * FRAME_SIZE, reg.chunk_size = FRAME_SIZE;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
		die("XDP_UMEM_REG");
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_XDP, XDP_TX_RING, &size, sizeof(size)))
		die("ring sizes");
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen))
		die("XDP_MMAP_OFFSETS");
	ring_map(fd, &rx, &off.rx, XDP_PGOFF_RX_RING, sizeof(struct xdp_desc));
	ring_map(fd, &tx, &off.tx, XDP_PGOFF_TX_RING, sizeof(struct xdp_desc));
	ring_map(fd, &fill, &off.fr, XDP_UMEM_PGOFF_FILL_RING, sizeof(uint64_t));
	ring_map(fd, &comp, &off.cr, XDP_UMEM_PGOFF_COMPLETION_RING, sizeof(uint64_t));
	/* Frames 0..RING-1 receive, the others transmit. */
	for (i = 0; i < RING; i++)
		((uint64_t *)fill.desc)[i] = (uint64_t)i * FRAME_SIZE;
	__atomic_store_n(fill.producer, RING, __ATOMIC_RELEASE);

	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = ifindex;
	sxdp.sxdp_queue_id = queue;
	zc = getenv("VNR_XSK_MODE") && !strcmp(getenv("VNR_XSK_MODE"), "zc");
	sxdp.sxdp_flags = zc ? XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP : XDP_COPY;
	if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
		die("bind");
	memset(&attr, 0, sizeof(attr));
	uint32_t key = queue, val = fd;
	attr.map_fd = map, attr.key = (uintptr_t)&key, attr.value = (uintptr_t)&val;
	if (bpf(BPF_MAP_UPDATE_ELEM, &attr))
		die("xskmap update");
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog;
	attr.link_create.target_ifindex = ifindex;
	attr.link_create.attach_type = BPF_XDP;
	attr.link_create.flags = XDP_FLAGS_DRV_MODE;
	link = bpf(BPF_LINK_CREATE, &attr);
	if (link < 0)
		die("attach (BPF_LINK_CREATE, driver mode)");

	if (!tx_mode) {
		/* For whoever waits to send: the socket takes frames from now on. */
		printf("ready\n");
		fflush(stdout);
		end = time(NULL) + atoi(argv[5]);
		signal(SIGINT, on_sigint);
		while (done < count && time(NULL) < end && !stop) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			uint32_t prod, cons;

			/*
			 * A flood (COUNT beyond the ring) is read by spinning, as a
			 * polling application does, kicking the driver only when no
			 * frame waits and the fill ring says so (need_wakeup); fewer
			 * frames by poll().
			 */
			if (count <= RING)
				poll(&p, 1, 200);
			prod = __atomic_load_n(rx.producer, __ATOMIC_ACQUIRE);
			cons = *rx.consumer;
			if (count > RING && cons == prod &&
			    __atomic_load_n(fill.flags, __ATOMIC_ACQUIRE) & XDP_RING_NEED_WAKEUP)
				recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			for (; cons != prod; cons++) {
				struct xdp_desc *d = (struct xdp_desc *)rx.desc + (cons & rx.mask);
				uint32_t fp = *fill.producer;

				done++;
				/* The frame goes back to the fill ring (it has room: one out, one in). */
				((uint64_t *)fill.desc)[fp & fill.mask] = d->addr & ~(uint64_t)(FRAME_SIZE - 1);
				__atomic_store_n(fill.producer, fp + 1, __ATOMIC_RELEASE);
			}
			__atomic_store_n(rx.consumer, cons, __ATOMIC_RELEASE);
		}
		printf("rx %d\n", done);
		return done >= count ? 0 : 1;
	}

	uint8_t src[6], dst[6];
	if (parse_mac(argv[5], src) || parse_mac(argv[6], dst))
		return fprintf(stderr, "xsk: bad MAC\n"), 2;
	for (i = 0; i < count && i < RING; i++) {
		uint64_t addr = (uint64_t)(RING + i) * FRAME_SIZE;
		struct xdp_desc *d = (struct xdp_desc *)tx.desc + (i & tx.mask);

		d->addr = addr;
		d->len = lens[i] = build_frame((uint8_t *)umem + addr, src, dst, inet_addr(argv[7]),
					       inet_addr(argv[8]), atoi(argv[9]), i);
		d->options = 0;
	}
	sent = i;
	__atomic_store_n(tx.producer, sent, __ATOMIC_RELEASE);
	secs = argc > 10 ? atoi(argv[10]) : 10;
	end = time(NULL) + secs;
	kicked = 0;
	while (done < count && time(NULL) < end) {
		uint32_t prod, cons, tp = *tx.producer;

		/*
		 * A few frames: a kick every 10 ms until all completed. A flood: a
		 * kick for each batch of frames posted, then spinning on the
		 * completions, as a polling application does.
		 */
		if ((count <= RING || kicked != sent) &&
		    sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS)
			die("sendto");
		kicked = sent;
		if (count <= RING)
			usleep(10000);
		prod = __atomic_load_n(comp.producer, __ATOMIC_ACQUIRE);
		cons = *comp.consumer;
		for (; cons != prod; cons++) {
			uint64_t addr = ((uint64_t *)comp.desc)[cons & comp.mask];
			struct xdp_desc *d = (struct xdp_desc *)tx.desc + (tp & tx.mask);

			done++;
			if (sent >= count)
				continue;
			/* The completed frame goes out again (the ring has room: one in, one out). */
			d->addr = addr;
			d->len = lens[(addr / FRAME_SIZE - RING) % RING];
			d->options = 0;
			tp++, sent++;
		}
		__atomic_store_n(comp.consumer, prod, __ATOMIC_RELEASE);
		__atomic_store_n(tx.producer, tp, __ATOMIC_RELEASE);
	}
	printf("tx %d completed\n", done);
	close(link);
	return done >= count ? 0 : 1;
}
