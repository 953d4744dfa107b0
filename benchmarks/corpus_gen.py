"""Generate a synthetic report corpus of a given size from the sample corpus.

Reports are recombined from real sample sections: each generated report gets
a varied hospital name and year in its title, a random subset of sections
from random sample reports, numbers in the text perturbed, a varied clause
naming a department and a count at the end of every section (five sample files
hold only about 1,300 sections: without it a third of the text would repeat
verbatim and token caches would flatter the throughput), and its numbering
re-written in a randomly chosen family set (一、/（一）/1、/（1）/①), so the
parser, extractor and classifier all do real work. Deterministic for a seed.

With ``--long N`` it writes N files of ``--mb``/N MB each instead, every one
a single long report (one title, thousands of sections nested three and four
deep, numbered on past 99), and with ``--run-on`` the same text with every
line break removed (one line per file, as a badly converted page gives): the
inputs whose memory must not grow with the size of one file.

Usage: python benchmarks/corpus_gen.py OUT_DIR --mb 10 [--seed 7] [--long 1 [--run-on]]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

import reportmine

_CN = "一二三四五六七八九十"
_FAMILIES = [
    ("{cn}、", "（{cn}）", "{n}、", "（{n}）"),
    ("{cn}、", "{n}.", "({n})", "{circled}"),
    ("第{cn}章 ", "{cn}、", "{n}、", "{n})"),
]
_PLACES = ["蚌埠市", "连州市", "安康市", "新市", "团河", "铁锁乡", "南通市", "宜昌市", "遵义市", "绵阳市"]
_UNITS = ["第一人民医院", "中医院", "妇幼保健院", "人民医院", "中心卫生院", "第二人民医院"]
_KINDS = ["工作总结", "工作计划", "年度工作总结及明年工作计划", "工作要点"]
_DEPARTMENTS = ["内科", "外科", "儿科", "妇产科", "急诊科", "检验科", "放射科", "药剂科", "护理部", "医务科",
                "院感科", "后勤保障科", "信息科", "财务科", "党办", "门诊部"]
_COUNTS = ["人次", "项", "次", "例", "名", "份"]
_DIGITS = re.compile(r"[0-9]+")


def _cn(n: int) -> str:
    if n <= 10:
        return _CN[n - 1]
    if n >= 100:  # 一百零五, 三百二十: long reports number on past 99
        rest = n % 100
        tail = "" if not rest else ("零" + _cn(rest) if rest < 10 else ("一" + _cn(rest) if rest < 20 else _cn(rest)))
        return _cn(n // 100) + "百" + tail
    return ("" if n < 20 else _CN[n // 10 - 1]) + "十" + (_CN[n % 10 - 1] if n % 10 else "")


def _marker(template: str, n: int) -> str:
    return template.format(cn=_cn(n), n=n, circled=chr(0x2460 + (n - 1) % 20))


def _sample_sections() -> list[tuple[int, str]]:
    """(level, body text without marker) of every sample section."""
    out = []
    for path in sorted(reportmine.sample_corpus().glob("*.txt")):
        parsed = reportmine.parse_file(path)
        for doc in parsed.documents:
            for section in doc.sections:
                heading = parsed.text[section.title_start:section.body_end].replace("\n", "")
                out.append((min(section.level, 4), heading))
    return out


def generate(out_dir: Path, megabytes: float, seed: int = 7) -> list[Path]:
    """Write reports into ``out_dir`` until they hold ``megabytes`` MB of UTF-8; return the paths."""
    rng = random.Random(seed)
    sections = _sample_sections()
    out_dir.mkdir(parents=True, exist_ok=True)
    budget = int(megabytes * 1_000_000)
    written = 0
    paths = []
    number = 0
    while written < budget:
        families = rng.choice(_FAMILIES)
        year = rng.randint(2010, 2024)
        hospital = rng.choice(_PLACES) + rng.choice(_UNITS)
        lines = [f"{hospital}{year}年{rng.choice(_KINDS)}", "", f"来源:{hospital} 发布时间:{year + 1}-01-15", ""]
        counters = [0, 0, 0, 0]
        for _ in range(rng.randint(8, 40)):
            level, text = rng.choice(sections)
            level = min(level, 1 + (counters[0] > 0) + (counters[1] > 0) + (counters[2] > 0))
            counters[level - 1] += 1
            for deeper in range(level, 4):
                counters[deeper] = 0
            text = _DIGITS.sub(lambda m: str(int(m.group(0)) * rng.randint(1, 3) + rng.randint(0, 9)), text)
            text += f"（{rng.choice(_DEPARTMENTS)}{rng.randint(2, 999)}{rng.choice(_COUNTS)}）"
            lines.append(_marker(families[level - 1], counters[level - 1]) + text)
            lines.append("")
        lines += [f"{hospital}", f"{year}年12月{rng.randint(1, 28)}日", ""]
        data = "\n".join(lines).encode("utf-8")
        path = out_dir / f"report_{number:06d}.txt"
        path.write_bytes(data)
        paths.append(path)
        written += len(data)
        number += 1
    return paths


def _long_report(rng: random.Random, sections: list[tuple[int, str]], budget: int) -> bytes:
    """One report of about ``budget`` bytes: a title, a meta line, then sections until the budget is spent."""
    families = rng.choice(_FAMILIES)
    year = rng.randint(2010, 2024)
    hospital = rng.choice(_PLACES) + rng.choice(_UNITS)
    lines = [f"{hospital}{year}年{rng.choice(_KINDS)}", "", f"来源:{hospital} 发布时间:{year + 1}-01-15", ""]
    written = sum(len(line.encode()) + 1 for line in lines)
    # About 330 bytes a section: a chapter every ~1/40 of the report and a sub-chapter every ~1/1600, so
    # the outline stays a few dozen wide at the top whatever the size, and the deep levels hold the rest.
    expected = max(budget // 330, 1)
    p1, p2 = min(0.3, 40 / expected), min(0.4, 1600 / expected)
    counters = [0, 0, 0, 0]
    while written < budget:
        _, text = rng.choice(sections)
        draw = rng.random()
        if counters[0] == 0 or draw < p1:
            level = 1
        elif counters[1] == 0 or draw < p1 + p2:
            level = 2
        else:
            level = 3 if counters[2] == 0 or rng.random() < 0.7 else 4
        counters[level - 1] += 1
        for deeper in range(level, 4):
            counters[deeper] = 0
        text = _DIGITS.sub(lambda m: str(int(m.group(0)) * rng.randint(1, 3) + rng.randint(0, 9)), text)
        text += f"（{rng.choice(_DEPARTMENTS)}{rng.randint(2, 999)}{rng.choice(_COUNTS)}）"
        line = _marker(families[level - 1], counters[level - 1]) + text
        lines += [line, ""]
        written += len(line.encode()) + 2
    lines += [f"{hospital}", f"{year}年12月{rng.randint(1, 28)}日", ""]
    return "\n".join(lines).encode("utf-8")


def generate_long(out_dir: Path, megabytes: float, files: int = 1, seed: int = 7, run_on: bool = False) -> list[Path]:
    """Write ``files`` long reports of ``megabytes / files`` MB each into ``out_dir``; return the paths.

    With ``run_on``, every line break is dropped: each file is one line.
    """
    rng = random.Random(seed)
    sections = _sample_sections()
    out_dir.mkdir(parents=True, exist_ok=True)
    budget = int(megabytes * 1_000_000 / files)
    paths = []
    for number in range(files):
        data = _long_report(rng, sections, budget)
        if run_on:
            data = data.replace(b"\n", b"")
        path = out_dir / f"long_{number:04d}.txt"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--long", type=int, default=0, metavar="N", help="N files, each one long report")
    parser.add_argument("--run-on", action="store_true", help="with --long: no line breaks")
    args = parser.parse_args()
    if args.long > 0:
        paths = generate_long(args.out_dir, args.mb, args.long, args.seed, args.run_on)
    else:
        paths = generate(args.out_dir, args.mb, args.seed)
    print(f"{len(paths)} reports, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB in {args.out_dir}")


if __name__ == "__main__":
    main()
