/* OpenMP shims for the Cython layer: the module builds and runs single-threaded
 * without OpenMP (e.g. Apple clang without libomp).  setup.py defines
 * FASTSMCE_OPENMP_MISSING=1 when it had to build without OpenMP although it was
 * not asked to (FASTSMCE_NO_OPENMP): the import then warns. */
#ifndef FASTSMCE_OMP_H
#define FASTSMCE_OMP_H
#ifdef _OPENMP
#include <omp.h>
static int fs_omp_enabled(void) { return 1; }
static int fs_omp_max_threads(void) { return omp_get_max_threads(); }
static const char *fs_threading_layer(void) { return "openmp"; }
#else
static int fs_omp_enabled(void) { return 0; }
static int fs_omp_max_threads(void) { return 1; }
static const char *fs_threading_layer(void) { return "single-threaded build"; }
#endif
#if defined(FASTSMCE_OPENMP_MISSING) && !defined(_OPENMP)
static int fs_omp_missing(void) { return 1; }
#else
static int fs_omp_missing(void) { return 0; }
#endif
#endif
