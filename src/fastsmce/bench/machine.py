"""What the benchmark ran on: CPU, cores, fastsmce's build, peer versions."""

from __future__ import annotations

import os
import platform

from .ops import PEERS, peer_module, peer_version


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cpus() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def fastsmce_config(module) -> dict:
    try:
        config = module.show_config(mode="dicts")
        return dict(config) if isinstance(config, dict) else {"show_config": config}
    except Exception as exc:  # an old or partial build: report what we can
        return {"version": getattr(module, "__version__", "?"),
                "show_config_error": f"{type(exc).__name__}: {exc}"}


def set_threads(module, threads: int) -> None:
    """Same thread count for fastsmce (and its copy hook) and PyTorch."""
    module.set_num_threads(threads)
    torch = peer_module("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def machine_info(module, threads: int, copy_method: str) -> dict:
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fastsmce": fastsmce_config(module),
        "threads": threads,
        "copy": copy_method,
        "peers": {peer: peer_version(peer) for peer in PEERS},
    }
