"""Writing a file in one step (``atomic.py``): a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import stat

import pytest

from dlcourse.autograder.engine.atomic import write_atomically


def test_text_is_written_as_utf8_with_the_mode_asked_for_in_a_folder_made_for_it(tmp_path):
    path = tmp_path / "new" / "folder" / "secret.txt"
    write_atomically(path, "clé\n", mode=0o600)
    assert path.read_bytes() == "clé\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bytes_replace_an_existing_file_whole(tmp_path):
    path = tmp_path / "scores.json"
    path.write_text("a longer old content that must not survive in part")
    write_atomically(path, b"{}")
    assert path.read_bytes() == b"{}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_reader_that_opened_the_old_file_keeps_reading_all_of_it(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text("old,row\n" * 1000)
    with open(path) as reader:
        write_atomically(path, "new,row\n")
        assert reader.read() == "old,row\n" * 1000  # the new file is another inode, renamed over the name
    assert path.read_text() == "new,row\n"


def test_a_write_that_fails_leaves_the_old_file_intact_and_nothing_beside_it(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"score": 10}')
    with pytest.raises(TypeError):
        write_atomically(path, 12345)  # neither bytes nor text: the write fails before any rename
    assert path.read_text() == '{"score": 10}'
    assert [item.name for item in tmp_path.iterdir()] == ["results.json"]  # no temporary file left
