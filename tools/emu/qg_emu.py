#!/usr/bin/env python3
"""Run a freestanding x86-64 guest program under the Bochs CPU emulator (the PyPI package
bochscpu-python), on an emulated Sapphire Rapids (AVX-512 F/BW/VL/DQ/VNNI/BF16), so that
AVX-512 kernels can be tested on machines without AVX-512.

The guest is a static ELF linked without libc (tests/avx512_guest.c shows one). The runner
maps its PT_LOAD segments and a stack at their addresses (identity paging, ring 0, long
mode, AVX-512 state enabled in XCR0), copies the input file into guest memory at
DATA_BASE, and calls the ELF entry point as `uint64_t entry(void *data, uint64_t size)`
(System V ABI) with a return address that points at a HLT. When the guest returns, the
data area is written back to the output file (also after a failure) and the return
value printed. An exception
(illegal instruction, page fault, ...), a run past the branch budget, or a missing page
ends the run with a message naming the exception, RIP and CR2, and exit status 3.

Usage: qg_emu.py GUEST.elf IN.bin OUT.bin [--budget TAKEN_BRANCHES]   (default 20M)
       qg_emu.py --probe      (exit 0 when bochscpu imports, 77 otherwise)
The package's .so may want glibc 2.38 symbols (__isoc23_strtoull, __isoc23_sscanf); on
older glibc, preload tools/emu/shim.c built as a shared object (QG_EMU_SHIM names it; the
ctest wiring builds it and sets LD_PRELOAD).
"""
import ctypes
import os
import struct
import sys

PAGE = 4096
DATA_BASE = 0x10000000   # the input file lands here (rdi of the entry call)
STACK_TOP = 0x0F000000   # 1 MiB stack below it
STACK_SIZE = 1 << 20
STOP_ADDR = 0x1000       # the entry returns here: one HLT
PML4 = 0x00100000        # page tables are placed from here by PageMapLevel4Table.commit
ELF_MIN = 0x00400000     # (up to 768 table pages fit below the guest: DATA_MAX is well within)
DATA_MAX = 0x20000000    # 512 MiB
SAPPHIRE_RAPIDS = 30     # index of the model in this bochscpu build's CPU database
EXC_NAMES = {0: "divide error", 6: "invalid opcode (an instruction this CPU model lacks?)",
             13: "general protection", 14: "page fault", 17: "alignment check",
             19: "SIMD floating-point exception", 8: "double fault"}


def fail(msg, code=3):
    sys.stderr.write("qg_emu: " + msg + "\n")
    sys.stderr.flush()
    os._exit(code)


def load_elf(path):
    d = open(path, "rb").read()
    if d[:4] != b"\x7fELF" or d[4] != 2 or struct.unpack_from("<H", d, 18)[0] != 62:
        fail(f"{path}: not an x86-64 ELF64 file")
    entry, phoff = struct.unpack_from("<QQ", d, 24)
    phentsize, phnum = struct.unpack_from("<HH", d, 54)
    segs = []
    for i in range(phnum):
        ptype, _fl, off, vaddr, _pa, filesz, memsz, _al = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
        if ptype == 1 and memsz:
            if vaddr < ELF_MIN or vaddr + memsz > STACK_TOP - STACK_SIZE:
                fail(f"{path}: segment at {vaddr:#x} outside {ELF_MIN:#x}..{STACK_TOP - STACK_SIZE:#x}")
            segs.append((vaddr, d[off:off + filesz] + bytes(memsz - filesz)))
    if not segs:
        fail(f"{path}: no loadable segment")
    return entry, segs


def main(argv):
    if len(argv) >= 2 and argv[1] == "--probe":
        try:
            import bochscpu  # noqa: F401
        except Exception as e:  # ImportError, or an undefined glibc symbol (OSError)
            print(f"qg_emu: cannot import bochscpu: {e}")
            os._exit(77)
        os._exit(0)
    if len(argv) < 4:
        fail(__doc__.strip().split("\n\n")[1], 2)
    budget = 20_000_000
    if len(argv) >= 6 and argv[4] == "--budget":
        budget = int(argv[5])
    try:
        import bochscpu
        import bochscpu.cpu
        import bochscpu.memory
    except Exception as e:
        print(f"SKIPPED: needs the Python package bochscpu-python (pip install bochscpu-python): {e}")
        os._exit(77)

    # Choose the CPU model: the "cpu.model" enum parameter of this build lists models up
    # to tigerlake, but its value indexes the whole CPU database, where Sapphire Rapids
    # follows; the guest checks CPUID itself, so a wrong index fails loudly, not silently.
    lib = ctypes.CDLL(bochscpu._bochscpu.__file__)
    get_enum = lib.sim_get_param_enum
    get_enum.restype = ctypes.c_void_p
    get_enum.argtypes = [ctypes.c_char_p]
    p = get_enum(b"cpu.model")
    if not p:
        fail("bochscpu has no cpu.model parameter")
    q = (ctypes.c_int64 * 18).from_address(p)  # bx_param_num_c: min 0x70, max 0x78, value 0x88
    if not (q[14] == 0 and 0 < q[15] < 64 and q[17] == q[15]):
        fail(f"unexpected cpu.model parameter layout {list(q[14:18])}")
    q[15] = SAPPHIRE_RAPIDS
    q[17] = SAPPHIRE_RAPIDS

    entry, segs = load_elf(argv[1])
    data = open(argv[2], "rb").read()
    if len(data) > DATA_MAX:
        fail(f"input larger than {DATA_MAX} bytes")

    pt = bochscpu.memory.PageMapLevel4Table()
    mapped = {}

    def map_range(va, size):
        for pg in range(va & ~(PAGE - 1), va + size, PAGE):
            if pg not in mapped:
                hva = bochscpu.memory.allocate_host_page()
                if not hva:
                    fail("out of host pages")
                bochscpu.memory.page_insert(pg, hva)
                pt.insert(pg, pg, 1)
                mapped[pg] = hva

    def write(va, blob):  # guest pages are separate host pages: copy page by page
        off = 0
        while off < len(blob):
            n = min(PAGE - ((va + off) & (PAGE - 1)), len(blob) - off)
            ctypes.memmove(mapped[(va + off) & ~(PAGE - 1)] + ((va + off) & (PAGE - 1)), blob[off:off + n], n)
            off += n

    def read(va, size):
        out = bytearray()
        while len(out) < size:
            a = va + len(out)
            n = min(PAGE - (a & (PAGE - 1)), size - len(out))
            out += ctypes.string_at(mapped[a & ~(PAGE - 1)] + (a & (PAGE - 1)), n)
        return bytes(out)

    for va, blob in segs:
        map_range(va, len(blob))
    map_range(STOP_ADDR, 1)
    map_range(STACK_TOP - STACK_SIZE, STACK_SIZE)
    map_range(DATA_BASE, max(len(data), 1))
    for hva, gpa in pt.commit(PML4):
        bochscpu.memory.page_insert(gpa, hva)
    for va, blob in segs:
        write(va, blob)
    write(STOP_ADDR, b"\xf4")
    write(STACK_TOP - 8, struct.pack("<Q", STOP_ADDR))
    write(DATA_BASE, data)

    sess = bochscpu.Session()

    def missing_page(gpa):
        fail(f"guest touched unmapped physical page {gpa:#x}")
    sess.missing_page_handler = missing_page

    st = bochscpu.State()
    bochscpu.cpu.set_long_mode(st)
    cr4 = bochscpu.cpu.ControlRegister(st.cr4)
    cr4.OSFXSR = True
    cr4.OSXMMEXCPT = True
    cr4.OSXSAVE = True
    st.cr4 = int(cr4)
    st.xcr0 = 0xE7  # x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
    st.mxcsr = 0x1F80
    st.cr3 = PML4
    st.rsp = STACK_TOP - 8
    st.rip = entry
    st.rdi = DATA_BASE
    st.rsi = len(data)
    cs = bochscpu.Segment()
    cs.present, cs.selector, cs.base, cs.limit, cs.attr = True, 0x10, 0, 0xFFFFFFFF, 0xA09B  # ring 0, 64-bit
    ds = bochscpu.Segment()
    ds.present, ds.selector, ds.base, ds.limit, ds.attr = True, 0x18, 0, 0xFFFFFFFF, 0xC093
    st.cs, st.ds, st.ss, st.es, st.fs, st.gs = cs, ds, ds, ds, ds, ds
    sess.cpu.state = st

    result = {"branches": 0}

    def on_exception(s, cpu_id, vector, error_code):
        result["exc"] = (vector, error_code)
        s.stop()

    def on_hlt(s, cpu_id):
        result["hlt"] = True
        s.stop()

    def on_branch(s, cpu_id, *args):
        result["branches"] += 1
        if result["branches"] > budget:
            result["budget"] = True
            s.stop()

    hook = bochscpu.Hook()
    hook.exception = on_exception
    hook.hlt = on_hlt
    hook.cnear_branch_taken = on_branch  # every loop takes a conditional or
    hook.ucnear_branch = on_branch       # an unconditional near branch
    sess.run([hook])
    end = sess.cpu.state
    where = f"rip {end.rip:#x}, rsp {end.rsp:#x}, cr2 {end.cr2:#x}"
    # The data area goes back to OUT even when the guest failed, so that the caller can
    # see how far it got (tests/avx512_job.h keeps the index of the running job).
    with open(argv[3], "wb") as f:
        f.write(read(DATA_BASE, len(data)))
    if "exc" in result:
        v, e = result["exc"]
        fail(f"guest exception {v} ({EXC_NAMES.get(v, '?')}), error code {e:#x}, {where} "
             "(rip: at or just after the faulting instruction)")
    if "budget" in result:
        fail(f"guest ran past the budget of {budget} taken branches (runaway loop?), {where}")
    if "hlt" not in result or end.rip != STOP_ADDR + 1:
        fail(f"guest stopped without returning, {where}")
    print(f"qg_emu: guest returned {end.rax:#x} after {result['branches']} taken branches")
    sys.stdout.flush()
    # Exit without the interpreter's teardown: the bindings leak objects and can crash there.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
