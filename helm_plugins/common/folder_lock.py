"""One process at a time in an output folder: an exclusive lock that names its holder.

Two runs writing the same folder corrupt each other's checkpoints (one replaces the file the other is about to
rename). `FolderLock(folder).acquire()` takes an exclusive `fcntl` lock on `<folder>/.lock` and writes who holds
it there (process id, host, command, start time); a second process fails at once with that description. The
operating system drops the lock when the holder exits, even by a crash, so a stale lock never blocks a rerun.
"""

import fcntl
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Optional

LOCK_FILE = ".lock"


class FolderInUse(ValueError):
    """Another process holds the folder's lock."""


class FolderLock:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._file: Optional[IO[str]] = None

    def acquire(self) -> "FolderLock":
        """Take the lock (no-op if this object holds it); FolderInUse names the process that holds it."""
        if self._file is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            file.close()
            raise FolderInUse(
                f"{self.folder} is in use by {holder}; wait for it to finish, or give this run another output folder"
            ) from None
        file.seek(0)
        file.truncate()
        command = " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]) if sys.argv and sys.argv[0] else "python"
        file.write(f"process {os.getpid()} on {socket.gethostname()} ({command}, since {time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        file.flush()
        self._file = file
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the lock
            self._file = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
