/*
 * Runtime dispatch: the ISA rows of csrc/isa.h become one table of (name,
 * kernel tables, CPU probe); fs_init probes the CPU and picks the kernel tables
 * of the chosen ISA once, and every public entry point calls through
 * fs_kernels(dt).
 */
#include <string.h>
#include "fastsmce.h"
#include "kernels/kernels.h"
#include "simd/cpu.h"

#define FS_ISA_IF_NOT_BUILT(arch) FS_CAT(FS_IF_, FS_CAT(FS_NOT_, FS_CAT(FS_ARCH_, arch)))
#define FS_NOT_0 1
#define FS_NOT_1 0

typedef struct {
    const char *name;
    const fs_kernel_table *table[2]; /* float32, float64; NULL: not compiled */
    int (*probe)(void);
} fs_isa_entry;

#define FS_ISA_ENTRY_(ID, name, arch, target, probe)                                            \
    {#name,                                                                                     \
     {FS_ISA_IF_BUILT(arch)(&FS_TABLE_NAME(name, f32), &FS_TABLE_NAME(name, f64))                \
          FS_ISA_IF_NOT_BUILT(arch)(0, 0)},                                                     \
     FS_ISA_IF_BUILT(arch)(probe) FS_ISA_IF_NOT_BUILT(arch)(0)},
static const fs_isa_entry fs_isas[FS_ISA_COUNT] = {FS_ISA_LIST(FS_ISA_ENTRY_)};
#undef FS_ISA_ENTRY_

static fs_isa fs_active = FS_ISA_SCALAR;
static const fs_kernel_table *fs_cur[2] = {&FS_TABLE_NAME(scalar, f32), &FS_TABLE_NAME(scalar, f64)};

const char *fs_isa_name(fs_isa isa) { return (unsigned)isa < FS_ISA_COUNT ? fs_isas[isa].name : "unknown"; }

int fs_isa_compiled(fs_isa isa) { return (unsigned)isa < FS_ISA_COUNT && fs_isas[isa].table[0] != 0; }

int fs_isa_supported(fs_isa isa) { return fs_isa_compiled(isa) && fs_isas[isa].probe(); }

fs_isa fs_init(const char *request, int *downgraded) {
    int want = FS_ISA_COUNT - 1, i, flag = 0;
    if (request && request[0]) {
        want = -1;
        for (i = 0; i < FS_ISA_COUNT; i++)
            if (strcmp(request, fs_isas[i].name) == 0) want = i;
        if (want < 0) {
            want = FS_ISA_COUNT - 1;
            flag = 2;
        }
    }
    if (!fs_isa_supported((fs_isa)want)) {
        /* the best path this CPU runs (a request of another architecture's path,
         * e.g. "neon" on x86, must not land on that row's neighbours) */
        if (!flag && request && request[0]) flag = 1;
        want = FS_ISA_COUNT - 1;
        while (want > 0 && !fs_isa_supported((fs_isa)want)) want--;
    }
    fs_active = (fs_isa)want;
    fs_cur[0] = fs_isas[want].table[0];
    fs_cur[1] = fs_isas[want].table[1];
    if (downgraded) *downgraded = flag;
    return fs_active;
}

fs_isa fs_active_isa(void) { return fs_active; }

const fs_kernel_table *fs_kernels(fs_dtype dt) { return fs_cur[dt == FS_FLOAT64]; }

const char *fs_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
    return "msvc " FS_STR(_MSC_FULL_VER);
#else
    return "unknown";
#endif
}
