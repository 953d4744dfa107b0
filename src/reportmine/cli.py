"""The ``reportmine`` command: a thin layer over the library.

Each command builds its inputs, calls one library function per file and
writes the result. A bad file never stops a run: its error is printed to
stderr naming the file, the other files are processed, and the exit code is 1.
Exit codes: 0 ok, 1 at least one file failed, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .analysis import analyze as run_analysis
from .codebooks import codebook as build_codebook
from .codebooks import format_table
from .errors import ReportmineError
from .evaluate import agreement_files, format_agreement, format_evaluation
from .evaluate import evaluate as run_evaluation
from .inputs import InputFile, list_inputs
from .mentions import extract_parsed
from .model import Mention
from .outputs import OutputError, check_output_file, check_output_folder
from .parsing import parse_file
from .rendering import render_markdown, render_tree
from .safetext import CSV_LINE_END, spreadsheet_cell, spreadsheet_safe
from .samples import sample_corpus
from .segmentation import get_segmenter
from .settings import Settings
from .taxonomy import load_taxonomy
from .themes import classify_parsed

app = typer.Typer(
    name="reportmine",
    help="Turn Chinese hospital work reports into structured, comparable data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FILE_FAILED, EXIT_USAGE = 0, 1, 2

# readable=False: typer (click) would otherwise refuse the whole command for one unreadable path, a usage
# error; it is one failed file instead, and the others are processed.
PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Report files or folders. Default: the bundled sample corpus.", show_default=False,
                   readable=False),
]


class TokenizerName(str, Enum):
    """The tokenizers of reportmine.segmentation.TOKENIZERS (same tokens; rjieba is faster)."""

    jieba = "jieba"
    rjieba = "rjieba"


TokenizerOption = Annotated[
    TokenizerName | None,
    typer.Option("--tokenizer", help="Word segmenter: jieba, or rjieba (same tokens, faster; pip install rjieba). "
                                     "Default: jieba.", show_default=False),
]


def check_tokenizer(tokenizer: TokenizerName | None) -> str | None:
    """The chosen tokenizer's name; exits with a usage error if it cannot be used."""

    if tokenizer is None:
        return None
    try:
        get_segmenter(tokenizer=tokenizer.value)  # fails now, not once per file, if rjieba is missing
    except ReportmineError as exc:
        typer.echo(f"reportmine: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    return tokenizer.value


def _version(value: bool) -> None:
    if value:

        typer.echo(f"reportmine {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Turn Chinese hospital work reports (医院工作总结、工作计划) into structured, comparable data.

    Every command reads report files or folders (default: the bundled sample
    corpus). Exit codes: 0 ok, 1 a file failed (the others are still
    processed), 2 usage error.
    """


class ParseFormat(str, Enum):
    json = "json"
    jsonl = "jsonl"
    tree = "tree"
    markdown = "markdown"


def resolve_inputs(paths: list[Path] | None) -> list[InputFile]:
    """Expand the command's PATH arguments (default: the sample corpus) into files.

    Every path named or found is an input (see :func:`reportmine.inputs.list_inputs`): one that cannot be
    read fails when read, naming the problem; only finding no inputs at all is a usage error.
    """

    files = list_inputs(paths or [sample_corpus()])
    if not files:
        typer.echo("reportmine: no report files found in the given paths", err=True)
        raise typer.Exit(EXIT_USAGE)
    return files


def report_failure(path: Path, exc: Exception) -> None:
    typer.echo(f"reportmine: {exc}" if str(path) in str(exc) else f"reportmine: {path}: {exc}", err=True)


def report_internal_error(path: Path, exc: Exception) -> None:
    """An unexpected exception for one file (a bug, or a broken install): one line, and the run goes on."""
    typer.echo(f"reportmine: {path}: internal error: {type(exc).__name__}: {exc}", err=True)


def write_json(obj: object, pretty: bool) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1 if pretty else None) + "\n")


@app.command()
def parse(
    paths: PathsArgument = None,
    format: Annotated[ParseFormat, typer.Option("--format", "-f", help="Output format.")] = ParseFormat.tree,
    nested: Annotated[bool, typer.Option(help="JSON sections nested under 'children'.")] = False,
) -> None:
    """Parse reports into documents and section trees.

    Example: reportmine parse corpus/002_79988078600ed0aa.txt --format json

    With one file, --format json prints one object in the form of the gold
    files of the annotation guide; with several, a JSON array of them.
    """

    files = resolve_inputs(paths)
    failed = 0
    results = []
    for path in files:
        # Everything of one file is computed before any of it is written: a file that fails prints nothing.
        try:
            parsed = parse_file(path)
            if format in (ParseFormat.json, ParseFormat.jsonl):
                output: object = parsed.to_dict(nested=nested)
            else:
                output = render_tree(parsed) if format is ParseFormat.tree else render_markdown(parsed)
        except ReportmineError as exc:
            report_failure(path, exc)
            failed += 1
            continue
        except Exception as exc:  # one file's unexpected error must not stop the files after it
            report_internal_error(path, exc)
            failed += 1
            continue
        if format is ParseFormat.json:
            results.append(output)
        elif format is ParseFormat.jsonl:
            write_json(output, pretty=False)
        else:
            typer.echo(output)
    if format is ParseFormat.json:
        write_json(results[0] if len(files) == 1 and results else results, pretty=True)
    raise typer.Exit(EXIT_FILE_FAILED if failed else EXIT_OK)


class Engine(str, Enum):
    local = "local"
    dask = "dask"


@app.command()
def analyze(
    corpus: Annotated[
        list[Path] | None,
        typer.Argument(help="Report files or folders. Default: the bundled sample corpus.", show_default=False,
                       readable=False),  # as PathsArgument
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("reportmine-out"),
    meta: Annotated[
        Path | None,
        typer.Option("--meta", help="Manifest CSV: file[, document] -> hospital, region, level, year, extras."),
    ] = None,
    taxonomy: Annotated[Path | None, typer.Option("--taxonomy", help="Theme taxonomy TOML file.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: all cores).")] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    resume: Annotated[
        bool, typer.Option("--resume", help="Reuse the per-file results a killed run left in OUT/.reportmine/cache "
                                            "(by content hash).")
    ] = False,
    engine: Annotated[
        Engine, typer.Option("--engine", help="local: a process pool; dask: a Dask cluster (needs the dask extra).")
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster "
                                         "of --jobs workers)."),
    ] = None,
    tokenizer: TokenizerOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Write into a non-empty folder reportmine did not write, replacing "
                                               "files at the outputs' names (nothing else in it is touched).")
    ] = False,
) -> None:
    """Run the whole pipeline on a corpus: tables, comparisons, graphs and a report.

    Example: reportmine analyze corpus/ -o out/ --meta manifest.csv

    Writes OUT/<table>.parquet and .csv for files, documents, sections,
    mentions and section_themes, all of them into OUT/reportmine.duckdb,
    graphs as GEXF and GraphML under OUT/graphs/, and OUT/report.html.
    Files that fail are listed in the files table with their error; the exit
    code is then 1. Every output is written into OUT/.reportmine/runs/ and
    published as a whole when complete: OUT's entries are links to the
    current run, so a reader or a killed run never sees a mix of two runs.
    One run at a time writes OUT; files under OUT are never read as inputs.
    OUT must be new, empty or a reportmine output folder (else --overwrite).
    Each file's result is kept in OUT/.reportmine/cache while the run goes
    on; after a crash, --resume skips the files already done. Tables are
    streamed part by part (OUT/tables/<table>/part-NNNNN.parquet), so the
    per-file stages' memory does not grow with the corpus; --engine dask runs
    them on a Dask cluster (inputs and OUT on a file system every worker shares).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    settings = Settings(taxonomy=str(taxonomy) if taxonomy else None, tokenizer=check_tokenizer(tokenizer) or "jieba",
                        jobs=jobs, engine=engine.value, scheduler=scheduler)
    inputs = corpus or [sample_corpus()]
    total = _count_inputs(inputs, out, overwrite)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress, transient=True) as bar:
        task = bar.add_task("analysing", total=total)
        try:
            analysis = run_analysis(inputs, settings, meta=meta, out=out, overwrite=overwrite, resume=resume,
                                    on_result=lambda _result: bar.advance(task))
            analysis.write(out)
        except ReportmineError as exc:  # a bad manifest, taxonomy or output folder: nothing (more) to run on
            typer.echo(f"reportmine: {exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
    for _, row in analysis.failures.iterrows():
        typer.echo(f"reportmine: {row.error}", err=True)
    s = analysis.summary
    typer.echo(
        f"{s['files']} files ({s['ok']} ok, {s['failed']} failed), {s['documents']} documents, "
        f"{s['sections']} sections, {s['mentions']} mentions in {s['seconds']:.1f} s -> {out}"
    )
    raise typer.Exit(EXIT_FILE_FAILED if s["failed"] else EXIT_OK)


def _count_inputs(inputs: list[Path], out: Path, overwrite: bool) -> int:
    """The number of inputs, after checking OUT: a usage error, before any work, if either is unusable."""
    try:  # a folder that cannot be written is a usage error, not a traceback at the end
        check_output_folder(out, overwrite=overwrite)
    except OutputError as exc:
        typer.echo(f"reportmine: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    total = len(list_inputs(inputs, exclude=out))
    if not total:
        typer.echo("reportmine: no report files found in the given paths", err=True)
        raise typer.Exit(EXIT_USAGE)
    return total


class ExtractFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


@app.command()
def extract(
    paths: PathsArgument = None,
    format: Annotated[ExtractFormat, typer.Option("--format", "-f", help="Output format.")] = ExtractFormat.jsonl,
) -> None:
    """Extract numbers, dates, periods, frequencies, activities and documents with their spans.

    Example: reportmine extract corpus/002_79988078600ed0aa.txt --format jsonl

    --format jsonl prints one mention a line (type, text, start, end, line,
    col_start, col_end and the normalised fields of its type, as the mention
    guide defines them); with several files each line also names its file.
    --format csv prints one row per mention with a file column; --format
    table prints file, line, type, text and value.
    """
    import csv as csv_module


    files = resolve_inputs(paths)
    failed = 0
    columns = ["file", *Mention.__dataclass_fields__]
    writer = csv_module.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
    if format is ExtractFormat.csv:
        writer.writeheader()
    for path in files:
        try:
            mentions = [(mention, mention.to_dict()) for mention in extract_parsed(parse_file(path))]
        except ReportmineError as exc:
            report_failure(path, exc)
            failed += 1
            continue
        except Exception as exc:  # one file's unexpected error must not stop the files after it
            report_internal_error(path, exc)
            failed += 1
            continue
        for mention, row in mentions:
            if format is ExtractFormat.jsonl:
                write_json(row if len(files) == 1 else {"file": str(path), **row}, pretty=False)
            elif format is ExtractFormat.csv:
                # Formula-like text cells get a leading ' (safetext.spreadsheet_safe); numbers stay numbers.
                writer.writerow({key: spreadsheet_cell(value) for key, value in {"file": str(path), **row}.items()})
            else:
                value = next((row[k] for k in ("value", "name", "period", "per") if k in row), "")
                typer.echo(f"{path.name}\t{mention.line}\t{mention.type}\t{mention.text}\t{value}")
    raise typer.Exit(EXIT_FILE_FAILED if failed else EXIT_OK)


class ClassifyFormat(str, Enum):
    json = "json"
    table = "table"


TaxonomyOption = Annotated[
    Path | None, typer.Option("--taxonomy", help="Theme taxonomy TOML file (default: the shipped 20 themes).")
]


@app.command()
def classify(
    paths: PathsArgument = None,
    format: Annotated[ClassifyFormat, typer.Option("--format", "-f", help="Output format.")] = ClassifyFormat.table,
    taxonomy: TaxonomyOption = None,
    codebook: Annotated[
        Path | None, typer.Option("--codebook", help="Also write the codebook (CSV) of the taxonomy with counts.")
    ] = None,
    tokenizer: TokenizerOption = None,
) -> None:
    """Classify sections and documents into the hospital-management themes.

    Example: reportmine classify corpus/002_79988078600ed0aa.txt --format json

    With one file, --format json prints the parse JSON with "themes" (a list
    of {"id", "score"}, primary first) on every section and "scope" and
    "themes" on every document; with several, a JSON array of them. --format
    table prints one line per section: file, line, outline, primary theme.
    """

    try:
        rules = load_taxonomy(taxonomy)
        if codebook is not None:  # before the work, not after it
            check_output_file(codebook)
    except ReportmineError as exc:
        typer.echo(f"reportmine: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    tokenizer_name = check_tokenizer(tokenizer)
    files = resolve_inputs(paths)
    failed = 0
    results = []
    dicts = []
    for path in files:
        try:
            classified = classify_parsed(parse_file(path), rules, tokenizer=tokenizer_name)
            output = format_table(classified) if format is ClassifyFormat.table else classified.to_dict()
        except ReportmineError as exc:
            report_failure(path, exc)
            failed += 1
            continue
        except Exception as exc:  # one file's unexpected error must not stop the files after it
            report_internal_error(path, exc)
            failed += 1
            continue
        results.append(classified)
        if format is ClassifyFormat.table:
            typer.echo(output, nl=False)
        else:
            dicts.append(output)
    if format is ClassifyFormat.json:
        write_json(dicts[0] if len(files) == 1 and dicts else dicts, pretty=True)
    if codebook is not None:
        spreadsheet_safe(build_codebook(results, rules)).to_csv(codebook, index=False, lineterminator=CSV_LINE_END)
    raise typer.Exit(EXIT_FILE_FAILED if failed else EXIT_OK)


@app.command()
def evaluate(
    gold: Annotated[
        list[Path],
        typer.Argument(help="Gold files or folders: <stem>.json, <stem>.mentions.jsonl, <stem>.themes.json."),
    ],
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Folder of the corpus files <stem>.txt (default: beside the gold).")
    ] = None,
    taxonomy: TaxonomyOption = None,
    kappa: Annotated[
        bool, typer.Option("--kappa", help="Compare two annotators instead: GOLD is A1 B1 [A2 B2 …] theme files.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score reportmine against gold files written to the annotation guides.

    Example: reportmine evaluate tests/data/gold/ --corpus corpus/

    Prints the shared scorers' metrics: structure (headings, levels, documents),
    mentions (per type) and themes (primary, lenient, scope accuracy with
    per-theme precision, recall and F1). With --kappa, prints Cohen's kappa
    between two annotators' theme files given in pairs.
    """

    try:
        if kappa:
            if len(gold) % 2:
                typer.echo("reportmine: --kappa takes theme files in pairs (A B …)", err=True)
                raise typer.Exit(EXIT_USAGE)
            agreement = agreement_files(gold[::2], gold[1::2])
            if as_json:
                write_json(agreement, pretty=True)
            else:
                typer.echo(format_agreement(agreement), nl=False)
            raise typer.Exit(EXIT_OK)
        result = run_evaluation(gold, corpus=corpus, taxonomy=taxonomy)
    except ReportmineError as exc:
        typer.echo(f"reportmine: {exc}", err=True)
        raise typer.Exit(EXIT_FILE_FAILED) from None
    if as_json:
        write_json(result.to_dict(), pretty=True)
    else:
        typer.echo(format_evaluation(result), nl=False)
    raise typer.Exit(EXIT_OK)


def main() -> None:
    """Console-script entry point; usage errors exit with 2 (click's convention)."""
    app()
