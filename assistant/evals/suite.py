"""Eval suites as data: a YAML file declaring its corpus, thresholds and cases.

Every mistake in a suite file is reported on one line naming the file and the case, e.g.
``evals/seed.yaml: case 'troops-iraq': unknown field 'answer'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import InputError
from assistant.evals.scoring import SUITE_METRICS
from assistant.settings import packaged_path

M = TypeVar("M", bound=BaseModel)

SUITE_SUFFIXES = (".yaml", ".yml")
Day = date  # ExpectedEvent has a field called "date"


def evals_dir() -> Path:
    """The project's ``evals/`` folder (shipped inside the wheel as well)."""
    return packaged_path("evals")


def _as_list(value: Any) -> Any:
    # "answers: 2500" and "answers: [48, forty-eight]" mean what they say.
    return [value] if isinstance(value, (str, int, float)) else value


class ExpectedEvent(BaseModel):
    """One event a timeline must hold (listed in chronological order in the case)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    match: list[str] = Field(
        min_length=1,
        description="variants; one matches an event whose text has all its words (stemmed)",
    )
    date: Day | None = Field(None, description="the day the event must be dated")
    articles: list[str] = Field(
        min_length=1, description="articles that state it (id, url or exact title)"
    )

    _listify = field_validator("match", "articles", mode="before")(_as_list)


class ExpectedConflict(BaseModel):
    """Reports that disagree: every value the articles give for one thing."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    what: str = ""
    values: list[str] = Field(min_length=2)
    latest: str | None = Field(None, description="the value of the newest report")

    @model_validator(mode="after")
    def _latest_is_a_value(self) -> ExpectedConflict:
        if self.latest is not None and self.latest not in self.values:
            raise ValueError(f"latest {self.latest!r} is not one of the values")
        return self


class EvalCase(BaseModel):
    """One question and what a good answer to it looks like."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list, description="earlier questions, asked first")
    source: list[str] = Field(default_factory=list)
    since: date | None = None
    until: date | None = None
    reference_date: date | None = None
    answers: list[str] = Field(default_factory=list, description="accepted answer variants")
    articles: list[str] = Field(default_factory=list, description="id, url or exact title")
    refuse: bool = False
    tags: list[str] = Field(default_factory=list)
    # Developing stories (evals/developing.yaml)
    timeline: bool = Field(False, description="ask for a timeline (as `assistant timeline`)")
    events: list[ExpectedEvent] = Field(default_factory=list, description="in date order")
    not_articles: list[str] = Field(
        default_factory=list, description="look-alike articles that must not be cited"
    )
    conflicts: list[ExpectedConflict] | None = Field(
        None, description="conflicts the answer must report; [] = it must report none"
    )
    newest: str | None = Field(None, description="the newest figure, which the answer gives")
    as_of: date | None = Field(None, description="the answer's as-of date")
    stale: bool | None = Field(None, description="whether the answer warns it may be stale")

    _listify = field_validator("history", "source", "answers", "articles", "tags",
                               "not_articles", mode="before")(_as_list)

    @property
    def expects_developing(self) -> bool:
        return bool(self.events or self.conflicts is not None or self.newest is not None
                    or self.as_of is not None or self.stale is not None)

    @model_validator(mode="after")
    def _consistent(self) -> EvalCase:
        if self.refuse and (self.answers or self.articles or self.expects_developing):
            raise ValueError("a 'refuse: true' case cannot also list answers or articles (nor "
                             "events, conflicts, newest, as_of, stale)")
        if not self.refuse and not (self.answers or self.articles or self.expects_developing):
            raise ValueError("give 'answers' and/or 'articles', or 'refuse: true' (or, for "
                             "developing stories, events, conflicts, newest, as_of or stale)")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")
        return self

    @property
    def answerable(self) -> bool:
        return not self.refuse


class _SuiteHead(BaseModel):
    """A suite file without its cases (they are validated one by one, for clear errors)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str = ""
    corpus: list[str] = Field(
        default_factory=list, description="files/folders, relative to the suite file"
    )
    reference_date: date | None = None
    top_k: int | None = Field(None, ge=1, le=100)
    thresholds: dict[str, float] = Field(default_factory=dict)
    backend_thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    cases: list[Any] = Field(min_length=1)

    _listify = field_validator("corpus", mode="before")(_as_list)


class Suite(BaseModel):
    """A validated suite, with its corpus paths resolved."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: Path
    description: str = ""
    corpus: list[Path]
    reference_date: date | None = None
    top_k: int | None = None
    thresholds: dict[str, float]
    backend_thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    cases: list[EvalCase]

    def thresholds_for(self, backend: str) -> dict[str, float]:
        """The thresholds, with this backend's overrides applied."""
        return {**self.thresholds, **self.backend_thresholds.get(backend, {})}


def _validated(model: type[M], data: Any, where: str) -> M:
    """``data`` as ``model``, or an InputError naming ``where`` and the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{where}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    """The first validation error, as a short phrase."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown field '{field}'"
    if err["type"] == "missing":
        return f"missing '{field}'"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"'{field}': {message}" if field else message


def _check_metrics(names: Sequence[str], where: str) -> None:
    for name in names:
        if name not in SUITE_METRICS:
            raise InputError(f"{where}: unknown metric '{name}' in thresholds; "
                             f"known: {', '.join(SUITE_METRICS)}")


def load_suite(path: Path) -> Suite:
    """Read and validate a suite file; raise InputError with one line on any problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read suite ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InputError(f"{where}: not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with 'thresholds' and 'cases'")
    head = _validated(_SuiteHead, data, str(path))
    _check_metrics(list(head.thresholds), str(path))
    for backend, overrides in head.backend_thresholds.items():
        _check_metrics(list(overrides), f"{path}: backend_thresholds.{backend}")

    cases: list[EvalCase] = []
    seen: set[str] = set()
    for number, raw in enumerate(head.cases, start=1):
        label = f"case #{number}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), (str, int)):
            label = f"case '{raw['id']}'"
        if not isinstance(raw, dict):
            raise InputError(f"{path}: {label}: expected a mapping of fields")
        case = _validated(EvalCase, raw, f"{path}: {label}")
        if case.id in seen:
            raise InputError(f"{path}: {label}: duplicate id")
        seen.add(case.id)
        cases.append(case)

    base = path.parent
    corpus = [(base / c).resolve() for c in head.corpus] or [packaged_path("corpus")]
    for folder in corpus:
        if not folder.exists():
            raise InputError(f"{path}: corpus {folder} not found")
    return Suite(
        name=head.name or path.stem, path=path, description=head.description, corpus=corpus,
        reference_date=head.reference_date, top_k=head.top_k, thresholds=head.thresholds,
        backend_thresholds=head.backend_thresholds, cases=cases,
    )


def suite_files(names: Sequence[str], folder: Path | None = None) -> list[Path]:
    """Suite files for names in ``folder`` (default: the evals folder) or paths; all if none."""
    folder = folder or evals_dir()
    if not names:
        found = sorted(p for p in folder.glob("*") if p.suffix in SUITE_SUFFIXES)
        if not found:
            raise InputError(f"{folder}: no suite files (*.yaml) found")
        return found
    files: list[Path] = []
    for name in names:
        given = Path(name)
        if given.is_dir():
            files.extend(sorted(p for p in given.glob("*") if p.suffix in SUITE_SUFFIXES))
            continue
        if given.is_file():
            files.append(given)
            continue
        candidates = [folder / f"{name}{suffix}" for suffix in SUITE_SUFFIXES]
        match = next((c for c in candidates if c.is_file()), None)
        if match is None:
            known = ", ".join(sorted(p.stem for p in folder.glob("*")
                                     if p.suffix in SUITE_SUFFIXES)) or "none"
            raise InputError(f"{name}: no such suite file or suite in {folder} (known: {known})")
        files.append(match)
    return files
