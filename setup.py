"""Build script for the compiled part of fastsmce (``fastsmce._core``).

All metadata lives in pyproject.toml; this file only describes the extension:

* sources: ``src/fastsmce/_core.pyx`` plus every ``*.c`` under ``csrc/`` (recursive,
  sorted), so a new kernel file is picked up without editing this file;
* flags: ``-O3 -g0`` (gcc/clang: no debug info, which made each kernel unit compile
  several times slower) or ``/O2`` (MSVC); ``FASTSMCE_OPT`` replaces them when set
  (tools/sanitize.sh builds with ``-O1 -g``);
* parallel: the sources of the extension compile at once on every core
  (``FASTSMCE_BUILD_JOBS`` sets how many), the longest first; gcc also gets
  ``--param=sccvn-max-alias-queries-per-access=20`` for the scalar kernel units (see
  FAST_COMPILE_FLAGS).  Never ``-march=native`` (the wheel must
  run on any x86-64 or aarch64 CPU: the C files pick their ISA per function with target
  pragmas, e.g. avx2 / avx512 on x86 and sve on aarch64 (neon is aarch64's baseline), and
  dispatch at run time) and never ``-ffast-math`` (it breaks NaN/inf semantics);
* OpenMP: probed by compiling and linking a tiny program with the same compiler.  If
  ``FASTSMCE_NO_OPENMP=1`` is set, the module is built without OpenMP (quietly: it was
  asked for).  If the probe fails, the build goes on without OpenMP LOUDLY: a warning
  on stderr with the compiler's own error, and the built module warns at every import
  and reports "single-threaded build" (``fastsmce.threading_layer()``, ``show_config()``).
"""

import contextlib
import glob
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

HERE = os.path.dirname(os.path.abspath(__file__))

OPENMP_TEST_PROGRAM = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    printf("%d %d\n", omp_get_max_threads(), n);
    return n > 0 ? 0 : 1;
}
"""


def _c_sources():
    """Every C file under csrc/, relative to the project root, sorted, '/'-separated."""
    found = glob.glob(os.path.join(HERE, "csrc", "**", "*.c"), recursive=True)
    return sorted(os.path.relpath(p, HERE).replace(os.sep, "/") for p in found)


def _depends():
    """Headers and included templates: a change to any of them rebuilds the module."""
    pats = ("*.h", "*.inc", "*.pxi", "*.pxd")
    found = []
    for root in ("csrc", os.path.join("src", "fastsmce")):
        for pat in pats:
            found += glob.glob(os.path.join(HERE, root, "**", pat), recursive=True)
    return sorted(os.path.relpath(p, HERE).replace(os.sep, "/") for p in found)


@contextlib.contextmanager
def _silenced():
    """Silence stdout/stderr at the file-descriptor level (the compiler is a subprocess)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fds (e.g. some IDEs)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (devnull,) + saved:
            os.close(fd)


def _new_compiler():
    # setuptools provides distutils on every Python it supports (3.12+ included).
    from distutils.ccompiler import new_compiler
    from distutils.sysconfig import customize_compiler

    cc = new_compiler()
    customize_compiler(cc)
    return cc


def _openmp_candidates(compiler_type):
    """(compile_args, link_args, include_dirs, library_dirs) to try, in order."""
    if compiler_type == "msvc":
        return [(["/openmp"], [], [], [])]
    cands = [(["-fopenmp"], ["-fopenmp"], [], [])]
    if sys.platform == "darwin":
        # Apple clang has no -fopenmp driver flag; it works with an external libomp
        # (e.g. Homebrew's, which is keg-only, so its prefix has to be named).
        prefixes = []
        for var in ("LIBOMP_PREFIX", "HOMEBREW_PREFIX"):
            if os.environ.get(var):
                prefixes.append(os.environ[var])
        prefixes += ["/opt/homebrew/opt/libomp", "/usr/local/opt/libomp",
                     "/opt/homebrew", "/usr/local", "/opt/local"]
        cands.append((["-Xpreprocessor", "-fopenmp"], ["-lomp"], [], []))
        seen = set()
        for pre in prefixes:
            if pre in seen or not os.path.isdir(os.path.join(pre, "include")):
                continue
            seen.add(pre)
            cands.append((["-Xpreprocessor", "-fopenmp"], ["-lomp"],
                          [os.path.join(pre, "include")], [os.path.join(pre, "lib")]))
    return cands


def check_openmp(compiler=None, verbose=False, errors=None):
    """Return the OpenMP flags that work with ``compiler`` or None.

    Compiles and links a tiny program that uses omp.h / omp_get_max_threads() in a
    temporary directory, silently.  ``compiler`` is a distutils CCompiler (the one
    build_ext will use); when None, a new customized default compiler is made.
    The result is a dict with keys compile_args, link_args, include_dirs,
    library_dirs, or None when no candidate works.  ``errors`` (a list), when given,
    receives one line per failed candidate with the reason.
    """
    if compiler is None:
        compiler = _new_compiler()
    tmp = tempfile.mkdtemp(prefix="fastsmce-omp-")
    try:
        src = os.path.join(tmp, "omp_probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST_PROGRAM)
        for i, (cargs, largs, incs, libs) in enumerate(_openmp_candidates(compiler.compiler_type)):
            out_dir = os.path.join(tmp, "try%d" % i)
            os.makedirs(out_dir)
            try:
                ctx = contextlib.nullcontext() if verbose else _silenced()
                with ctx:
                    objs = compiler.compile([src], output_dir=out_dir, include_dirs=incs,
                                            extra_postargs=cargs)
                    compiler.link_executable(objs, "omp_probe", output_dir=out_dir,
                                             library_dirs=libs, extra_postargs=largs)
            except Exception as e:  # CompileError, LinkError, missing compiler ...
                if errors is not None:
                    errors.append("%s: %s" % (" ".join(cargs + largs), str(e).strip()[-300:]))
                continue
            return {"compile_args": cargs, "link_args": largs,
                    "include_dirs": incs, "library_dirs": libs}
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _warn(text):
    """a warning on stderr, framed so that it stands out in a build log"""
    bar = "*" * 78
    sys.stderr.write("\n%s\n%s\n%s\n\n" % (bar, text.rstrip(), bar))
    sys.stderr.flush()


def _parallel_compile(compiler, jobs, fast_flags):
    """Make ``compiler`` (a distutils UnixCCompiler) compile the sources of one extension
    on ``jobs`` threads, the longest compiles first; the portable scalar kernel units also
    get ``fast_flags``."""

    def compile(sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                extra_preargs=None, extra_postargs=None, depends=None):
        macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs)
        cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)

        def one(obj):
            src, ext = build[obj]
            post = extra_postargs + (fast_flags if _compile_cost_rank(src) == 0 else [])
            compiler._compile(obj, src, ext, cc_args, post, pp_opts)

        todo = [o for o in objects if o in build]
        todo.sort(key=lambda o: _compile_cost_rank(build[o][0]))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, todo))     # re-raises the first CompileError
        return objects

    compiler.compile = compile


def _compile_cost_rank(src):
    """longest compiles first (measured, gcc 12 -O3): the portable scalar kernels (their
    lane loops make huge functions), then Cython's output, then the rest"""
    src = src.replace(os.sep, "/")
    return 0 if "/inst/scalar_" in src else 1 if src.endswith("_core.c") else 2


#: gcc spent 60-110 s of value numbering's alias walks on each scalar kernel unit (the lane
#: arrays of csrc/simd/scalar.h); capping the queries makes it 24-42 s, and the kernels run
#: as fast (measured).  Only for those units: on the vector units it changed which lane
#: loops gcc vectorised with contracted FMAs, and cross-entropy's column kernel then gave
#: other bits for a row in a vector's tail than in its body (thread counts disagreed).
#: Used only where the compiler accepts it (gcc; clang has no such parameter).
FAST_COMPILE_FLAGS = ["--param=sccvn-max-alias-queries-per-access=20"]


def _flags_that_work(compiler, flags):
    """the flags the compiler accepts (each tried on an empty C file)"""
    tmp = tempfile.mkdtemp(prefix="fastsmce-flag-")
    ok = []
    try:
        src = os.path.join(tmp, "flag.c")
        with open(src, "w") as f:
            f.write("int fastsmce_flag_probe(void) { return 0; }\n")
        for i, flag in enumerate(flags):
            try:
                with _silenced():
                    compiler.compile([src], output_dir=os.path.join(tmp, str(i)),
                                     extra_postargs=[flag, "-Werror"])
                ok.append(flag)
            except Exception:
                pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ok


def _build_jobs():
    text = os.environ.get("FASTSMCE_BUILD_JOBS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class build_ext(_build_ext):
    """Cythonize lazily (so sdist/egg_info never need the generated C), then pick the
    optimisation and OpenMP flags for the compiler actually in use."""

    def finalize_options(self):
        from Cython.Build import cythonize

        # Before super(): cythonize returns new Extension objects, and setuptools
        # annotates the ones it finds in finalize_options.
        dist = self.distribution
        dist.ext_modules[:] = cythonize(
            dist.ext_modules,
            compiler_directives={
                "language_level": 3,
                "boundscheck": False,
                "wraparound": False,
                "cdivision": True,
                "initializedcheck": False,
            },
            annotate=False,
            quiet=True,
        )
        super().finalize_options()

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            opt = ["/O2"]
        else:
            opt = ["-O3", "-g0"]
        if os.environ.get("FASTSMCE_OPT", "").strip():
            # replaces the optimisation flags (they come after CFLAGS, so CFLAGS alone
            # cannot lower -O3): tools/sanitize.sh builds with FASTSMCE_OPT="-O1 -g"
            opt = os.environ["FASTSMCE_OPT"].split()

        omp = None
        macros = []
        if _env_flag("FASTSMCE_NO_OPENMP"):
            print("fastsmce: FASTSMCE_NO_OPENMP is set: building WITHOUT OpenMP "
                  "(single-threaded).")
        else:
            errors = []
            omp = check_openmp(self.compiler, errors=errors)
            if omp is None:
                hint = ("\nOn macOS install libomp (e.g. `brew install libomp`) and rebuild, "
                        "or set LIBOMP_PREFIX." if sys.platform == "darwin" else "")
                _warn("WARNING: fastsmce: the C compiler (%s) could not build an OpenMP program;\n"
                      "building WITHOUT OpenMP: fastsmce will run SINGLE-THREADED and warn at\n"
                      "import.  Set FASTSMCE_NO_OPENMP=1 to build single-threaded on purpose.%s\n"
                      "What the probe said:\n  %s" % (ctype, hint, "\n  ".join(errors) or "?"))
                macros.append(("FASTSMCE_OPENMP_MISSING", "1"))
            else:
                print("fastsmce: building with OpenMP (%s)" % " ".join(omp["compile_args"]))

        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + opt
            ext.define_macros = list(ext.define_macros or []) + macros
            if omp is not None:
                ext.extra_compile_args += omp["compile_args"]
                ext.extra_link_args = list(ext.extra_link_args or []) + omp["link_args"]
                ext.include_dirs = list(ext.include_dirs or []) + omp["include_dirs"]
                ext.library_dirs = list(ext.library_dirs or []) + omp["library_dirs"]
        jobs = _build_jobs()
        if jobs > 1 and ctype == "unix":
            _parallel_compile(self.compiler, jobs, _flags_that_work(self.compiler, FAST_COMPILE_FLAGS))
            print("fastsmce: compiling on %d threads" % jobs)
        super().build_extensions()


def _extensions():
    import numpy

    return [
        Extension(
            "fastsmce._core",
            sources=["src/fastsmce/_core.pyx"] + _c_sources(),
            depends=_depends(),
            include_dirs=["csrc", "src/fastsmce", numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
    ]


if __name__ == "__main__":
    setup(ext_modules=_extensions(), cmdclass={"build_ext": build_ext})
