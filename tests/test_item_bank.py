"""ItemBank: validation naming rows, exact round trips, hash, metadata types."""

import json

import numpy as np
import pandas as pd
import pytest

from pixirt import DataError, ItemBank
from pixirt.simulation import pix_like_bank


def small_frame(**extra):
    df = pd.DataFrame(
        {
            "item_id": ["q1", "q2", "q3"],
            "a": [1.2, 0.8, 1.0],
            "b": [-0.5, 0.0, 1.25],
            "competence": ["1.1", "1.10", "2.3"],
            "level": [1, 2, 3],
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def test_defaults_and_accessors():
    bank = ItemBank.from_frame(small_frame())
    assert bank.n_items == len(bank) == 3
    assert bank.model == "2PL"
    np.testing.assert_array_equal(bank.c, 0.0)
    np.testing.assert_allclose(bank.d, -bank.a * bank.b)
    assert list(bank.metadata.columns) == ["competence", "level"]
    assert bank.metadata.index.name == "item_id"
    assert bank.index_of(["q3", "q1"]).tolist() == [2, 0]
    with pytest.raises(DataError, match="'nope' is not in the bank"):
        bank.index_of(["nope"])
    with pytest.raises(ValueError):  # read-only arrays: the bank is immutable
        bank.a[0] = 5.0


def test_model_inference():
    assert ItemBank.from_frame(small_frame(c=[0.0, 0.2, 0.1])).model == "3PL"
    rasch = pd.DataFrame({"item_id": [1, 2], "b": [0.0, 1.0]})
    bank = ItemBank.from_frame(rasch)
    assert bank.model == "Rasch" and bank.a.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("change", "row", "field", "message"),
    [
        ({"a": [1.0, -np.inf, 1.0]}, 2, "a", "must be finite"),
        ({"a": [1.0, 1.0, np.nan]}, 3, "a", "missing value"),
        ({"b": [0.0, "hard", 1.0]}, 2, "b", "expected a number, got 'hard'"),
        ({"b": [0.0, np.inf, 1.0]}, 2, "b", "must be finite"),
        ({"c": [0.0, 0.0, 1.0]}, 3, "c", r"c must be in \[0, 1\)"),
        ({"item_id": ["q1", "q2", "q1"]}, 3, "item_id", "duplicate item id 'q1'"),
        ({"item_id": ["q1", None, "q3"]}, 2, "item_id", "got a missing value"),
        ({"item_id": [1.5, 2.0, 3.0]}, 1, "item_id", "strings or integers"),
        ({"n_answers": [3, -1, 2]}, 2, "n_answers", "expected a count"),
    ],
)
def test_bad_banks_name_row_and_field(change, row, field, message):
    df = small_frame()
    for k, v in change.items():
        df[k] = v
    with pytest.raises(DataError, match=message) as info:
        ItemBank.from_frame(df)
    assert info.value.row == row
    assert info.value.field == field
    assert f"row {row}" in str(info.value) and f"field '{field}'" in str(info.value)


@pytest.mark.parametrize("column", ["item_id", "b"])
def test_missing_columns(column):
    with pytest.raises(DataError, match="missing column") as info:
        ItemBank.from_frame(small_frame().drop(columns=[column]))
    assert info.value.field == column


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_round_trip_exact(tmp_path, suffix):
    bank = pix_like_bank(seed=3)
    frame = bank.to_frame()
    frame.loc[0, "se_b"] = 0.123456789012345678
    frame["n_answers"] = pd.array([None, *range(1, len(frame))], dtype="Int64")
    bank = ItemBank.from_frame(frame, model="2PL", latent_mean=0.25, latent_variance=1.7)
    path = bank.write(tmp_path / f"bank{suffix}")
    back = ItemBank.read(path)
    assert back.hash == bank.hash
    assert back.model == "2PL" and back.latent_mean == 0.25 and back.latent_variance == 1.7
    pd.testing.assert_frame_equal(back.to_frame(), bank.to_frame(), check_exact=True)
    assert back.metadata["competence"].iloc[0] == "1.1"  # codes stay strings
    assert back.metadata["level"].dtype == np.int64
    assert back.metadata["accessible"].dtype == bool


def test_csv_keeps_codes_as_strings_and_types_metadata(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(
        "item_id,a,b,competence,level,weight,note\n7,1.0,0.5,1.10,3,0.5,x\n8,1.5,-1,2.1,4,1.5,y\n"
    )
    bank = ItemBank.read(path)
    assert bank.item_ids.tolist() == [7, 8]  # integer ids stay integers
    meta = bank.metadata
    assert meta["competence"].tolist() == ["1.10", "2.1"]
    assert meta["level"].tolist() == [3, 4]
    assert meta["weight"].tolist() == [0.5, 1.5]
    assert meta["note"].tolist() == ["x", "y"]


def test_csv_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("item_id,a,b\nq1,1.0,0.0\nq2,abc,0.0\n")
    with pytest.raises(DataError) as info:
        ItemBank.read(path)
    assert str(path) in str(info.value) and "row 2" in str(info.value) and "'a'" in str(info.value)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty file"):
        ItemBank.read(empty)
    with pytest.raises(DataError, match="no such file"):
        ItemBank.read(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="unknown bank format"):
        ItemBank.read(_touch(tmp_path / "b.xlsx"))


def _touch(p):
    p.write_text("x")
    return p


def test_json_hash_detects_edits(tmp_path):
    bank = pix_like_bank(seed=1)
    data = bank.to_dict()
    assert ItemBank.from_dict(json.loads(json.dumps(data))) == bank
    data["items"][0][2] += 0.5  # edit b of the first item
    with pytest.raises(DataError, match="differs from the stored hash"):
        ItemBank.from_dict(data)


def test_hash_depends_on_content_only():
    a = pix_like_bank(seed=5)
    b = pix_like_bank(seed=5)
    assert a.hash == b.hash and a == b
    c = a.with_parameters(b=a.b + 1e-12)
    assert c.hash != a.hash
    assert a.with_parameters(model="2PL").hash == a.hash


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    bank = pix_like_bank(seed=2)
    target = tmp_path / "bank.csv"
    target.write_text("previous content")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        bank.write(target)
    assert target.read_text() == "previous content"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left


def test_probability_and_information_shapes():
    bank = ItemBank.from_frame(small_frame())
    theta = np.array([-1.0, 0.0, 1.25])
    p = bank.probability(theta)
    assert p.shape == (3, 3)
    assert p[2, 2] == pytest.approx(0.5)
    info = bank.information(1.25, items=["q3"])
    assert info.shape == (1,) and info[0] == pytest.approx(1.0 / 4)


def test_subset_keeps_scale_and_order():
    bank = ItemBank.from_frame(small_frame(), latent_variance=2.0)
    sub = bank.subset(["q3", "q1"])
    assert sub.item_ids.tolist() == ["q3", "q1"]
    assert sub.latent_variance == 2.0
    assert sub.metadata["competence"].tolist() == ["2.3", "1.1"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_users_umask(tmp_path, umask, mode):
    """Colleagues on a shared server can read what pixirt writes (not always 0600)."""
    import os

    from pixirt import rules
    from pixirt.simulation import Population, simulate

    old = os.umask(umask)
    try:
        bank_path = tmp_path / "bank.csv"
        pix_like_bank(0).subset(["ch00001", "ch00002"]).write(bank_path)
        sims = simulate(
            Population(), pix_like_bank(0), rules.load("pix-v3"), 5, out=tmp_path / "s.parquet"
        )
    finally:
        os.umask(old)
    for path in (bank_path, sims.path):
        assert path is not None and (path.stat().st_mode & 0o777) == mode, path


def test_a_bank_holds_a_negative_slope():
    """Issue 18: mirt's estimates of a reversed item can be held, read back and scored."""
    df = small_frame()
    df["a"] = [1.0, -0.11, 1.3]
    bank = ItemBank.from_frame(df)
    assert bank.a[1] == -0.11 and bank.model == "2PL"
    p = bank.probability(np.array([-1.0, 1.0]))
    assert p[0, 1] > p[1, 1] and p[0, 0] < p[1, 0]
