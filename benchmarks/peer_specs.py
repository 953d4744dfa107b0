"""Score reportmine's mention extractor on a peer library's public Chinese test suite.

The suite is Microsoft Recognizers-Text's Chinese specs (MIT), converted to
JSONL in tests/data/peer_specs/ (see its README.md for the schema and the
scoring notes followed here). Their types map to ours: number -> quantity,
percentage -> percent, currency -> money, date/time/datetime -> date.

A case counts as reproduced when every expected entity is found:
- number, percentage: one of our mentions contains the expected span and has
  its value (a number inside a date we report is "don't care", as the README
  advises); run with ``bare_numbers=True``, since the suite marks unitless numbers;
- currency: a money mention overlapping the span with the same value;
- date: a date mention overlapping the span whose year/month/day (and hour,
  minute) agree with the TIMEX where it states them.
A case expecting nothing is reproduced when we report nothing of that type.

Usage: python benchmarks/peer_specs.py [--json]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from reportmine.mentions import extract

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "peer_specs"
NUMERIC = ("quantity", "percent", "money")


def _load(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.rstrip("%"))
    except ValueError:
        return None


def _close(a: float | int | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _numeric_ok(case: dict, types: tuple[str, ...], containment: bool) -> bool:
    mentions = extract(case["input"], bare_numbers=True)
    expected = case["expected"]
    if not expected:
        return not any(m.type in types for m in mentions)
    for exp in expected:
        want = _as_float(exp["value"])
        found = False
        for m in mentions:
            if containment:
                inside = m.start <= exp["start"] and exp["end"] <= m.end
            else:
                inside = m.start < exp["end"] and exp["start"] < m.end
            if not inside:
                continue
            if m.type == "date" and types == ("quantity", "percent", "money"):
                found = True  # a number inside a date: don't care
                break
            if m.type in types and (_close(m.value, want) or _close(m.low, want)):
                found = True
                break
        if not found:
            return False
    return True


_TIMEX_DATE = re.compile(r"^(\d{4}|XXXX)-(\d{2}|XX)-(\d{2}|XX)(?:T(\d{2})(?::(\d{2}))?)?$")
_TIMEX_TIME = re.compile(r"^T(\d{2})(?::(\d{2}))?")


def _date_ok(case: dict) -> bool:
    mentions = [m for m in extract(case["input"]) if m.type == "date"]
    if not case["expected"]:
        return not mentions
    for exp in case["expected"]:
        timex = exp["value"] if isinstance(exp["value"], str) else ""
        parts: dict[str, int | None] = {}
        d = _TIMEX_DATE.match(timex)
        t = _TIMEX_TIME.match(timex)
        if d:
            y, mo, da, h, mi = d.groups()
            parts = {"year": None if y == "XXXX" else int(y), "month": None if mo == "XX" else int(mo),
                     "day": None if da == "XX" else int(da)}
            if h:
                parts["hour"] = int(h)
            if mi:
                parts["minute"] = int(mi)
        elif t:
            parts = {"hour": int(t.group(1))}
            if t.group(2):
                parts["minute"] = int(t.group(2))
        ok = any(m.start < exp["end"] and exp["start"] < m.end
                 and all(getattr(m, k) == v for k, v in parts.items()) for m in mentions)
        if not ok:
            return False
    return True


def run() -> dict[str, dict[str, float]]:
    """Shares of reproduced cases: number, percentage, currency, date."""
    suites = {
        "number": ([c for c in _load("number.jsonl") if c["model"] == "NumberModel"],
                   lambda c: _numeric_ok(c, NUMERIC, containment=True)),
        "percentage": (_load("percentage.jsonl"), lambda c: _numeric_ok(c, ("percent",), containment=True)),
        "currency": ([c for c in _load("number_with_unit.jsonl") if c["model"] == "CurrencyModel"],
                     lambda c: _numeric_ok(c, ("money",), containment=False)),
        "date": ([c for c in _load("datetime.jsonl")
                  if c["expected"] and all(e["rm_type"] == "date" for e in c["expected"])], _date_ok),
    }
    out = {}
    for name, (cases, check) in suites.items():
        passed = sum(1 for c in cases if check(c))
        out[name] = {"cases": len(cases), "reproduced": passed, "share": round(passed / len(cases), 4)}
    return out


def main(argv: list[str]) -> int:
    rows = run()
    if "--json" in argv:
        print(json.dumps(rows, indent=1))
    else:
        print(f"{'suite':12}{'cases':>7}{'ok':>6}{'share':>8}")
        for name, r in rows.items():
            print(f"{name:12}{r['cases']:7d}{r['reproduced']:6d}{r['share']:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
