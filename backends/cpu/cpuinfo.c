/* What the CPU backend reports about the machine: the processor's model name
 * (/proc/cpuinfo), its instruction-set features (CPUID on x86), the
 * number of online cores and the host memory (sysconf, /proc/meminfo MemAvailable).
 */
#define _GNU_SOURCE
#include "cpuinfo.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

void cpu_model_name(char *out, size_t size) {
    snprintf(out, size, "CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* x86 says "model name", some ARM kernels "Processor" or "cpu model". */
        if (strncmp(line, "model name", 10) != 0 && strncmp(line, "Processor", 9) != 0 &&
            strncmp(line, "cpu model", 9) != 0)
            continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strcspn(v, "\n");
        while (n > 0 && v[n - 1] == ' ') n--;
        if (n == 0) continue;
        snprintf(out, size, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

static void append(char *out, size_t size, const char *word) {
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len ? " " : "", word);
}

#if defined(__x86_64__) || defined(__i386__)
/* XCR0: which register states the OS saves (bits 1-2: SSE/AVX, 5-7: AVX-512). */
static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* Read with CPUID (not __builtin_cpu_supports, whose feature names differ between
 * compilers), and AVX/AVX-512 only where the OS saves their registers. */
void cpu_features(char *out, size_t size) {
    out[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const unsigned c1 = c;
    const bool os_avx = (c1 >> 27 & 1) && (xcr0() & 0x6) == 0x6;
    const bool os_avx512 = os_avx && (xcr0() & 0xE0) == 0xE0;
    unsigned b7 = 0, c7 = 0, a71 = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        b7 = b;
        c7 = c;
        __cpuid_count(7, 1, a, b, c, d);
        a71 = a;
    }
    static const struct { const char *name; int reg; int bit; int need; } feats[] = {
        /* reg: 0 = leaf1.ecx, 1 = leaf7.ebx, 2 = leaf7.ecx, 3 = leaf7.1.eax;
         * need: 0 nothing, 1 OS AVX state, 2 OS AVX-512 state */
        {"sse3", 0, 0, 0},       {"ssse3", 0, 9, 0},       {"sse4.1", 0, 19, 0},
        {"sse4.2", 0, 20, 0},    {"avx", 0, 28, 1},        {"avx2", 1, 5, 1},
        {"fma", 0, 12, 1},       {"f16c", 0, 29, 1},       {"avx512f", 1, 16, 2},
        {"avx512bw", 1, 30, 2},  {"avx512vl", 1, 31, 2},   {"avx512dq", 1, 17, 2},
        {"avx512vnni", 2, 11, 2}, {"avx512bf16", 3, 5, 2}, {"avxvnni", 3, 4, 1},
    };
    const unsigned regs[4] = {c1, b7, c7, a71};
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++) {
        if (!(regs[feats[i].reg] >> feats[i].bit & 1)) continue;
        if ((feats[i].need == 1 && !os_avx) || (feats[i].need == 2 && !os_avx512)) continue;
        append(out, size, feats[i].name);
    }
#elif defined(__aarch64__)
    append(out, size, "neon");
#endif
}

int cpu_online_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return 1;
    if (n > 512) return 512;
    return (int)n;
}

/* MemAvailable from /proc/meminfo in bytes, or 0. */
static uint64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024u;
}

void cpu_memory(uint64_t *total, uint64_t *free_bytes) {
    long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *total = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    *free_bytes = mem_available();
    if (*free_bytes == 0 && avail > 0 && page > 0) *free_bytes = (uint64_t)avail * (uint64_t)page;
}
