"""One way to make a file appear whole (afc.ops.whole), shared by the metrics files, backups and exports: a random
hidden name beside the target, made exclusively, gone after the block unless renamed into place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from afc.ops.whole import temporary_beside


def test_a_renamed_temporary_is_the_file_and_nothing_else_stays(tmp_path: Path) -> None:
    with temporary_beside(tmp_path, ".afc_state.prom.", ".tmp") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".afc_state.prom.") and tmp.name.endswith(".tmp")
        assert tmp.stat().st_size == 0 and oct(tmp.stat().st_mode & 0o777) == "0o600"
        tmp.write_text("whole\n")
        os.replace(tmp, tmp_path / "afc_state.prom")
    assert [p.name for p in tmp_path.iterdir()] == ["afc_state.prom"]


def test_a_failure_inside_the_block_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError), temporary_beside(tmp_path, ".x.", ".partial") as tmp:
        tmp.write_text("half")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_each_temporary_has_a_name_of_its_own_never_a_planted_symlink(tmp_path: Path) -> None:
    with temporary_beside(tmp_path, ".a.", ".tmp") as one, temporary_beside(tmp_path, ".a.", ".tmp") as two:
        assert one != two and not one.is_symlink() and not two.is_symlink()


@pytest.mark.parametrize("module", ["afc/ops/metrics.py", "afc/ops/backup.py", "afc/export/files.py"])
def test_the_writers_share_it(module: str) -> None:
    source = (Path(__file__).resolve().parent.parent / module).read_text()
    assert "temporary_beside(" in source and "mkstemp" not in source
