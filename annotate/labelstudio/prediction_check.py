"""A prediction's names checked against the project's labeling config, on the client, before it is sent.

Label Studio 1.23.2 runs ``LabelInterface.validate_prediction`` on every imported prediction, but with
the flags it ships (``fflag_feat_utc_210_prediction_validation_15082025`` off) a failure is only
logged and the prediction is saved anyway; and the predictions import skips the check altogether when
the server runs with ``fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short``. So
this is the check that holds whichever path a preload takes, and what it covers is exactly the names
that check looks at: each item's control (``from_name``) exists with its type and object
(``to_name``); its labels or choices are the config's (for dynamic choices, ``value="$key"``, the
task's own list, so that no prediction preselects an entity its task does not offer); every relation
joins two regions of the same prediction, with a label of ``<Relations>``. The value's shape is the
wire models' (``wire.LabelsValue`` needs start, end, text and labels) and the offsets are
``preload.check_offsets``'s.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, NoReturn

from annotate.labelstudio.wire import ChoicesResult, LabelsResult, RelationResult, ResultItem
from schemas import ToolkitError

_VALUED = {"labels": "Label", "choices": "Choice"}  # control tag -> the tag of its values


class Control(NamedTuple):
    tag: str  # lower case, as a result's ``type``
    to_names: frozenset[str]
    values: frozenset[str]  # allowed labels or choices (empty for a text area)
    dynamic: str | None  # the task data key of dynamic choices (value="$key"), else None


class ConfigNames:
    """The controls of one labeling config, parsed once; ``check`` runs per prediction."""

    def __init__(self, controls: Mapping[str, Control], relations: frozenset[str] | None):
        self.controls = dict(controls)
        self.relations = relations  # None: the config declares no <Relations>, any label goes

    @classmethod
    def parse(cls, label_config: str) -> ConfigNames:
        try:
            root = ET.fromstring(label_config)
        except ET.ParseError as e:
            raise ToolkitError(f"the project's labeling config is not XML ({e}); run `annotate init` again") from None
        controls: dict[str, Control] = {}
        relations: set[str] | None = None
        for node in root.iter():
            tag = node.tag.lower()
            if tag == "relations":
                relations = (relations or set()) | {r.get("value", "") for r in node.iter("Relation")}
            name, to_name = node.get("name"), node.get("toName")
            if name is None or to_name is None:
                continue  # an object tag (Text) or layout
            source = node.get("value", "")
            values = frozenset(v.get("value", "") for v in node.iter(_VALUED[tag])) if tag in _VALUED else frozenset()
            controls[name] = Control(tag, frozenset(to_name.split(",")), values,
                                     source[1:] if tag == "choices" and source.startswith("$") else None)
        return cls(controls, None if relations is None else frozenset(relations))

    def check(self, article_id: str, results: Sequence[ResultItem], data: Mapping[str, Any]) -> None:
        """Raise ``ToolkitError`` at the first item the config (or the task's ``data``) does not allow."""
        regions = {item.id for item in results if not isinstance(item, RelationResult)}
        for item in results:
            if isinstance(item, RelationResult):
                missing = [end for end in (item.from_id, item.to_id) if end not in regions]
                bad = [label for label in item.labels if self.relations is not None and label not in self.relations]
                if missing or bad:
                    self._fail(article_id, f"relation {item.from_id!r} -> {item.to_id!r}",
                               f"joins no region {missing[0]!r}" if missing else f"has the label {bad[0]!r}, "
                               f"not one of <Relations> ({', '.join(sorted(self.relations or ()))})")
                continue
            control = self.controls.get(item.from_name)
            if control is None or control.tag != item.type or item.to_name not in control.to_names:
                self._fail(article_id, f"region {item.id!r}", f"names {item.type} control {item.from_name!r} on "
                           f"{item.to_name!r}, which the labeling config does not have")
            chosen = (item.value.labels if isinstance(item, LabelsResult)
                      else item.value.choices if isinstance(item, ChoicesResult) else [])
            allowed = control.values if control.dynamic is None else _dynamic_values(data.get(control.dynamic))
            for value in chosen:
                if value not in allowed:
                    where = f"the task's {control.dynamic!r} list" if control.dynamic else "the labeling config"
                    self._fail(article_id, f"region {item.id!r}",
                               f"gives {item.from_name} {value!r}, which {where} does not offer")

    @staticmethod
    def _fail(article_id: str, what: str, why: str) -> NoReturn:
        raise ToolkitError(
            f"article {article_id!r}: prediction {what} {why}; the extractor, converter or labeling config is out "
            "of step (run `annotate init` to update the config, or preload with --no-predictions meanwhile)"
        )


def _dynamic_values(options: Any) -> frozenset[str]:
    """What a dynamic-choices result may record: each option's alias (Label Studio records it), else its value."""
    if not isinstance(options, list):
        return frozenset()
    found: set[str] = set()
    for option in options:
        option = option.model_dump() if hasattr(option, "model_dump") else option
        if isinstance(option, Mapping):
            found.add(str(option.get("alias") or option.get("value") or ""))
    return frozenset(found)
