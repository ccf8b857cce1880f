"""The records of ``clusters.json``: statement clusters whose members are references into PolNeAR.

PolNeAR may not be redistributed, so a member holds no text: the article and the annotator's layer
(the files under the PolNeAR root), the quote id the BRAT reader gives, the content's first start and
last end, and the sha256 of the content text (fragments joined by a space, as
``schemas.quote_mentions`` joins them), so anyone can check that nothing moved.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas import ToolkitError, sha256_of
from schemas.errors import first_error
from schemas.files import read_text
from schemas.models import Id
from schemas.quote_mentions import QuoteMention

CLUSTERS = Path(__file__).with_name("clusters.json")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Model):
    """One quote of one article, by position and hash."""

    article: Id = Field(description="The BRAT reader's article id: the text file's stem.")
    text_file: str = Field(description="Relative to the PolNeAR root.")
    ann_file: str = Field(description="The annotator's layer the quote comes from, relative to the root.")
    quote_id: Id
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of the content text, fragments joined by a space.")

    @property
    def key(self) -> str:
        """``article/quote_id``: ``QuoteMention.key`` and ``Rendering.key``."""
        return f"{self.article}/{self.quote_id}"


class Cluster(_Model):
    """One statement (gloss and occasion set) or one singleton (both None)."""

    id: Id
    speaker: Id
    gloss: str | None = None
    occasion: str | None = None
    members: list[Reference] = Field(min_length=1)

    def keys(self) -> list[str]:
        return [r.key for r in self.members]


_CLUSTERS = TypeAdapter(list[Cluster])


def reference_of(mention: QuoteMention, annotator: str, compartment: str) -> Reference:
    return Reference(article=mention.article_id, text_file=f"{compartment}/text/{mention.article_id}.txt",
                     ann_file=f"{compartment}/attributions/{mention.article_id}_{annotator}.ann",
                     quote_id=mention.quote_id, start=mention.start, end=mention.end,
                     sha256=sha256_of(mention.text))


def dump_clusters(clusters: list[Cluster]) -> str:
    """The file's exact text: one line per member, so a diff shows what moved."""
    lines = ["["]
    for i, c in enumerate(clusters):
        head = json.dumps({k: v for k, v in c.model_dump().items() if k != "members"}, ensure_ascii=False)
        members = ",\n".join("   " + json.dumps(r.model_dump(), ensure_ascii=False) for r in c.members)
        lines.append(f" {head[:-1]}, \"members\": [\n{members}\n ]}}" + ("," if i < len(clusters) - 1 else ""))
    lines.append("]")
    return "\n".join(lines) + "\n"


def read_clusters(path: Path = CLUSTERS) -> list[Cluster]:
    try:
        return _CLUSTERS.validate_json(read_text(path))
    except ValidationError as e:
        raise ToolkitError(f"{path}: {first_error(e)}; rebuild it with "
                           "`python -m benchmarks.polnear_statements.build`") from None


def verify(clusters: list[Cluster], mentions: dict[str, QuoteMention], annotators: dict[str, str],
           compartment: str, where: Path = CLUSTERS) -> None:
    """Raise ``ToolkitError`` unless every reference is what the corpus gives now for its quote (same layer,
    offsets and sha256 of the text), spoken by the cluster's speaker, and no quote is in two clusters.
    ``annotators``: the layer read for each article."""
    seen: dict[str, str] = {}
    for c in clusters:
        for r in c.members:
            m = mentions.get(r.key)
            if m is None:
                raise ToolkitError(f"{where}: {c.id}: {r.key} is not a quote of {r.ann_file}; the PolNeAR copy "
                                   "differs from the one the set was built on (restore it, or rebuild and re-judge)")
            if reference_of(m, annotators[m.article_id], compartment) != r:
                raise ToolkitError(f"{where}: {c.id}: {r.key} moved or changed in {r.text_file} (now "
                                   f"{m.start}-{m.end} in layer {annotators[m.article_id]}, expected {r.start}-{r.end} "
                                   f"in {r.ann_file}, or the sha256 of its text differs); restore the PolNeAR copy "
                                   "or rebuild and re-judge the set")
            if m.speaker != c.speaker:
                raise ToolkitError(f"{where}: {c.id}: {r.key} is spoken by {m.speaker!r}, not {c.speaker!r}; "
                                   "speakers.json or the speaker rules changed: rebuild the set")
            if r.key in seen:
                raise ToolkitError(f"{where}: {r.key} is in {seen[r.key]} and {c.id}; a quote renders one statement")
            seen[r.key] = c.id
