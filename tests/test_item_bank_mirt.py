"""Issue 18, point 5: mirt interchange and a bank CSV that pandas and R read as is.

mirt's ``coef(mod, IRTpars = TRUE, simplify = TRUE)$items`` has columns ``a``, ``b``,
``g``, ``u``; its slope-intercept form (the default) ``a1``, ``d``, ``g``, ``u``, with
``P = g + (u − g) / (1 + exp(−(a1·θ + d)))``, so ``b = −d / a1``. R's ``write.csv`` puts
the item names in an unnamed first column and writes missing values as ``NA``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pixirt import ItemBank
from pixirt.exceptions import DataError
from pixirt.simulation import pix_like_bank

DATA = Path(__file__).parent / "data"


def _three_pl() -> ItemBank:
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": ["Item.1", "Item.2", "Item.3"],
                "a": [0.8, 1.5, -0.11],
                "b": [1.3, -0.29, 2.0],
                "c": [0.2, 0.0, 0.1],
            }
        ),
        model="3PL",
    )


def test_bank_csv_has_no_comment_line_and_reads_with_default_pandas(tmp_path: Path) -> None:
    bank = pix_like_bank(seed=3)
    bank = ItemBank.from_frame(bank.to_frame(), model="2PL", latent_mean=0.25, latent_variance=1.7)
    path = bank.write(tmp_path / "bank.csv")
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert not first.startswith("#") and first.startswith("item_id,")
    plain = pd.read_csv(path)  # pandas' defaults, as R's read.csv
    assert list(plain["item_id"]) == list(bank.item_ids)
    np.testing.assert_array_equal(plain["a"].to_numpy(), bank.a)
    # the scale travels in columns, read back by pixirt
    back = ItemBank.read(path)
    assert back.hash == bank.hash
    assert (back.model, back.latent_mean, back.latent_variance) == ("2PL", 0.25, 1.7)
    assert "latent_mean" not in back.metadata.columns


def test_old_csv_with_a_comment_line_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        '# pixirt-item-bank {"model": "2PL", "latent_mean": 0.5, "latent_variance": 2.0}\n'
        "item_id,a,b\nq1,1.0,0.0\nq2,1.5,1.0\n"
    )
    bank = ItemBank.read(path)
    assert (bank.model, bank.latent_mean, bank.latent_variance) == ("2PL", 0.5, 2.0)


@pytest.mark.parametrize("id_header", ['""', '"item_id"'])
def test_mirt_irtpars_with_g_is_read_as_3pl(tmp_path: Path, id_header: str) -> None:
    """The issue: a ``g`` column was silently read as a 2PL (and kept as metadata)."""
    path = tmp_path / "coef.csv"
    path.write_text(
        id_header + ',"a","b","g","u"\n'
        '"Item.1",0.8,1.3,0.2,1\n"Item.2",1.5,-0.29,0,1\n"Item.3",-0.11,2,0.1,1\n'
    )
    bank = ItemBank.read(path)
    expected = _three_pl()
    assert bank.model == "3PL"
    assert list(bank.item_ids) == list(expected.item_ids)
    np.testing.assert_array_equal(bank.c, expected.c)
    np.testing.assert_array_equal(bank.a, expected.a)
    assert "g" not in bank.metadata.columns and "u" not in bank.metadata.columns


def test_mirt_slope_intercept_a1_d_is_read(tmp_path: Path) -> None:
    path = tmp_path / "coef.csv"
    path.write_text('"","a1","d","g","u"\n"i1",1.2,-0.6,0,1\n"i2",0.5,1,0,1\n')
    bank = ItemBank.read(path)
    np.testing.assert_allclose(bank.a, [1.2, 0.5])
    np.testing.assert_allclose(bank.b, [0.5, -2.0])  # b = −d / a1
    assert bank.model == "2PL"


def test_r_na_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text('"item_id","a","b","se_a","se_b"\n"q1",1,0,NA,NA\n"q2",1.5,1,0.1,0.2\n')
    bank = ItemBank.read(path)
    frame = bank.to_frame()
    assert np.isnan(frame["se_a"].iloc[0]) and frame["se_b"].iloc[1] == 0.2
    bad = tmp_path / "bad.csv"
    bad.write_text('"item_id","a","b"\n"q1",1,0\n"q2",NA,1\n')
    with pytest.raises(DataError, match="missing value") as info:
        ItemBank.read(bad)
    assert info.value.row == 2 and info.value.field == "a" and str(bad) in str(info.value)


def test_mirt_four_pl_upper_asymptote_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "coef.csv"
    path.write_text('"","a","b","g","u"\n"i1",1,0,0,1\n"i2",1,0,0.1,0.9\n')
    with pytest.raises(DataError, match="upper asymptote") as info:
        ItemBank.read(path)
    assert info.value.row == 2 and info.value.field == "u"


@pytest.mark.parametrize("irt_pars", [True, False])
def test_mirt_tables_round_trip(tmp_path: Path, irt_pars: bool) -> None:
    bank = _three_pl()
    table = bank.to_mirt(irt_pars=irt_pars)
    assert list(table.columns) == (["a", "b", "g", "u"] if irt_pars else ["a1", "d", "g", "u"])
    assert list(table.index) == list(bank.item_ids)
    if not irt_pars:
        np.testing.assert_allclose(table["d"], -bank.a * bank.b)
    path = bank.write_mirt(tmp_path / "coef.csv", irt_pars=irt_pars)
    assert pd.read_csv(path, index_col=0).shape == (3, 4)
    back = ItemBank.from_mirt(pd.read_csv(path, index_col=0))
    np.testing.assert_allclose(back.a, bank.a, rtol=1e-15)
    np.testing.assert_allclose(back.b, bank.b, rtol=1e-14)
    np.testing.assert_array_equal(back.c, bank.c)


def test_shipped_mirt_reference_reads_as_a_bank() -> None:
    """tests/data/sat12/mirt/items_2PL.csv (a, b, se_a, se_b, d): b is read, d agrees."""
    ref = pd.read_csv(DATA / "sat12" / "mirt" / "items_2PL.csv")
    bank = ItemBank.read(DATA / "sat12" / "mirt" / "items_2PL.csv")
    np.testing.assert_array_equal(bank.b, ref["b"].to_numpy())
    np.testing.assert_allclose(-bank.a * bank.b, ref["d"].to_numpy(), atol=1e-12)
