// SPDX-License-Identifier: GPL-2.0
/*
 * Executes the marker instruction `xchg %bx,%bx` once: with the instruction
 * counting plugin (qemu-test/insns/insns.c) loaded, QEMU logs the guest's
 * instruction totals at that point; without it, it does nothing.
 */
int main(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
	return 0;
}
