"""What the student's kernel knows of a graded function: its name, arguments and
outputs, tolerances, how to call it, and the titles of its known mistakes. No
reference, no seed, no case maker: those stay on the instructor's side
(`autograde.chapters`). Specs ship inside each assignment's public-case file.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .compare import ATOL, RTOL


@dataclass(frozen=True)
class MistakeInfo:
    function: str
    key: str
    title: str
    explanation: str


@dataclass(frozen=True)
class Spec:
    name: str
    assignment: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    matches: str
    n_public: int = 3
    n_hidden: int = 4
    atol: float = ATOL
    rtol: float = RTOL
    prepare: str | None = None  # the name of a function in autograde.kernel.adapters (adapters.find)
    unpack: str | None = None
    mistakes: tuple[MistakeInfo, ...] = ()
    run: str | None = None  # a function in autograde.kernel.adapters that drives the student's
    # function over a whole case (e.g. an optimizer's step over 100 gradients): run(fn, inputs)
    uses: tuple[str, ...] = ()  # graded functions this one calls (its reference solution does)
    judge: str | None = None  # a function in autograde.kernel.adapters, judge(inputs, expected,
    # actual, reveal) -> Mismatch | None, for an answer with no single right value (a forecast)
    diagnose_with: str | None = None  # adapters.<name>(inputs, actual) -> the key of the known
    # mistake a wrong answer shows by a property (a shuffled split), where no output can match

    def compare(self, inputs: dict, expected: list, actual, reveal: bool = True):
        """None if `actual` is right for this case, else a Mismatch: the outputs compared
        with `expected` within the tolerances, or the spec's judge."""
        if self.judge:
            from . import adapters

            return adapters.find(self.judge)(inputs, expected, actual, reveal)
        from .compare import compare_outputs

        return compare_outputs(self.outputs, expected, actual, reveal=reveal, atol=self.atol, rtol=self.rtol)

    def call(self, fn, inputs: dict):
        """What the student's function gives on one case: fn(*call_args(inputs)), or, for a
        function graded over many calls, the `run` adapter's result of driving it."""
        if self.run:
            from . import adapters

            return adapters.find(self.run)(fn, inputs)
        return fn(*self.call_args(inputs))

    def call_args(self, inputs: dict) -> tuple:
        if self.prepare:
            from . import adapters

            return adapters.find(self.prepare)(inputs)
        return tuple(inputs[k] for k in self.inputs)

    def unpack_result(self, result):
        if self.unpack:
            from . import adapters

            return adapters.find(self.unpack)(result)
        return result

    def mistake(self, key: str) -> MistakeInfo:
        for m in self.mistakes:
            if m.key == key:
                return m
        raise KeyError(f"{self.name} has no known mistake {key!r}")

    def to_json(self) -> dict:
        data = asdict(self)
        for optional in ("run", "judge", "diagnose_with"):  # older specs stay as they were
            if data[optional] is None:
                del data[optional]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Spec":
        data = dict(data)
        data["inputs"], data["outputs"] = tuple(data["inputs"]), tuple(data["outputs"])
        data["mistakes"] = tuple(MistakeInfo(**m) for m in data.get("mistakes", ()))
        data["uses"] = tuple(data.get("uses", ()))
        return cls(**data)
