"""The numbers a notebook's text quotes from its own output, checked against what the notebook computed.

A Markdown cell (narrative or model answer) writes such a number inside a marker that names it:

    under Xavier it still shrinks by about <span data-check="xavier_tanh_factor">2.2</span> from the output

and a code cell of the same notebook records the value under that name in the dict ``quoted``, which the
notebook's first code cell creates empty:

    quoted["xavier_tanh_factor"] = signal_norms["tanh", "xavier_normal"][-1] / signal_norms["tanh", "xavier_normal"][0]

The marker renders as its bare text in JupyterLab and in nbconvert's HTML. tests/course/test_notebooks.py runs each
solution once, reads ``quoted`` after the last cell (``RECORD`` below) and calls ``problems``:

- the written number may be ``2.2``, ``-0.8``, ``8,480``, ``1.2e-07``, ``$1.2\\cdot 10^{-7}$``, ``$10^{-10}$``
  (LaTeX inside the marker) or ``98%`` (compared as 0.98);
- the tolerance is the precision as written, unless the marker states one: the computed value must round to
  the written number (``2.2`` accepts 2.15 to 2.25, ``8,480`` 8,479.5 to 8,480.5, ``98%`` 0.975 to 0.985, and a
  bare power of ten ``$10^{-10}$`` any value whose decimal logarithm rounds to -10); ``data-rtol="0.1"``
  (relative to the computed value) or ``data-atol="0.02"`` (absolute) replace it, for a number written
  loosely ("about 2") or one that moves with the machine (a trained network's accuracy); ``data-bound="upper"``
  or ``"lower"`` makes the written number a bound the computed value must not cross ("under 60%", "more than
  10 times"), for a quantity that a long training amplifies from the rounding of the machine's matrix
  library (08's noisy sequence task: the same seeds give 22% or 53% under two OpenBLAS kernels);
- every marker's name must be recorded, and every recorded name must be marked somewhere in the notebook.

A failure names the notebook, the cell (its index, as ``tests/course/test_notebooks.py`` counts cells from 0, and its
id), the number as written and the one computed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Appended as the notebook's last cell by the notebook test: what it prints is read back as JSON.
RECORD = ("import json as _json\n"
          "print(_json.dumps({str(k): float(v) for k, v in globals().get('quoted', {}).items()}))")

MARKER = re.compile(r'<span data-check="(?P<name>[^"]*)"(?P<attributes>[^>]*)>(?P<text>.*?)</span>', re.S)
ATTRIBUTE = re.compile(r'\s+data-(?P<key>rtol|atol|bound)="(?P<value>[^"]*)"')
BOUNDS = {"upper": "at most", "lower": "at least"}
NAME = re.compile(r"[a-z][a-z0-9_]*")

_MANTISSA = r"(?P<sign>[-−]?)(?P<digits>\d[\d,]*)(?:\.(?P<decimals>\d+))?"
_PLAIN = re.compile(rf"{_MANTISSA}(?:[eE](?P<exponent>[-+]?\d+))?(?P<percent>\\?%)?")
_LATEX = re.compile(rf"(?:{_MANTISSA}\s*(?:\\cdot|\\times)\s*)?10\^\{{?(?P<exponent>[-−]?\d+)\}}?")


@dataclass(frozen=True)
class Marker:
    """One marked number: where it is, its name, the number as written and the tolerance it allows."""

    cell: int
    cell_id: str
    name: str
    written: str
    value: float
    rtol: float | None = None
    atol: float | None = None
    log10_only: bool = False  # a bare power of ten: only its order of magnitude is stated
    bound: str | None = None  # "upper" or "lower": the written number bounds the computed one

    def where(self, notebook: str) -> str:
        return f"{notebook}, cell {self.cell} (id {self.cell_id})"

    def allowed(self) -> str:
        if self.bound is not None:
            return f"{BOUNDS[self.bound]} it (data-bound={self.bound})"
        if self.rtol is not None:
            return f"within {self.rtol:g} of it, relative (data-rtol)"
        if self.atol is not None:
            return f"within {self.atol:g} of it (data-atol)"
        if self.log10_only:
            return "the same power of ten"
        return f"within {_half_unit(self.written):g} of it (as written)"

    def accepts(self, computed: float) -> bool:
        if not math.isfinite(computed):
            return False
        if self.bound is not None:
            return computed <= self.value if self.bound == "upper" else computed >= self.value
        if self.rtol is not None:
            return abs(computed - self.value) <= self.rtol * abs(computed)
        if self.atol is not None:
            return abs(computed - self.value) <= self.atol
        if self.log10_only:
            return computed > 0 and round(math.log10(computed)) == round(math.log10(self.value))
        return abs(computed - self.value) <= _half_unit(self.written) * (1 + 1e-9)


def parse_number(text: str) -> tuple[float, bool]:
    """(the value, whether it is a bare power of ten) of a number as a notebook writes it."""
    plain = " ".join(text.replace("$", " ").replace(r"\,", "").replace("{,}", ",").split())
    match = _PLAIN.fullmatch(plain) or _LATEX.fullmatch(plain)
    if not match:
        raise ValueError(f"Expected a number such as 2.6, 8,480, 1.2e-07, $1.2 \\cdot 10^{{-7}}$ or 98%. "
                         f"Received {text!r}.")
    parts = match.groupdict()
    exponent = int((parts.get("exponent") or "0").replace("−", "-"))
    if parts["digits"] is None:  # 10^{k}
        return 10.0 ** exponent, True
    mantissa = float(parts["digits"].replace(",", "") + "." + (parts["decimals"] or "0"))
    value = mantissa * 10.0 ** exponent * (-1 if parts["sign"] else 1)
    return value / 100 if parts.get("percent") else value, False


def _half_unit(written: str) -> float:
    """Half a unit in the last digit written: 0.05 for 2.6, 0.5e-7 for 1.2e-07, 0.005 for 98%."""
    plain = " ".join(written.replace("$", " ").replace(r"\,", "").replace("{,}", ",").split())
    match = _PLAIN.fullmatch(plain) or _LATEX.fullmatch(plain)
    parts = match.groupdict()
    exponent = int((parts.get("exponent") or "0").replace("−", "-"))
    unit = 10.0 ** (exponent - len(parts["decimals"] or ""))
    return unit / 2 / (100 if parts.get("percent") else 1)


def markers(cells: list[dict]) -> list[Marker]:
    """Every marker in the Markdown cells of a notebook's cells (nbformat dicts), in order.

    Raises ValueError naming the cell for a marker that cannot be read."""
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for match in MARKER.finditer(source):
            where = f"cell {index} (id {cell.get('id')})"
            if not NAME.fullmatch(match["name"]):
                raise ValueError(f"{where}: expected a marker name of lower-case letters, digits and _. "
                                 f"Received data-check={match['name']!r}.")
            tolerances = {m["key"]: m["value"] for m in ATTRIBUTE.finditer(match["attributes"])}
            if ATTRIBUTE.sub("", match["attributes"]).strip():
                raise ValueError(f"{where}: a marker takes only data-rtol, data-atol and data-bound. "
                                 f"Received {match['attributes'].strip()!r}.")
            bound = tolerances.pop("bound", None)
            if bound not in (None, *BOUNDS):
                raise ValueError(f"{where}, marker {match['name']!r}: expected data-bound=\"upper\" or \"lower\". "
                                 f"Received data-bound={bound!r}.")
            try:
                value, log10_only = parse_number(match["text"])
                rtol, atol = (float(tolerances[key]) if key in tolerances else None for key in ("rtol", "atol"))
            except ValueError as error:
                raise ValueError(f"{where}, marker {match['name']!r}: {error}") from None
            found.append(Marker(index, str(cell.get("id")), match["name"], match["text"], value,
                                rtol, atol, log10_only, bound))
    return found


def problems(notebook: str, cells: list[dict], quoted: dict[str, float]) -> list[str]:
    """One line per marked number that the notebook did not compute, or computed otherwise."""
    found = []
    marked = markers(cells)
    for marker in marked:
        if marker.name not in quoted:
            found.append(f"{marker.where(notebook)}: the text says {marker.written} for {marker.name!r}, "
                         f"which no cell records (quoted[{marker.name!r}] = ...)")
        elif not marker.accepts(quoted[marker.name]):
            found.append(f"{marker.where(notebook)}: the text says {marker.written} ({marker.name!r}), the notebook "
                         f"computed {quoted[marker.name]:.6g}; allowed: {marker.allowed()}")
    for name in sorted(set(quoted) - {marker.name for marker in marked}):
        found.append(f"{notebook}: quoted[{name!r}] = {quoted[name]:.6g} is recorded, but no marker in the text "
                     f"quotes it")
    return found
