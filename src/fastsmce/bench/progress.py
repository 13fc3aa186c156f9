"""A progress bar on stderr: tqdm when installed, else a small built-in one."""

from __future__ import annotations

import sys


class SimpleBar:
    """Minimal stand-in for tqdm's ``update`` / ``set_postfix_str`` / ``close``."""

    def __init__(self, total: int, file=None, width: int = 30):
        self.total, self.n, self.width = total, 0, width
        self.file = file if file is not None else sys.stderr
        self.postfix = ""
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self._last_len = 0

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text
        if self.tty:
            self._draw()

    def update(self, n: int = 1) -> None:
        self.n += n
        self._draw()

    def _draw(self) -> None:
        filled = self.width * self.n // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {self.n}/{self.total} {self.postfix}"
        if self.tty:  # redraw in place
            self.file.write("\r" + line.ljust(self._last_len))
            self._last_len = len(line)
        else:  # logs: one line per finished case
            self.file.write(line + "\n")
        self.file.flush()

    def close(self) -> None:
        if self.tty:
            self.file.write("\n")
            self.file.flush()


class NoBar:
    def set_postfix_str(self, text: str) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool = True):
    if not enabled:
        return NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return SimpleBar(total)
    return tqdm(total=total, file=sys.stderr, unit="case", dynamic_ncols=True,
                desc="fastsmce.bench")
