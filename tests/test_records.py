"""Reading the sandbox's records back: hostile input, bounded before it is unpacked
(issue 23, item 6). The whole pipeline's record tests are in test_pipeline.py."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from autograde.grading import records

KNOWN = {"rnn_cell": 1}


def _record(folder, name, outputs, compress=True, **meta):
    meta = {"function": "rnn_cell", "kind": "hidden", "index": 0, "error": None, "kernel_passed": True,
            "n_outputs": len(outputs), **meta}
    with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for key, value in {"meta": np.asarray(json.dumps(meta)),
                           **{f"out{j}": v for j, v in enumerate(outputs)}}.items():
            buf = io.BytesIO()
            np.save(buf, value)
            z.writestr(f"{key}.npy", buf.getvalue())


def test_a_string_array_is_refused_from_its_header_without_being_read(tmp_path, monkeypatch):
    _record(tmp_path, "bomb.npz", [np.zeros(3 << 20, dtype="S1")])
    _record(tmp_path, "rnn_cell-hidden-1-0123abcd.npz", [np.ones((2, 3))], index=1)
    read = []
    original = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array", lambda f, *a, **k: read.append(1) or original(f, *a, **k))
    out = records.read(tmp_path, KNOWN)
    bomb = next(r for r in out.records if r.index == 0)
    assert bomb.outputs is None and bomb.error == "returned output 0 as an array of dtype |S1 (not numbers)"
    honest = next(r for r in out.records if r.index == 1)
    np.testing.assert_array_equal(honest.outputs[0], np.ones((2, 3)))
    assert len(read) == 3  # the honest record's meta and output, the bomb's meta: never its bytes


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
