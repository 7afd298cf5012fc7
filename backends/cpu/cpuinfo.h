/* Host facts the CPU backend reports in its device properties. */
#ifndef QG_CPU_CPUINFO_H
#define QG_CPU_CPUINFO_H

#include <stddef.h>
#include <stdint.h>

/* The processor's model name ("AMD EPYC"), or "CPU" when unknown. */
void cpu_model_name(char *out, size_t size);
/* Space-separated instruction-set words ("avx2 fma f16c"); "" when none are known. */
void cpu_features(char *out, size_t size);
/* Online cores, clamped to 1..512. */
int cpu_online_cores(void);
/* Host memory in bytes (0 when unknown). */
void cpu_memory(uint64_t *total, uint64_t *free_bytes);

#endif
