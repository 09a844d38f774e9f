"""pyvi word segmentation without importing scikit-learn.

pyvi ships a CRF model pickled inside a ``sklearn_crfsuite.CRF`` object, so
``from pyvi import ViTokenizer`` imports scikit-learn and takes over a second.
The model itself is a plain CRFsuite file: we unpickle only its bytes, open it
with python-crfsuite (which pyvi uses underneath) and compute pyvi's own
features, so the output is pyvi's, at a tenth of the start-up time. The model
is loaded lazily, on first use, once per process.

>>> segment("Sở Công Thương tỉnh Hoà Bình")
['Sở', 'Công_Thương', 'tỉnh', 'Hoà_Bình']
"""

from __future__ import annotations

import io
import os
import pickle
import re
import string
import tempfile
import threading
import unicodedata
from importlib import resources

import pycrfsuite

_PUNCTUATION = set(string.punctuation)
_lock = threading.Lock()
_state: dict = {}

# pyvi's syllabification (ViTokenizer.sylabelize), kept identical so the model sees
# the tokens it was trained on.
_TOKEN_RE = re.compile(
    "("
    + "|".join(
        [
            r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\.",
            r"==>", r"->", r"\.\.\.", r">>", "\n",
            r"\w+://[^\s]+", r"([a-zA-Z0-9_.+-]+@([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)",
            r"\d+([\.,_]\d+)+", r"[^\w\s]", r"\w+",
        ]
    )
    + ")",
    re.UNICODE,
)


class _Placeholder:
    """Stands in for sklearn_crfsuite classes while unpickling pyvi's model."""

    def __setstate__(self, state):
        self.__dict__.update(state)


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith("sklearn_crfsuite"):
            return _Placeholder
        return super().find_class(module, name)


def _load() -> tuple[pycrfsuite.Tagger, set[str], set[str]]:
    with _lock:
        if "tagger" in _state:
            return _state["tagger"], _state["bigrams"], _state["trigrams"]
        models = resources.files("pyvi") / "models"
        crf = _ModelUnpickler(io.BytesIO((models / "pyvi3.pkl").read_bytes())).load()
        model_bytes = crf.modelfile.__dict__["__FILE_RESOURCE_DATA__"]
        tagger = pycrfsuite.Tagger()
        # CRFsuite opens models by path; the file can go as soon as it is mapped.
        fd, path = tempfile.mkstemp(suffix=".crfsuite", prefix="vnsearch-pyvi-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(model_bytes)
            tagger.open(path)
        finally:
            os.unlink(path)
        bigrams, trigrams = set(), set()
        for line in (models / "words.txt").read_text(encoding="utf-8").split("\n"):
            n = line.count(" ")
            if n == 1:
                bigrams.add(line)
            elif n == 2:
                trigrams.add(line)
        _state.update(tagger=tagger, bigrams=bigrams, trigrams=trigrams)
        return tagger, bigrams, trigrams


def _features(tokens: list[str], bigrams: set[str], trigrams: set[str]) -> list[list[str]]:
    """pyvi's ViTokenizer.word2features for every token, as CRFsuite attribute names.

    pyvi passes dicts; python-crfsuite turns ``{"word.lower()": "hà"}`` into the attribute
    ``word.lower():hà`` with weight 1 and a boolean into weight 1 or 0. A zero-weight
    attribute adds nothing to a CRF's score, so listing only the true ones gives the
    same labels (a test checks) at about half the cost.
    """
    lower = [t.lower() for t in tokens]
    title = [t.istitle() for t in tokens]
    upper = [t.isupper() for t in tokens]
    n = len(tokens)
    items = []
    for i in range(n):
        f = ["bias", "word.lower():" + lower[i]]
        if upper[i]:
            f.append("word.isupper()")
        if title[i]:
            f.append("word.istitle()")
        if tokens[i].isdigit():
            f.append("word.isdigit()")
        if i > 0:
            f.append("-1:word.lower():" + lower[i - 1])
            if title[i - 1]:
                f.append("-1:word.istitle()")
            if upper[i - 1]:
                f.append("-1:word.isupper()")
            if f"{lower[i - 1]} {lower[i]}" in bigrams:
                f.append("-1:word.bi_gram()")
            if i > 1 and f"{lower[i - 2]} {lower[i - 1]} {lower[i]}" in trigrams:
                f.append("-2:word.tri_gram()")
        if i < n - 1:
            f.append("+1:word.lower():" + lower[i + 1])
            if title[i + 1]:
                f.append("+1:word.istitle()")
            if upper[i + 1]:
                f.append("+1:word.isupper()")
            if f"{lower[i]} {lower[i + 1]}" in bigrams:
                f.append("+1:word.bi_gram()")
            if i < n - 2 and f"{lower[i]} {lower[i + 1]} {lower[i + 2]}" in trigrams:
                f.append("+2:word.tri_gram()")
        items.append(f)
    return items


def _joinable(prev: str, cur: str) -> bool:
    """pyvi's rule for gluing a syllable labelled I_W to the previous one."""
    return not (
        cur in _PUNCTUATION
        or prev in _PUNCTUATION
        or cur[0].isdigit()
        or prev[0].isdigit()
        or (cur[0].istitle() and not prev[0].istitle())
    )


def segment(text: str) -> list[str]:
    """pyvi's words for ``text`` (case kept), syllables of one word joined by ``_``.

    Long texts are tagged one line at a time: the model's features only look two
    syllables around, and shorter sequences keep memory flat.
    """
    tagger, bigrams, trigrams = _load()
    words: list[str] = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        tokens = [m[0] for m in _TOKEN_RE.findall(line)]
        if not tokens:
            continue
        labels = tagger.tag(pycrfsuite.ItemSequence(_features(tokens, bigrams, trigrams)))
        current = tokens[0]
        for i in range(1, len(tokens)):
            if labels[i] == "I_W" and _joinable(tokens[i - 1], tokens[i]):
                current += "_" + tokens[i]
            else:
                words.append(current)
                current = tokens[i]
        words.append(current)
    return words
