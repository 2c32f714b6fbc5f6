"""v3 sessions stepped together: the engine for one candidate and for a million.

A :class:`SessionBatch` holds ``n`` v3 certification sessions and steps them with the
engine's rules (``pix-rules.md`` §3): :meth:`~SessionBatch.choose` gives the next
challenge of some rows — the pool rules, the ranking by information
(:func:`pixirt.cat._ranking.rank`, fast and proven exact, or the engine's general
functions) and Pix's ``binaryTreeRandom`` pick, with the draws
``streams.uniform(seed, "v3.pick", candidate index, step · 64 + j)``;
:meth:`~SessionBatch.record` adds answers (the EAP update,
:meth:`~pixirt.cat.CapacityModel.update_rows`), :meth:`~SessionBatch.withdraw`
a validated live alert (the challenge and its skill leave the pool);
:meth:`~SessionBatch.results` scores every session (the scale over arrays for complete
sessions, :func:`~pixirt.cat.score` for the others: aborts and degradation,
fraud, jury neutralizations and cancellations).

The per-candidate engine (:mod:`pixirt.cat._engine`) is a batch of one; the simulator
(:mod:`pixirt.simulation`) steps chunks of thousands and only draws the candidates, their
answers and the incidents. A batch is mutable (updated in place); :meth:`copy` gives an
independent one (the engine copies its batch of one at each step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pixirt import _streams as streams
from pixirt.cat import _ranking as ranking
from pixirt.cat import _scale as scale
from pixirt.cat._capacity import CapacityState
from pixirt.cat._certification import Certification, CertificationChallenge, PositionedCompetence
from pixirt.cat._result import CertificationResult
from pixirt.cat._score_entry import score
from pixirt.cat._selection import SelectionState, pick_rank
from pixirt.exceptions import DataError

if TYPE_CHECKING:
    from pixirt.cat._runtime import Runtime

__all__ = ["PICK_STRIDE", "Choices", "SessionBatch", "V3Results", "certification_of"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: Counters per step of the v3 pick: the ``j``-th draw of step ``t`` is ``t · 64 + j``.
PICK_STRIDE = 64
_STATUS = {1: "ok", 0: "ko", -1: None}


@dataclass(frozen=True, slots=True, eq=False)
class Choices:
    """The next challenge of some rows of a batch.

    Attributes
    ----------
    rows
        ``(k,)`` the rows.
    ranked
        ``(k, top_n)`` the best challenges by information, best first (−1 past the end).
    rank
        ``(k,)`` the rank picked by ``binaryTreeRandom``.
    chosen
        ``(k,)`` the challenge served (bank position; −1 when the rules leave none).
    """

    rows: IntArray
    ranked: IntArray
    rank: IntArray
    chosen: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class V3Results:
    """Scores of a batch of v3 sessions, one entry per row.

    Attributes
    ----------
    status, comment, global_level
        ``(n,)`` objects: the outcome, Pix's comment (or None), the mesh name reached
        (None for a result with no score).
    pix_score, n_answers, mesh_index
        ``(n,)`` integers (``mesh_index`` −1 below the first interval; a result with no
        score — jury cancellation, fraud, too few answers — has pix 0 and mesh −1).
    capacity, error_rate
        ``(n,)`` the final capacity (after any degradation) and error rate.
    levels
        Competence code → ``(n,)`` certified level (NaN for none).
    """

    status: npt.NDArray[np.object_]
    comment: npt.NDArray[np.object_]
    global_level: npt.NDArray[np.object_]
    pix_score: IntArray
    n_answers: IntArray
    mesh_index: IntArray
    capacity: FloatArray
    error_rate: FloatArray
    levels: dict[str, FloatArray] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class SessionBatch:
    """``n`` v3 sessions (see the module doc). Build with :meth:`start`.

    Attributes
    ----------
    runtime
        The engine's structures for the bank and rule set.
    seed
        Seed of the pick draws.
    index
        ``(n,)`` candidate indices keying the draws.
    sel
        The pool rules' state.
    counts
        The challenges still available (the fast ranking's fallbacks).
    cap
        The capacity estimator's state.
    asked, status
        ``(n, width)``: the challenges served in order (−1 unused) and their answer
        (1 right, 0 wrong, −1 withdrawn after a live alert, −2 unused).
    n_asked
        ``(n,)`` challenges served (answered or withdrawn).
    fast
        Whether the shortlist ranking serves these rules (else the general one).
    """

    runtime: Runtime
    seed: int
    index: IntArray
    sel: SelectionState
    counts: ranking.AvailableCounts
    cap: CapacityState
    asked: IntArray
    status: npt.NDArray[np.int8]
    n_asked: IntArray
    fast: bool

    # ------------------------------------------------------------------ building
    @classmethod
    def start(
        cls,
        runtime: Runtime,
        index: npt.ArrayLike,
        *,
        seed: int,
        accessibility: npt.ArrayLike | None = None,
        fast: bool = True,
    ) -> SessionBatch:
        """Sessions before their first challenge.

        Parameters
        ----------
        runtime
            :func:`pixirt.cat._engine.build_runtime` of a v3 rule set.
        index
            ``(n,)`` candidate indices.
        seed
            Seed of the pick draws.
        accessibility
            ``(n,)``: the candidate needs accessible challenges (the bank's
            ``accessible`` column).
        fast
            Allow the shortlist ranking (False: the general ranking only, for tests).

        Raises
        ------
        DataError
            A candidate needs accessible challenges and the bank has no such column.
        """
        rules = runtime.rules
        sel_rules = rules.selection
        model = runtime.model
        assert sel_rules is not None and model is not None
        st = runtime.structure
        idx = np.asarray(index, dtype=np.int64).reshape(-1)
        n = len(idx)
        excluded = np.zeros((n, st.n_items), dtype=bool)
        if accessibility is not None:
            need = np.asarray(accessibility, dtype=bool).reshape(-1)
            if need.any():
                if st.accessible is None:
                    raise DataError(
                        "the candidate needs accessible challenges but the bank has no 'accessible' column",
                        field="accessible",
                    )
                excluded[need] = ~st.accessible
        sel = SelectionState.start(
            st, n, recent=sel_rules.challenges_between_same_competence, excluded=excluded
        )
        group, n_groups = _group(runtime)
        width = sel_rules.test_length + 8
        return cls(
            runtime=runtime,
            seed=int(seed),
            index=idx,
            sel=sel,
            counts=ranking.AvailableCounts.start(st, excluded, group, n_groups),
            cap=model.initial_state(n),
            asked=np.full((n, width), -1, dtype=np.int64),
            status=np.full((n, width), -2, dtype=np.int8),
            n_asked=np.zeros(n, dtype=np.int64),
            fast=fast and ranking.fast_path_applies(runtime),
        )

    def __len__(self) -> int:
        return len(self.index)

    @property
    def n_answers(self) -> IntArray:
        """``(n,)`` answers recorded (withdrawn challenges excluded)."""
        return self.sel.n_answers

    def over(self) -> BoolArray:
        """``(n,)``: the test is complete (``test_length`` answers)."""
        sel_rules = self.runtime.rules.selection
        assert sel_rules is not None
        return np.asarray(self.sel.n_answers >= sel_rules.test_length, dtype=bool)

    def copy(self) -> SessionBatch:
        """An independent copy (the arrays are copied)."""
        sel = self.sel
        return SessionBatch(
            runtime=self.runtime,
            seed=self.seed,
            index=self.index,
            sel=SelectionState(
                sel.excluded.copy(),
                sel.answered_tubes.copy(),
                sel.answered_skills.copy(),
                sel.seen_competences.copy(),
                sel.recent_competences.copy(),
                sel.n_answers.copy(),
            ),
            counts=self.counts.copy(),
            cap=CapacityState(
                self.cap.capacity.copy(),
                self.cap.error_rate.copy(),
                self.cap.raw_capacity.copy(),
                self.cap.log_likelihood.copy(),
                self.cap.n_answers.copy(),
            ),
            asked=self.asked.copy(),
            status=self.status.copy(),
            n_asked=self.n_asked.copy(),
            fast=self.fast,
        )

    # ------------------------------------------------------------------ stepping
    def choose(self, rows: npt.ArrayLike) -> Choices:
        """The next challenge of ``rows`` (sorted, distinct): pool rules, ranking, pick.

        A row whose pool is empty gets ``chosen`` −1 (Pix's
        ``AssessmentLackOfChallengesError``); the caller decides what that means.
        """
        r = np.asarray(rows, dtype=np.int64).reshape(-1)
        sel_rules = self.runtime.rules.selection
        assert sel_rules is not None
        ranked = ranking.rank(
            self.runtime, self.sel, self.counts, r, self.cap.capacity[r], self.fast
        )
        n_avail = (ranked >= 0).sum(axis=1)
        top_n = sel_rules.top_n
        step = self.n_asked[r]
        draws = streams.uniform(
            self.seed,
            "v3.pick",
            self.index[r][:, None],
            step[:, None] * PICK_STRIDE + np.arange(max(top_n - 1, 1)),
        )
        rank = pick_rank(draws, sel_rules.pick_probability, n_avail)
        chosen = np.where(n_avail > 0, ranked[np.arange(len(r)), rank], -1)
        return Choices(r, ranked, rank, chosen)

    def _served(self, r: IntArray, ch: IntArray, code: npt.ArrayLike) -> None:
        """Note the challenges served to rows ``r`` and their answer codes (widening as needed)."""
        if self.n_asked[r].max() >= self.asked.shape[1]:  # many live alerts
            width = self.asked.shape[1]
            self.asked = np.pad(self.asked, ((0, 0), (0, width)), constant_values=-1)
            self.status = np.pad(self.status, ((0, 0), (0, width)), constant_values=-2)
        step = self.n_asked[r]
        self.asked[r, step] = ch
        self.status[r, step] = code
        self.n_asked[r] += 1

    def record(self, rows: npt.ArrayLike, items: npt.ArrayLike, correct: npt.ArrayLike) -> None:
        """Answers to the challenges served to ``rows`` (sorted, distinct), in place.

        ``items`` must be the challenges :meth:`choose` gave; ``correct`` whether each
        answer is ``ok``.
        """
        r = np.asarray(rows, dtype=np.int64).reshape(-1)
        ch = np.asarray(items, dtype=np.int64).reshape(-1)
        ok = np.asarray(correct, dtype=bool).reshape(-1)
        if not len(r):
            return
        self._served(r, ch, ok.astype(np.int8))
        runtime = self.runtime
        st = runtime.structure
        sel_rules = runtime.rules.selection
        model = runtime.model
        assert sel_rules is not None and model is not None
        sel, counts = self.sel, self.counts
        group, _ = _group(runtime)
        # SelectionState.record, in place: the chosen challenges were in the pool (not excluded)
        sel.excluded[r, ch] = True
        grp, comp = group[ch], st.competence[ch]
        counts.avail_group[r, grp] -= 1
        counts.avail_comp[r, comp] -= 1
        # the challenge leaves the pool, then its group is answered: the rest of it too
        counts.pool_comp[r, comp] -= 1 + counts.avail_group[r, grp]
        sel.answered_tubes[r, st.tube[ch]] = True
        if st.skill is not None and sel.answered_skills.shape[1]:
            sel.answered_skills[r, st.skill[ch]] = True
        warm = sel.n_answers[r] >= sel_rules.warm_up_length
        sel.seen_competences[r[warm], comp[warm]] = True
        if sel.recent_competences.shape[1]:
            sel.recent_competences[r] = np.concatenate(
                [sel.recent_competences[r, 1:], comp[:, None]], axis=1
            )
        sel.n_answers[r] += 1
        if model.double_measures_until:
            self._recompute_capacity(r)
        else:
            model.update_rows(self.cap, r, _log_factor(runtime)[ok.astype(np.intp), ch])

    def withdraw(self, rows: npt.ArrayLike, items: npt.ArrayLike) -> None:
        """Validated live alerts on the challenges served to ``rows``: withdrawn, in place.

        The challenge and every challenge of its skill leave the pool; the next
        challenge is chosen again, with the draws of the next step.
        """
        r = np.asarray(rows, dtype=np.int64).reshape(-1)
        ch = np.asarray(items, dtype=np.int64).reshape(-1)
        if not len(r):
            return
        self._served(r, ch, np.int8(-1))
        st = self.runtime.structure
        sel, counts = self.sel, self.counts
        group, _ = _group(self.runtime)
        answered_group = sel.answered_tubes if group is st.tube else sel.answered_skills
        n_comp = len(st.competences)
        n_groups = counts.avail_group.shape[1]
        for row, item in zip(r.tolist(), ch.tolist(), strict=True):  # rare: a loop over alerts
            gone = np.zeros(st.n_items, dtype=bool)
            gone[item] = True
            if st.skill is not None:
                gone |= st.skill == st.skill[item]
            newly = gone & ~sel.excluded[row]
            counts.avail_group[row] -= np.bincount(group[newly], minlength=n_groups)
            counts.avail_comp[row] -= np.bincount(st.competence[newly], minlength=n_comp)
            open_group = newly & ~answered_group[row][group]
            counts.pool_comp[row] -= np.bincount(st.competence[open_group], minlength=n_comp)
            sel.excluded[row] |= gone
            counts.alerted[row] = True

    def _recompute_capacity(self, rows: IntArray) -> None:
        """Historical double measures: the capacity from all answers (rule sets of 2023 only)."""
        model = self.runtime.model
        assert model is not None
        st = self.runtime.structure
        for row in rows.tolist():  # historical rule sets only, replayed by the engine
            keep = self.status[row] >= 0
            items = self.asked[row][keep]
            hist = model.history(st.a[items], st.b[items], self.status[row][keep] == 1)
            final = float(hist.final_capacity)
            self.cap.capacity[row] = final
            self.cap.raw_capacity[row] = final
            self.cap.error_rate[row] = (
                float(hist.final_error_rate) if len(items) else model.error_rate_without_answers
            )
            self.cap.n_answers[row] = len(items)

    # ------------------------------------------------------------------ scoring
    def challenge_ids(self, row: int) -> list[str]:
        """The challenges served to ``row``, in order."""
        ids = self.runtime.structure.item_ids
        return [str(ids[i]) for i in self.asked[row, : self.n_asked[row]].tolist()]

    def statuses(self, row: int) -> list[str | None]:
        """The answers of ``row`` (``ok``/``ko``; None for a withdrawn challenge)."""
        return [_STATUS[int(s)] for s in self.status[row, : self.n_asked[row]].tolist()]

    def results(
        self,
        *,
        neutralized: npt.ArrayLike | None = None,
        abort_reason: npt.ArrayLike | None = None,
        fraud: npt.ArrayLike | None = None,
        cancelled: npt.ArrayLike | None = None,
        ids: Sequence[str] | None = None,
    ) -> V3Results:
        """Score every session of the batch (as :func:`~pixirt.cat.score` does).

        Parameters
        ----------
        neutralized
            ``(n, width)`` jury neutralizations, per step served.
        abort_reason
            ``(n,)`` ``"candidate"``, ``"technical"`` or ``""`` (not aborted).
        fraud, cancelled
            ``(n,)`` jury decisions.
        ids
            Certification ids (carried to :func:`score` for the unusual sessions).

        Returns
        -------
        V3Results
            Sessions are scored by the scale over arrays (:func:`pixirt.cat._scale.outcomes`:
            jury decisions, technical aborts, minimum answers); those abandoned by the
            candidate, whose capacity may be degraded, by :func:`~pixirt.cat.score`:
            the same rules. Jury neutralizations change nothing in v3.
        """
        n = len(self)
        rules = self.runtime.rules
        v3 = rules.v3
        neutral = (
            np.zeros(self.asked.shape, dtype=bool)
            if neutralized is None
            else np.asarray(neutralized, dtype=bool)
        )
        abort = (
            np.full(n, "", dtype=object)
            if abort_reason is None
            else np.asarray(abort_reason, dtype=object)
        )
        fr = np.zeros(n, dtype=bool) if fraud is None else np.asarray(fraud, dtype=bool)
        ca = np.zeros(n, dtype=bool) if cancelled is None else np.asarray(cancelled, dtype=bool)
        capacity = self.cap.capacity.copy()
        error_rate = self.cap.error_rate.copy()
        n_answers = self.sel.n_answers.copy()
        decided = scale.outcomes(
            capacity,
            v3,
            n_answers=n_answers,
            fraud=fr,
            cancelled=ca,
            technical_abort=abort == "technical",
        )
        # a result with no score (jury cancellation, fraud, too few answers) has pix 0,
        # no mesh (−1), no global level (None) and no competence level (NaN)
        pix = np.where(decided.scored, decided.pix_score, 0)
        mesh = np.where(decided.scored, decided.mesh_index, -1)
        status = decided.outcome_names()
        comment = decided.comment_names()
        global_level = decided.global_level_names(v3)
        codes = list(v3.competence_intervals)
        table = scale.competence_level_table(capacity, v3, codes).astype(np.float64)
        levels = {
            code: np.where((table[:, k] >= 0) & decided.leveled, table[:, k], np.nan)
            for k, code in enumerate(codes)
        }
        # the outcome rules apply to the batch's capacities as they are, except after an
        # abandon by the candidate, whose capacity may be degraded: those go to the scorer
        clean = abort != "candidate"
        for i in np.flatnonzero(~clean).tolist():  # unusual sessions: the scorer of one
            res = self.score_row(
                i,
                neutralized=neutral[i],
                abort_reason=str(abort[i]) or None,
                fraud=bool(fr[i]),
                cancelled=bool(ca[i]),
                id=None if ids is None else ids[i],
            )
            capacity[i], error_rate[i] = res.capacity, res.error_rate
            pix[i] = 0 if res.pix_score is None else res.pix_score
            mesh[i] = -1 if res.mesh_index is None else res.mesh_index
            status[i], comment[i] = res.status, res.comment
            n_answers[i] = res.n_answers or 0
            global_level[i] = res.global_level
            for code in levels:
                lv = res.competences[code].level if code in res.competences else None
                levels[code][i] = np.nan if lv is None else lv
        return V3Results(
            status=status,
            comment=comment,
            global_level=global_level,
            pix_score=pix.astype(np.int64),
            n_answers=n_answers.astype(np.int64),
            mesh_index=mesh.astype(np.int64),
            capacity=capacity,
            error_rate=error_rate,
            levels=levels,
        )

    def score_row(
        self,
        row: int,
        *,
        neutralized: npt.ArrayLike | None = None,
        abort_reason: str | None = None,
        fraud: bool = False,
        cancelled: bool = False,
        accessibility: bool = False,
        id: str | None = None,
    ) -> CertificationResult:
        """Score one session with :func:`~pixirt.cat.score`."""
        k = int(self.n_asked[row])
        neutral = (
            np.zeros(k, dtype=bool)
            if neutralized is None
            else np.asarray(neutralized, dtype=bool)[:k]
        )
        cert = certification_of(
            self.runtime,
            self.asked[row, :k],
            self.statuses(row),
            neutralized=neutral,
            abort_reason=abort_reason,
            accessibility=accessibility,
            id=id,
        )
        if fraud or cancelled:
            cert = Certification(
                challenges=cert.challenges,
                profile=cert.profile,
                abort_reason=cert.abort_reason,
                fraud=fraud,
                cancelled=cancelled,
                accessibility_adjustment=cert.accessibility_adjustment,
                id=cert.id,
            )
        return score(cert, self.runtime.rules, bank=self.runtime.bank)


def certification_of(
    runtime: Runtime,
    items: npt.ArrayLike,
    statuses: Sequence[str | None],
    *,
    neutralized: npt.ArrayLike,
    abort_reason: str | None = None,
    skipped: npt.ArrayLike | None = None,
    accessibility: bool = False,
    profile: dict[str, PositionedCompetence] | None = None,
    id: str | None = None,
) -> Certification:
    """A session as the :class:`~pixirt.cat.Certification` the scorer reads.

    Parameters
    ----------
    runtime
        The bank and rule set.
    items
        Bank positions of the challenges (v3: in the order asked; v2: the plan).
    statuses
        Their answers (None: withdrawn after a live alert in v3, unanswered in v2).
    neutralized
        Per challenge: neutralized by the jury.
    abort_reason
        ``candidate``, ``technical`` or None.
    skipped
        Per challenge: skipped automatically (v2: not answered when the session ended).
    accessibility
        The candidate needed accessible challenges.
    profile
        v2: the positioning profile.
    id
        The certification's id.
    """
    st = runtime.structure
    pos = np.asarray(items, dtype=np.int64).reshape(-1)
    neutral = np.asarray(neutralized, dtype=bool).reshape(-1)
    skip = np.zeros(len(pos), dtype=bool) if skipped is None else np.asarray(skipped, dtype=bool)
    v2 = runtime.rules.algorithm == "v2"
    challenges = [
        CertificationChallenge(
            challenge_id=str(st.item_ids[p]),
            competence=st.competences[int(st.competence[p])],
            tube=st.tubes[int(st.tube[p])],
            type=runtime.item_type[p],
            discriminant=float(st.a[p]),
            difficulty=float(st.b[p]),
            neutralized=bool(neutral[k]),
            skipped_automatically=bool(skip[k]),
            live_alert=not v2 and statuses[k] is None,
            status=statuses[k],  # type: ignore[arg-type]
        )
        for k, p in enumerate(pos.tolist())
    ]
    return Certification(
        challenges=challenges,
        profile=profile or {},
        abort_reason=abort_reason,  # type: ignore[arg-type]
        accessibility_adjustment=accessibility,
        id=id,
    )


def _group(runtime: Runtime) -> tuple[IntArray, int]:
    """The pool rule's groups: tubes (one question per tube) or skills (non-answered skills)."""
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    if sel_rules.one_question_per_tube or st.skill is None:
        return st.tube, len(st.tubes)
    return st.skill, len(st.skills)


def _log_factor(runtime: Runtime) -> FloatArray:
    """Every challenge's answer log-likelihood factors ``(2, n_items, n_grid)`` (kept with the bank)."""
    model = runtime.model
    assert model is not None
    st = runtime.structure

    def build() -> FloatArray:
        return model.log_likelihood_table(st.a, st.b)

    key = f"cat.log_factor/{model.grid_min}/{model.grid_max}/{model.grid_steps}/{model.grid_quirk}"
    table: FloatArray = runtime.bank.derived(key, build)
    return table
