/* Helper library for missing_dep.c: exists at link time, absent from every run-time
 * search path. */
__attribute__((visibility("default"))) int qg_bad_dep_value(void) { return 42; }
