"""Reading the sandbox's records back: hostile input, bounded before it is unpacked
(issue 23, item 6). The whole pipeline's record tests are in test_pipeline.py."""
from __future__ import annotations

import ast
import io
import json
import zipfile

import numpy as np
import pytest

from autograde.grading import records

KNOWN = {"rnn_cell": 1}


def _record(folder, name, outputs, compress=True, **meta):
    """A record as the kernel writes one; an output given as bytes is written as they are
    (a forged .npy file)."""
    meta = {"function": "rnn_cell", "kind": "hidden", "index": 0, "error": None, "kernel_passed": True,
            "n_outputs": len(outputs), **meta}
    with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for key, value in {"meta": np.asarray(json.dumps(meta)),
                           **{f"out{j}": v for j, v in enumerate(outputs)}}.items():
            if not isinstance(value, bytes):
                buf = io.BytesIO()
                np.save(buf, value)
                value = buf.getvalue()
            z.writestr(f"{key}.npy", value)


def test_a_string_array_is_refused_from_its_header_without_being_read(tmp_path, monkeypatch):
    _record(tmp_path, "bomb.npz", [np.zeros(3 << 20, dtype="S1")])
    _record(tmp_path, "rnn_cell-hidden-1-0123abcd.npz", [np.ones((2, 3))], index=1)
    read = []
    original = records._array
    monkeypatch.setattr(records, "_array", lambda z, name, h: read.append(name) or original(z, name, h))
    out = records.read(tmp_path, KNOWN)
    bomb = next(r for r in out.records if r.index == 0)
    assert bomb.outputs is None and bomb.error == "returned output 0 as an array of dtype |S1 (not numbers)"
    honest = next(r for r in out.records if r.index == 1)
    np.testing.assert_array_equal(honest.outputs[0], np.ones((2, 3)))
    assert sorted(read) == ["meta", "meta", "out0"]  # the honest record's meta and output, the bomb's meta


def test_records_that_unpack_past_the_total_cap_are_not_read(tmp_path):
    for i in range(30):
        _record(tmp_path, f"rnn_cell-hidden-{i}-0123abcd.npz", [np.zeros((3 << 20) // 8)], index=i)
    out = records.read(tmp_path, KNOWN)
    assert len(out.records) < 30
    assert any("unpack to more than 64 MiB" in p for p in out.problems), out.problems


@pytest.mark.parametrize("size", [records.MAX_RECORD_BYTES + 1024])
def test_one_record_larger_than_its_cap_when_unpacked_is_malformed(tmp_path, size):
    _record(tmp_path, "big.npz", [np.zeros(size, dtype=np.uint8)])
    out = records.read(tmp_path, KNOWN)
    assert not out.records and any("too large when unpacked" in p for p in out.problems)


def test_numbers_of_every_kind_are_read(tmp_path):
    for i, value in enumerate([np.arange(3), np.ones(2, bool), np.ones(2, np.float32), np.asarray(2.5)]):
        _record(tmp_path, f"rnn_cell-hidden-{i}-0123abcd.npz", [value], index=i, compress=False)
    out = records.read(tmp_path, KNOWN)
    assert len(out.records) == 4 and not out.problems


def test_records_are_read_without_ast(tmp_path, monkeypatch):
    """numpy's .npy reader parses each header with `ast.literal_eval`, whose constructor on
    CPython 3.11 keeps one recursion count for all threads: records read in two grading
    threads at once once failed with "AST constructor recursion depth mismatch", and an
    honest record was ignored (a fresh-clone run, 02-bptt). The reader parses headers
    itself: here `ast` refuses to be used, and every kind of array still reads back."""
    def refuse(*args, **kwargs):
        raise SystemError("AST constructor recursion depth mismatch (before=45, after=46)")

    values = [np.arange(6.0).reshape(2, 3), np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.asarray(2.5),
              np.zeros((2, 0)), np.arange(4, dtype=np.int32), np.ones(2, dtype=complex), np.array([True, False])]
    for i, value in enumerate(values):
        _record(tmp_path, f"rnn_cell-hidden-{i}-0123abcd.npz", [value], index=i)
    monkeypatch.setattr(ast, "literal_eval", refuse)
    monkeypatch.setattr(ast, "parse", refuse)
    out = records.read(tmp_path, KNOWN)
    monkeypatch.undo()
    assert not out.problems
    got = {r.index: r.outputs[0] for r in out.records}
    for i, value in enumerate(values):
        assert got[i].dtype == value.dtype and got[i].shape == value.shape
        np.testing.assert_array_equal(got[i], value)


@pytest.mark.parametrize("damage", ["header", "short", "long"])
def test_an_array_whose_header_and_bytes_disagree_is_malformed(tmp_path, damage):
    buf = io.BytesIO()
    np.save(buf, np.arange(4.0))
    data = buf.getvalue()
    data = {"header": data.replace(b"'shape': (4,)", b"'shape': [4,]"), "short": data[:-8],
            "long": data + bytes(8)}[damage]
    _record(tmp_path, "rnn_cell-hidden-0-0123abcd.npz", [data], compress=False)
    out = records.read(tmp_path, KNOWN)
    assert not out.records and "1 malformed record(s) were ignored" in out.problems[0], out.problems


def test_an_object_array_is_refused_from_its_header_and_never_unpickled(tmp_path):
    """A forged output whose header says dtype object (a pickle in numpy's format):
    refused from the header as not numbers; its bytes are never read or unpickled."""
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (63 - len(header) - 10) + "\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"cos\nsystem\n."
    _record(tmp_path, "rnn_cell-hidden-0-0123abcd.npz", [data], compress=False)
    out = records.read(tmp_path, KNOWN)
    assert not out.problems, out.problems
    assert out.records[0].outputs is None
    assert out.records[0].error == "returned output 0 as an array of dtype |O (not numbers)"
