"""Build script for the compiled part of fastsmce (``fastsmce._core``).

All metadata lives in pyproject.toml; this file only describes the extension:

* sources: ``src/fastsmce/_core.pyx`` plus every ``*.c`` under ``csrc/`` (recursive,
  sorted), so a new kernel file is picked up without editing this file;
* flags: ``-O3`` (gcc/clang) or ``/O2`` (MSVC); ``FASTSMCE_OPT`` replaces them when set
  (tools/sanitize.sh builds with ``-O1 -g``).  Never ``-march=native`` (the wheel must
  run on any x86-64: the C files pick their ISA per function with target pragmas and
  dispatch at run time) and never ``-ffast-math`` (it breaks NaN/inf semantics);
* OpenMP: probed by compiling and linking a tiny program with the same compiler.  If
  the probe fails, or ``FASTSMCE_NO_OPENMP=1`` is set, the module is built without
  OpenMP and runs single-threaded.
"""

import contextlib
import glob
import os
import shutil
import sys
import tempfile

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


def check_openmp(compiler=None, verbose=False):
    """Return the OpenMP flags that work with ``compiler`` or None.

    Compiles and links a tiny program that uses omp.h / omp_get_max_threads() in a
    temporary directory, silently.  ``compiler`` is a distutils CCompiler (the one
    build_ext will use); when None, a new customized default compiler is made.
    The result is a dict with keys compile_args, link_args, include_dirs,
    library_dirs, or None when no candidate works.
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
            except Exception:  # CompileError, LinkError, missing compiler ...
                continue
            return {"compile_args": cargs, "link_args": largs,
                    "include_dirs": incs, "library_dirs": libs}
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
            opt = ["-O3"]
        if os.environ.get("FASTSMCE_OPT", "").strip():
            # replaces the optimisation flags (they come after CFLAGS, so CFLAGS alone
            # cannot lower -O3): tools/sanitize.sh builds with FASTSMCE_OPT="-O1 -g"
            opt = os.environ["FASTSMCE_OPT"].split()

        omp = None
        if _env_flag("FASTSMCE_NO_OPENMP"):
            print("fastsmce: FASTSMCE_NO_OPENMP is set: building WITHOUT OpenMP "
                  "(single-threaded).")
        else:
            omp = check_openmp(self.compiler)
            if omp is None:
                print("\n" + "*" * 78)
                print("WARNING: fastsmce: the C compiler (%s) could not build an OpenMP "
                      "program;\nbuilding WITHOUT OpenMP: fastsmce will run single-threaded."
                      % ctype)
                if sys.platform == "darwin":
                    print("On macOS install libomp (e.g. `brew install libomp`) and "
                          "rebuild, or set LIBOMP_PREFIX.")
                print("*" * 78 + "\n")
            else:
                print("fastsmce: building with OpenMP (%s)" % " ".join(omp["compile_args"]))

        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + opt
            if omp is not None:
                ext.define_macros = list(ext.define_macros or []) + [("FASTSMCE_HAVE_OPENMP", "1")]
                ext.extra_compile_args += omp["compile_args"]
                ext.extra_link_args = list(ext.extra_link_args or []) + omp["link_args"]
                ext.include_dirs = list(ext.include_dirs or []) + omp["include_dirs"]
                ext.library_dirs = list(ext.library_dirs or []) + omp["library_dirs"]
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
