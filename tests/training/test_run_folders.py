from datetime import UTC, datetime

import pytest

from pipeline.core.errors import ChurnError
from pipeline.training.run_folders import (
    latest_run_folder,
    new_run_folder,
    point_latest_at,
    run_folder_name,
)

NOON = datetime(2024, 1, 31, 12, 0, 5, tzinfo=UTC)


def test_run_folders_are_named_by_their_utc_start_and_never_reused(tmp_path):
    assert run_folder_name(NOON) == "20240131-120005"
    first = new_run_folder(tmp_path, NOON)
    assert first == tmp_path / "20240131-120005" and not first.exists()
    first.mkdir()
    second = new_run_folder(tmp_path, NOON)
    assert second == tmp_path / "20240131-120005-2"


def test_the_pointer_names_the_newest_run_and_the_link_follows(tmp_path):
    older, newer = tmp_path / "20240101-000000", tmp_path / "20240201-000000"
    for folder in (older, newer):
        folder.mkdir()
        (folder / "metrics.json").write_text(folder.name)
    point_latest_at(older)
    assert latest_run_folder(tmp_path) == older
    point_latest_at(newer)
    assert latest_run_folder(tmp_path) == newer
    assert (tmp_path / "LATEST").read_text() == "20240201-000000\n"
    link = tmp_path / "latest"
    assert link.is_symlink() and (link / "metrics.json").read_text() == newer.name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20240101-000000",
        "20240201-000000",
        "LATEST",
        "latest",
    ]  # no temporary files left behind, the older run kept


def test_an_older_latest_folder_is_left_alone(tmp_path):
    (tmp_path / "latest").mkdir()  # written by an older version as a plain folder
    (tmp_path / "latest" / "report.html").write_text("old")
    run = tmp_path / "20240101-000000"
    run.mkdir()
    point_latest_at(run)
    assert (tmp_path / "latest" / "report.html").read_text() == "old"
    assert latest_run_folder(tmp_path) == run


def test_no_recorded_run_is_a_clear_error(tmp_path):
    with pytest.raises(ChurnError, match="no training run recorded under .*churn run"):
        latest_run_folder(tmp_path)
    (tmp_path / "LATEST").write_text("gone\n")
    with pytest.raises(ChurnError, match="does not exist any more"):
        latest_run_folder(tmp_path)
