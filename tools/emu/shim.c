/* LD_PRELOAD helper for tools/emu/qg_emu.py: the bochscpu-python wheel is linked against
 * glibc 2.38, which renamed strtoull and sscanf to their C23 variants; on an older glibc
 * these two wrappers supply the new names. Built by tests/cpu_avx512.cmake. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

unsigned long long __isoc23_strtoull(const char *s, char **end, int base);
int __isoc23_sscanf(const char *s, const char *fmt, ...);

unsigned long long __isoc23_strtoull(const char *s, char **end, int base) { return strtoull(s, end, base); }

int __isoc23_sscanf(const char *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int r = vsscanf(s, fmt, ap);
    va_end(ap);
    return r;
}
