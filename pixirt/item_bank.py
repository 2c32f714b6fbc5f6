"""Item banks: calibrated challenge parameters with their metadata.

An :class:`ItemBank` holds one row per item (challenge): ``item_id``, the parameters
``a`` (discrimination), ``b`` (difficulty) and ``c`` (lower asymptote, 0 unless 3PL),
their standard errors where known (``se_a``, ``se_b``, ``se_c``), the calibration
counts ``n_answers`` and ``p_correct``, and free metadata columns (competence, tube,
skill, level, type, ...) carried through untouched. It also carries the latent scale
it was calibrated on (``latent_mean``, ``latent_variance``) and the ``model``.

The parameterization is Pix's (see :mod:`pixirt.models`): ``P = c + (1 − c) /
(1 + exp(−a (θ − b)))``, no 1.7 constant. mirt's slope-intercept intercept is
``d = −a·b``.

A bank is immutable: every accessor returns a copy or a read-only view. Its ``hash``
is a SHA-256 of its canonical JSON content, so a session or a result can name the
exact bank it used.

File formats (:meth:`ItemBank.read`, :meth:`ItemBank.write`, chosen by suffix):

- ``.csv``: one header line, then one row per item, readable by ``pd.read_csv`` and
  R's ``read.csv`` with their defaults. The scale is carried in three last columns,
  ``irt_model``, ``latent_mean`` and ``latent_variance`` (the same value on every
  row; read back into the bank's scale, not kept as metadata); a CSV without them is
  read with the standard N(0, 1) scale and the model inferred from the parameters.
  The first line ``# pixirt-item-bank {...}`` of banks written before is still read.
  R's ``NA`` is a missing value. mirt's coefficient tables (``a1``/``d``/``g``/``u``
  or ``a``/``b``/``g``/``u``, item names in an unnamed first column as R's
  ``write.csv`` puts them) are read as such: see :meth:`ItemBank.from_mirt`,
  :meth:`ItemBank.to_mirt` and :meth:`ItemBank.write_mirt`. Floats are written with
  17 significant digits, so the round trip is exact. Codes such as ``competence``
  ``1.1`` stay strings.
- ``.parquet``: the columns with their types; the scale in the schema metadata.
- ``.json``: :meth:`ItemBank.to_dict`.
"""

from __future__ import annotations

from pixirt._bank_columns import CODE_COLUMNS as CODE_COLUMNS
from pixirt._bank_columns import MIRT_COLUMNS as MIRT_COLUMNS
from pixirt._bank_columns import PARAMETER_COLUMNS as PARAMETER_COLUMNS
from pixirt._bank_columns import SCALE_COLUMNS as SCALE_COLUMNS
from pixirt._bank_columns import STANDARD_COLUMNS as STANDARD_COLUMNS
from pixirt._bank_columns import FloatArray as FloatArray
from pixirt._bank_columns import _json_value as _json_value
from pixirt._item_bank import ItemBank

__all__ = ["ItemBank"]
