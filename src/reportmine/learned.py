"""The theme coder's optional learned model, trained by weak supervision.

A logistic regression over TF-IDF of tokens, trained on the paragraphs of the
bundled corpus that the keyword coder labels with confidence plus the
taxonomy's own keyword lists. :func:`reportmine.themes.classify_parsed` mixes
its probabilities in when called with ``use_model=True`` (off by default, and
no command or pipeline stage turns it on: on the dev gold it lowered primary
accuracy, see :mod:`reportmine.themes`). It is kept for that public parameter,
for researchers who train on their own corpus (:func:`weak_training_set`
takes paths). scikit-learn is imported only when a model is trained.

What it costs when on, on the 10 MB benchmark corpus (one process, caches
emptied, on a loaded two-core machine): classify 31.0 s vs 14.6 s without it,
as every heading and body is cut whole for the model's tokens (the keyword
coder cuts only the clauses that hold a term), plus 10.7 s to train, once per
process and taxonomy (2.4 s on an idle machine).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .matching import get_matcher
from .reading import read_file
from .samples import sample_corpus
from .taxonomy import Taxonomy, load_taxonomy

#: Weak labels: a paragraph is a training example when its best theme has at
#: least this much keyword evidence and this ratio over the runner-up.
WEAK_MIN_EVIDENCE = 2.0
WEAK_MIN_MARGIN = 1.5


def _identity(tokens: Any) -> Any:
    return tokens


@dataclass
class LearnedModel:
    """The weakly supervised model: vectorizer, classifier and the classes it knows."""

    vectorizer: Any
    classifier: Any
    classes: tuple[int, ...]
    examples: int

    def predict(self, token_lists: Sequence[Sequence[str]], n_themes: int) -> list[list[float]]:
        """Probabilities over all themes (zero for themes without training data)."""
        if not token_lists:
            return []
        proba = self.classifier.predict_proba(self.vectorizer.transform([list(t) for t in token_lists]))
        out = []
        for row in proba:
            full = [0.0] * n_themes
            for k, p in zip(self.classes, row, strict=True):
                full[k] = float(p)
            out.append(full)
        return out


_MODEL_LOCK = threading.Lock()
_MODELS: dict[Taxonomy, LearnedModel | None] = {}


def weak_training_set(taxonomy: Taxonomy | None = None,
                      paths: Iterable[str | Path] | None = None) -> list[tuple[tuple[str, ...], str]]:
    """Weakly labelled examples: (tokens, theme id) for every paragraph of the
    corpus (default: the bundled sample corpus) that the keyword coder labels
    with confidence, plus one example per theme made of its keywords.

    Sorted input, so the same corpus always gives the same list.
    """
    taxonomy = taxonomy or load_taxonomy()
    matcher = get_matcher(taxonomy)
    if paths is None:
        paths = sorted(sample_corpus().glob("*.txt"))
    examples: list[tuple[tuple[str, ...], str]] = []
    for path in sorted(Path(p) for p in paths):
        text = read_file(path).text
        for line in text.split("\n"):
            tokens = matcher.segmenter.cut(line.strip())
            if len(tokens) < 4:
                continue
            v = matcher.hits(tokens)
            ranked = sorted(range(len(v)), key=lambda k: (-v[k], k))
            best, second = v[ranked[0]], v[ranked[1]] if len(ranked) > 1 else 0.0
            if best >= WEAK_MIN_EVIDENCE and best >= WEAK_MIN_MARGIN * second:
                examples.append((tokens, matcher.ids[ranked[0]]))
    for theme in taxonomy.themes:
        tokens = tuple(t for k in theme.keywords for t in matcher.segmenter.cut(k))
        examples.append((tokens, theme.id))
    return examples


def train_model(taxonomy: Taxonomy) -> LearnedModel | None:
    """A model trained on :func:`weak_training_set` (``None`` when it has fewer than two themes)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = weak_training_set(taxonomy)
    index = {theme_id: i for i, theme_id in enumerate(taxonomy.ids)}
    labels = [index[label] for _, label in examples]
    if len(set(labels)) < 2:
        return None
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
    matrix = vectorizer.fit_transform([list(tokens) for tokens, _ in examples])
    # lbfgs is deterministic; balanced weights keep the themes with few weak
    # examples (often only their keyword list) from being drowned.
    classifier = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced", random_state=0)
    classifier.fit(matrix, labels)
    return LearnedModel(vectorizer, classifier, tuple(int(c) for c in classifier.classes_), len(examples))


def learned_model(taxonomy: Taxonomy) -> LearnedModel | None:
    """The model of a taxonomy, trained once per process (see :func:`train_model`)."""
    with _MODEL_LOCK:
        if taxonomy not in _MODELS:
            _MODELS[taxonomy] = train_model(taxonomy)
        return _MODELS[taxonomy]
