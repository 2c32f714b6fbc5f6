"""ResponseLog: parsing, statuses, errors naming file/row/field, sparse layout, round trips."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixirt import DataError, DataWarning, ResponseLog, read_responses
from pixirt._response_values import PIX_STATUSES


def frame(rows):
    return pd.DataFrame(rows, columns=["person_id", "item_id", "correct"])


def test_csr_layout_and_first_appearance_order():
    log = ResponseLog.from_frame(
        frame([("b", "i2", 1), ("a", "i1", 0), ("b", "i1", 0), ("a", "i3", 1)])
    )
    assert log.person_ids.tolist() == ["b", "a"]
    assert log.item_ids.tolist() == ["i2", "i1", "i3"]
    assert log.indptr.tolist() == [0, 2, 4]
    assert log.indices.dtype == np.int32 and log.answers.dtype == np.int8
    assert log.indices.tolist() == [0, 1, 1, 2]
    assert log.answers.tolist() == [1, 0, 0, 1]
    assert (log.n_persons, log.n_items, log.n_answers) == (2, 3, 4)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [("wrong", [1, 0, 0, 0, 0, 0, 0]), ("missing", [1, 0])],
)
def test_pix_statuses(statuses, expected):
    rows = [("p", f"i{k}", s) for k, s in enumerate(PIX_STATUSES)]
    log = ResponseLog.from_frame(frame(rows), statuses=statuses)
    assert log.answers.tolist() == expected
    if statuses == "missing":
        assert log.describe().n_missing_statuses == 5


def test_booleans_and_text_booleans():
    log = ResponseLog.from_frame(frame([("p", "a", True), ("p", "b", False)]))
    assert log.answers.tolist() == [1, 0]
    log = ResponseLog.from_frame(frame([("p", "a", "true"), ("p", "b", "0"), ("q", "a", "1")]))
    assert log.answers.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2, "expected 0/1"),
        ("maybe", "unknown answer 'maybe'"),
        (np.nan, "missing value"),
        ("", "missing value"),
        (0.5, "expected 0/1"),
    ],
)
def test_bad_answer_names_row_and_field(value, message):
    df = frame([("p", "a", 1), ("p", "b", 0), ("q", "a", value)])
    with pytest.raises(DataError, match=message) as info:
        ResponseLog.from_frame(df, path="answers.csv")
    assert info.value.row == 3 and info.value.field == "correct"
    assert str(info.value).startswith("answers.csv row 3 field 'correct'")


@pytest.mark.parametrize(
    ("pid", "message"),
    [(None, "missing value"), (1.5, "strings or integers"), (True, "strings or integers")],
)
def test_bad_ids(pid, message):
    df = pd.DataFrame(
        {"person_id": ["a", pid, "c"], "item_id": ["x", "y", "z"], "correct": [1, 0, 1]}
    )
    with pytest.raises(DataError, match=message) as info:
        ResponseLog.from_frame(df)
    assert info.value.row == 2 and info.value.field == "person_id"


def test_mixed_id_types_rejected():
    df = pd.DataFrame({"person_id": ["a", 2], "item_id": ["x", "y"], "correct": [1, 0]})
    with pytest.raises(DataError, match="mix strings and integers"):
        ResponseLog.from_frame(df)


def test_missing_column_and_empty():
    with pytest.raises(DataError, match="missing column") as info:
        ResponseLog.from_frame(pd.DataFrame({"person_id": [1], "item_id": [1]}))
    assert info.value.field == "correct"
    with pytest.raises(DataError, match="empty"):
        ResponseLog.from_frame(frame([]))


@pytest.mark.parametrize(("keep", "value"), [("first", 1), ("last", 0)])
def test_duplicates_kept_per_policy_and_warned(keep, value):
    df = frame([("p", "a", 1), ("p", "b", 1), ("p", "a", 0)])
    with pytest.warns(DataWarning, match="1 duplicate"):
        log = ResponseLog.from_frame(df, keep=keep)
    assert log.n_answers == 2
    got = dict(zip(log.item_ids[log.indices], log.answers, strict=True))
    assert got["a"] == value
    assert log.describe().n_duplicates_dropped == 1


def test_read_csv_and_parquet(tmp_path):
    df = pd.DataFrame(
        {
            "person_id": [10, 10, 11],
            "item_id": ["007", "8", "007"],
            "correct": ["ok", "ko", "timedout"],
        }
    )
    csv = tmp_path / "a.csv"
    df.to_csv(csv, index=False)
    log = read_responses(csv)
    assert log.person_ids.tolist() == [10, 11]  # integer ids stay integers
    assert log.person_ids.dtype == np.int64
    assert log.item_ids.tolist() == ["007", "8"]  # leading zero: kept as a string
    assert log.answers.tolist() == [1, 0, 0]
    pq = tmp_path / "a.parquet"
    df.to_parquet(pq)
    log2 = read_responses(pq, statuses="missing")
    assert log2.n_answers == 2


def test_read_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,item_id,correct\np,a,1\np,b,yes\n")
    with pytest.raises(DataError) as info:
        read_responses(bad)
    assert str(info.value) == f"{bad} row 2 field 'correct': unknown answer 'yes': " + (
        "expected 0/1, true/false or a Pix status (" + ", ".join(PIX_STATUSES) + ")"
    )
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("who,what,correct\np,a,1\n")
    with pytest.raises(DataError, match="missing column") as info:
        read_responses(nocol)
    assert info.value.field == "person_id" and info.value.path == str(nocol)
    for name, text, msg in [
        ("empty.csv", "", "empty file"),
        ("header.csv", "person_id,item_id,correct\n", "header only"),
    ]:
        f = tmp_path / name
        f.write_text(text)
        with pytest.raises(DataError, match=msg):
            read_responses(f)
    with pytest.raises(DataError, match="no such file"):
        read_responses(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="unknown format"):
        (tmp_path / "x.xlsx").write_text("x")
        read_responses(tmp_path / "x.xlsx")


def test_custom_column_names(tmp_path):
    f = tmp_path / "c.csv"
    pd.DataFrame({"user": [1, 2], "challenge": ["c1", "c1"], "result": ["ok", "ko"]}).to_csv(
        f, index=False
    )
    log = read_responses(f, person="user", item="challenge", correct="result")
    assert log.answers.tolist() == [1, 0]


def test_from_wide_frame_and_array():
    wide = pd.DataFrame({"i1": [1, np.nan, 0], "i2": [np.nan, 1, 1]}, index=["p1", "p2", "p3"])
    log = ResponseLog.from_wide(wide)
    assert log.person_ids.tolist() == ["p1", "p2", "p3"]
    assert log.indptr.tolist() == [0, 1, 2, 4]
    np.testing.assert_array_equal(log.to_dense(), wide.to_numpy())
    arr = ResponseLog.from_wide(np.array([[1, 0], [np.nan, 1]]))
    assert arr.person_ids.tolist() == [0, 1] and arr.item_ids.tolist() == [0, 1]
    assert arr.n_answers == 3


def test_from_wide_bad_cell_names_person_and_item():
    wide = pd.DataFrame({"i1": [1, 0], "i2": [1, 3]}, index=["p1", "p2"])
    with pytest.raises(DataError) as info:
        ResponseLog.from_wide(wide, path="w.csv")
    assert info.value.row == 2 and info.value.field == "i2" and "'p2'" in str(info.value)


def test_describe_reports_degenerate_items_and_persons():
    df = frame(
        [
            ("p", "easy", 1),
            ("q", "easy", 1),
            ("p", "hard", 0),
            ("q", "hard", 0),
            ("q", "mid", 1),
            ("p", "mid", 0),
        ]
    )
    log = ResponseLog.from_frame(df).subset(items=["easy", "hard", "mid"])
    d = log.describe()
    assert d.items_all_correct == ["easy"] and d.items_all_wrong == ["hard"]
    sub = log.subset(items=["easy"])
    assert sub.describe().n_persons_all_correct == 2
    wide = ResponseLog.from_wide(pd.DataFrame({"a": [1, 0], "never": [np.nan, np.nan]}))
    assert wide.describe().items_unanswered == ["never"]
    text = str(wide.describe())
    assert "items answered by nobody: 1 (never)" in text


def test_subset_by_persons_and_items():
    df = frame([("p", "a", 1), ("p", "b", 0), ("q", "a", 0), ("r", "b", 1)])
    log = ResponseLog.from_frame(df)
    sub = log.subset(items=["b"], persons=["r", "p"])
    out = sub.to_frame()
    assert out.values.tolist() == [["r", "b", 1], ["p", "b", 0]]
    with pytest.raises(DataError, match="'zz' is not in the log"):
        log.subset(persons=["zz"])


def test_split_is_reproducible_and_partitions():
    rng = np.random.default_rng(0)
    df = frame([(f"p{i}", f"i{j}", int(rng.random() < 0.5)) for i in range(50) for j in range(20)])
    log = ResponseLog.from_frame(df)
    s1 = log.split(0.2, seed=7)
    s2 = log.split(0.2, seed=7)
    np.testing.assert_array_equal(s1.test.indices, s2.test.indices)
    assert s1.train.n_answers + s1.test.n_answers == log.n_answers
    assert 100 < s1.test.n_answers < 300
    both = pd.concat([s1.train.to_frame(), s1.test.to_frame()])
    pd.testing.assert_frame_equal(
        both.sort_values(["person_id", "item_id"]).reset_index(drop=True),
        log.to_frame().sort_values(["person_id", "item_id"]).reset_index(drop=True),
    )
    with pytest.raises(DataError, match="fraction"):
        log.split(1.0)


def test_memory_footprint_is_sparse():
    n = 300_000
    log = ResponseLog(
        np.arange(n + 1) * 30,
        np.zeros(n * 30, dtype=np.int32),
        np.ones(n * 30, dtype=np.int8),
        np.arange(n),
        np.arange(1),
    )
    nbytes = log.indptr.nbytes + log.indices.nbytes + log.answers.nbytes
    assert (
        nbytes / log.n_answers < 5.5
    )  # int32 + int8 per answer + int64 per person: 30M answers ≈ 160 MB


# ---------------------------------------------------------------- property tests
ids = st.one_of(st.text(min_size=1, max_size=4), st.integers(0, 10**6))
answer = st.sampled_from([0, 1])


@st.composite
def long_frames(draw):
    use_int = draw(st.booleans())
    id_st = st.integers(0, 30) if use_int else st.text(alphabet="abcxyz", min_size=1, max_size=3)
    n = draw(st.integers(1, 60))
    rows = draw(
        st.lists(
            st.tuples(id_st, id_st, answer),
            min_size=n,
            max_size=n,
            unique_by=lambda r: (r[0], r[1]),
        )
    )
    return frame(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=long_frames())
def test_round_trip_frame_log_frame_is_exact(df):
    log = ResponseLog.from_frame(df)
    out = log.to_frame()
    # grouped by person in first-appearance order, within-person order kept
    order = np.argsort(pd.factorize(df["person_id"])[0], kind="stable")
    expected = df.iloc[order].reset_index(drop=True).astype({"correct": np.int8})
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert out["correct"].dtype == np.int8
    again = ResponseLog.from_frame(out)
    pd.testing.assert_frame_equal(again.to_frame(), out)
    for name in ("indptr", "answers", "person_ids"):
        np.testing.assert_array_equal(getattr(again, name), getattr(log, name))
    assert set(again.item_ids.tolist()) == set(log.item_ids.tolist())


bad_cell = st.one_of(
    st.text(max_size=6).filter(
        lambda s: (
            s.strip()
            not in {
                "0",
                "1",
                "true",
                "false",
                "True",
                "False",
                "TRUE",
                "FALSE",
                "1.0",
                "0.0",
                *PIX_STATUSES,
            }
        )
    ),
    st.integers().filter(lambda v: v not in (0, 1)),
    st.floats().filter(lambda v: v not in (0.0, 1.0)),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(bad=bad_cell, where=st.integers(0, 4))
def test_any_malformed_answer_is_a_data_error(bad, where):
    cells = [1, 0, "ok", "ko", 1]
    cells[where] = bad
    df = pd.DataFrame(
        {
            "person_id": list("abcde"),
            "item_id": ["i"] * 5,
            "correct": pd.Series(cells, dtype=object),
        }
    )
    with pytest.raises(DataError) as info:
        ResponseLog.from_frame(df)
    assert info.value.row == where + 1 and info.value.field == "correct"


bad_id = st.one_of(
    st.none(),
    st.floats(allow_nan=True).filter(
        lambda v: not float(v).is_integer() if np.isfinite(v) else True
    ),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
)


@settings(max_examples=200, deadline=None)
@given(bad=bad_id, where=st.integers(0, 2), column=st.sampled_from(["person_id", "item_id"]))
def test_any_malformed_id_is_a_data_error(bad, where, column):
    values = pd.Series(["a", "b", "c"], dtype=object)
    values[where] = bad
    df = pd.DataFrame(
        {"person_id": ["p", "q", "r"], "item_id": ["x", "y", "z"], "correct": [1, 0, 1]}
    )
    df[column] = values
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError) as info:
            ResponseLog.from_frame(df)
    assert info.value.field == column


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet='ab,01\n"ok;x ', max_size=80))
def test_any_csv_text_gives_a_log_or_a_data_error(tmp_path_factory, text):
    f = tmp_path_factory.mktemp("csv") / "f.csv"
    f.write_text("person_id,item_id,correct\n" + text)
    try:
        log = read_responses(f)
    except DataError:
        return
    assert log.n_answers >= 1


def test_csv_and_parquet_errors_point_at_the_first_bad_row(tmp_path):
    # Arrow-dictionary path: the row is found from the codes, not from a Python loop
    csv = tmp_path / "ids.csv"
    csv.write_text("person_id,item_id,correct\np,a,ok\nq,a,ko\n,b,ok\nr,b,ok\n")
    with pytest.raises(DataError) as info:
        read_responses(csv)
    assert (info.value.row, info.value.field) == (3, "person_id")
    df = pd.DataFrame(
        {
            "person_id": ["p", "q", "r", "s"],
            "item_id": ["a"] * 4,
            "correct": ["ok", "ko", "ok", "oops"],
        }
    )
    pq = tmp_path / "bad.parquet"
    df.to_parquet(pq)
    with pytest.raises(DataError, match="unknown answer 'oops'") as info:
        read_responses(pq)
    assert (info.value.row, info.value.field, info.value.path) == (4, "correct", str(pq))
    many = tmp_path / "many.csv"
    rows = "".join(f"p{i},i{i % 7},{'ok' if i % 3 else 'ko'}\n" for i in range(500))
    many.write_text("person_id,item_id,correct\n" + rows + "p9,i1,2\n")
    with pytest.raises(DataError, match="unknown answer '2'") as info:
        read_responses(many)
    assert info.value.row == 501
