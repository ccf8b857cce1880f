"""A loaded quote model: articles in, predicted documents out, like the baseline's ``extract``."""

from __future__ import annotations

from pathlib import Path

import pycrfsuite

from annotate.extract.model.assemble import assemble
from annotate.extract.model.features import ArticleFeatures
from annotate.extract.model.model_file import ModelInfo, read_model
from schemas import AnnotatedDocument, Article, ToolkitError


class QuoteModel:
    """The CRF of a model file, opened once and used for many articles."""

    def __init__(self, info: ModelInfo, tagger: bytes, path: Path) -> None:
        self.info = info
        self._bytes = tagger  # CRFsuite reads the model in place: the buffer must outlive the tagger
        self._tagger = pycrfsuite.Tagger()
        try:
            self._tagger.open_inmemory(tagger)
        except (ValueError, OSError, RuntimeError) as e:
            raise ToolkitError(f"{path}: damaged model file: CRFsuite cannot open the tagger ({e}); "
                               "train a new one with `annotate train`") from None

    @classmethod
    def load(cls, path: Path) -> QuoteModel:
        info, tagger = read_model(path)
        return cls(info, tagger, path)

    @property
    def name(self) -> str:
        return self.info.version

    def extract(self, article: Article) -> AnnotatedDocument:
        feats = ArticleFeatures(article)
        tagged = [self._tagger.tag(feats.features(seq)) for seq in feats.sequences]
        return assemble(article, feats, tagged, annotator=self.name, model_version=self.name)
