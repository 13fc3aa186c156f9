/* OpenMP shims for _core.pyx: the module builds and runs single-threaded
 * without OpenMP (e.g. Apple clang without libomp). */
#ifndef FASTSMCE_OMP_H
#define FASTSMCE_OMP_H
#ifdef _OPENMP
#include <omp.h>
static int fs_omp_enabled(void) { return 1; }
static int fs_omp_max_threads(void) { return omp_get_max_threads(); }
#else
static int fs_omp_enabled(void) { return 0; }
static int fs_omp_max_threads(void) { return 1; }
#endif
#endif
