"""Each story's entity inventory for a preload, and its articles' baseline pre-annotations linked to it.

A story's inventory is built from, in this order (an earlier source's entry wins, a later one adds
names as aliases): the inventories given for the story (``seeds/entities.json``), then those for any
story; the story's earlier gold (whose names become aliases); the baseline extractor's entity
resolution over the story's articles. Every article of a story gets the same inventory, so a
participant has one id in every task of the story, and the baseline's entities are linked to it
(``EntityInventory.canonical``) before they become predictions, preselected in the picker. Then the
claim and stance rules complete each document (``annotate.extract.layers``; stances with the target
inventory the project's labeling config was made from), once its entities are final.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from annotate.extract.baseline import BASELINE_VERSION, extract
from annotate.extract.layers import with_claims_and_stances
from annotate.labelstudio.preload import prediction_for
from annotate.labelstudio.wire import Prediction
from schemas import AnnotatedDocument, Article, TargetInventory
from schemas.inventory import EntityInventory


def story_key(article: Article) -> str:
    """What groups articles into one inventory: the story, or (without one) the article's own text."""
    return article.story if article.story else f"sha256:{article.sha256}"


class StoryEntities:
    """The inventories of the stories of some articles, and those articles' baseline documents linked to them.

    ``inventory_for`` and ``predict`` are what ``preload.preload`` takes (``inventory_for=``, ``predict=``).
    Articles are known by their text (sha256), so a revision imported as ``<id>@r2`` finds its own.
    ``targets``: the stance targets of the predictions (None: claims only, no stances).
    """

    def __init__(self, inventories: dict[str, EntityInventory], baseline: dict[str, AnnotatedDocument],
                 extractor: Callable[[Article], AnnotatedDocument] = extract, targets: TargetInventory | None = None):
        self.inventories = inventories
        self._baseline = baseline  # sha256 -> the baseline's document of that text
        self._extract = extractor
        self.targets = targets

    @classmethod
    def build(
        cls,
        articles: Sequence[Article],
        *,
        inventories: Iterable[EntityInventory] = (),
        gold: Iterable[AnnotatedDocument] = (),
        extractor: Callable[[Article], AnnotatedDocument] = extract,
        targets: TargetInventory | None = None,
    ) -> StoryEntities:
        """Run the baseline over every article once and build each story's inventory (module docstring)."""
        given = list(inventories)
        stories: dict[str, list[Article]] = defaultdict(list)
        for article in articles:
            stories[story_key(article)].append(article)
        earlier: dict[str, list[AnnotatedDocument]] = defaultdict(list)
        for doc in gold:
            earlier[story_key(doc.article)].append(doc)
        baseline: dict[str, AnnotatedDocument] = {}
        built: dict[str, EntityInventory] = {}
        for key, members in stories.items():
            story = members[0].story
            inventory = EntityInventory(story=story)
            for base in [i for i in given if story is not None and i.story == story] + [
                    i for i in given if i.story is None]:
                inventory = inventory.extended(base.entities)
            inventory = inventory.extended((e for doc in earlier[key] for e in doc.entities), aliases=True)
            for article in members:
                if article.sha256 not in baseline:
                    baseline[article.sha256] = extractor(article)
            inventory = inventory.extended(e for a in members for e in baseline[a.sha256].entities)
            built[key] = inventory
        return cls(built, baseline, extractor, targets)

    def inventory_for(self, article: Article) -> EntityInventory:
        """The entity list of the article's story (empty for an article that was not built)."""
        return self.inventories.get(story_key(article)) or EntityInventory(story=article.story)

    def predict(self, article: Article) -> Prediction:
        """The baseline's pre-annotation of ``article``, its entities those of the story's list, preselected, with
        claims and stances."""
        inventory = self.inventory_for(article)
        doc = self._baseline.get(article.sha256)
        doc = doc.model_copy(update={"article": article}) if doc is not None else self._extract(article)
        version = doc.provenance.model_version or BASELINE_VERSION
        doc = with_claims_and_stances(inventory.canonical(doc), self.targets)
        return prediction_for(doc, version, entities=inventory)
