"""The one atomic write and the strict line reader of ``schemas.files`` that every module uses."""

from __future__ import annotations

import os
import stat

import pytest

from schemas import ToolkitError
from schemas.files import iter_lines, read_model, read_text, write_atomically


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_text_bytes_and_chunks_are_written_as_given(tmp_path):
    target = tmp_path / "out.txt"
    write_atomically(target, "a\r\nb\n")  # no newline translation
    assert target.read_bytes() == b"a\r\nb\n"
    write_atomically(target, b"\xff\x00")
    assert target.read_bytes() == b"\xff\x00"
    write_atomically(target, (f"{n}\n" for n in range(3)))
    assert target.read_bytes() == b"0\n1\n2\n"


def test_private_files_are_0600_and_others_follow_the_umask(tmp_path):
    secret = tmp_path / "new" / "dir" / "credentials.json"
    write_atomically(secret, "{}", private=True, make_parents=True)
    assert mode(secret) == 0o600 and mode(secret.parent) == 0o700
    old = os.umask(0o027)
    try:
        plain = tmp_path / "report.json"
        write_atomically(plain, "{}")
    finally:
        os.umask(old)
    assert mode(plain) == 0o640


def test_a_failing_stream_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "docs.jsonl"
    target.write_text("old\n", encoding="utf-8")

    def chunks():
        yield "new\n"
        raise RuntimeError("converter broke")

    with pytest.raises(RuntimeError, match="converter broke"):
        write_atomically(target, chunks())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["docs.jsonl"]


def test_missing_directory_and_directory_targets_are_one_line_errors(tmp_path):
    with pytest.raises(ToolkitError, match=r"directory .*nowhere does not exist; create it"):
        write_atomically(tmp_path / "nowhere" / "x.json", "{}")
    with pytest.raises(ToolkitError, match=r"is a directory; give a file name"):
        write_atomically(tmp_path, "{}")
    assert not (tmp_path / "nowhere").exists()


def test_lines_end_at_newline_only_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes("a\u2028b\u0085c\n\n  \nd\r\n".encode())
    assert list(iter_lines(path)) == [(1, "a\u2028b\u0085c\n"), (4, "d\r\n")]


def test_a_decoding_error_names_the_byte_of_the_file_as_the_whole_file_read_does(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    with pytest.raises(ToolkitError) as streamed:
        list(iter_lines(path))
    with pytest.raises(ToolkitError) as whole:
        read_text(path)
    assert str(streamed.value) == str(whole.value) == f"{path}: not UTF-8 at byte 16; convert the file to UTF-8"
    with pytest.raises(ToolkitError, match=r"missing\.jsonl: no such file"):
        list(iter_lines(tmp_path / "missing.jsonl"))


def test_a_record_file_is_read_as_its_model_or_refused_with_the_remedy(tmp_path):
    from schemas import Target

    path = tmp_path / "target.json"
    path.write_text('{"id": "troops", "description": "deployment of foreign troops in Ukraine"}', encoding="utf-8")
    assert read_model(path, Target, "fix it").id == "troops"
    path.write_text('{"id": "troops"', encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"target\.json: Invalid JSON: .*; write it again$"):
        read_model(path, Target, "write it again")
    path.write_bytes(b'{"id": "\xff"}')
    with pytest.raises(ToolkitError, match=r"target\.json: not UTF-8 at byte 8"):
        read_model(path, Target, "write it again")
