"""UI actions a person needs to annotate one seed article fully in Label Studio: from scratch, and
from the baseline's pre-annotations.

Starts a fresh local Label Studio (temporary ANNOTATE_HOME and data dir, free loopback port),
creates an annotator and two projects from the generated labeling config, and preloads one seed
article into each as ``annotate preload`` does (the story's entity list, from seeds/entities.json and
the baseline's entities, in the task's data): once without predictions, once with the baseline's
(its entities linked to the list, preselected in the picker). Debian's
Chromium (Playwright, ``ui_desk.Desk``) then annotates each task as a person would until it holds
what the article's gold document (seeds/annotations/gold.jsonl) says: every quote (content
fragments, kind, stance, cue, a speaker without a mention), mention (entity picked from the list or
typed as a new one, with type and Wikidata id on a new entity's first mention), claim
(check-worthiness), and the ``said_by``, ``cue_of``, ``continues`` and ``claimed_by`` relations.
From scratch it creates all of it; from the pre-annotations it starts from what is on the screen and
only fixes the difference (deletes wrong regions and relations, fixes values, adds what is missing).
Each project is then pulled (``annotate.labelstudio.pull``) and the document scored against the gold
with the project's comparison core, so the counts are those of a faithful annotation. Two projects,
not two tasks of one, because a pull keeps one annotation per article and annotator.

    .venv/bin/python benchmarks/bench_ui_actions.py [--article 002_b85bb421de1e3324] [--json out.json]

Default article: the seed whose gold has the fewest regions and relations (with quotes, mentions
and relations).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotate.labelstudio import server
from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.config import (
    CONTENT,
    ENTITY,
    ENTITY_CHOICE,
    ENTITY_TYPE,
    SPEAKER_CHOICE,
    SPEAKER_ENTITY,
    WIKIDATA,
    generate_labeling_config,
)
from annotate.labelstudio.encode import document_to_items
from annotate.labelstudio.preload import baseline_prediction, new_task
from annotate.labelstudio.project import init_project
from annotate.labelstudio.pull import pull_from_server
from annotate.labelstudio.story_entities import StoryEntities
from annotate.labelstudio.wire import to_json
from exports.compare import STRICT, Layer, compare
from exports.evaluate import compute_evaluation
from schemas import AnnotatedDocument
from schemas.articles import load_targets
from schemas.documents import read_documents
from schemas.files import write_atomically
from schemas.inventory import SEED_ENTITIES, EntityInventory, read_inventory
from schemas.paths import REPO_ROOT, SEED_TARGETS

sys.path.insert(0, str(Path(__file__).parent))
from bench_preload import free_port, machine  # noqa: E402 (sibling scripts)
from ui_desk import Desk, Layout, Tally, browser_page  # noqa: E402

GOLD = REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"
ANNOTATOR, PASSWORD = "ui.bench@example.com", "Ui-Bench-Passw0rd"
SET, AGREE, ANY = "set", "agree", "any"  # the value must be this; None or this; anything
# The entity step: a picker (from the task's entity list) and the box for an entity not in it.
ENTITY_CONTROLS = (ENTITY_CHOICE, ENTITY, SPEAKER_CHOICE, SPEAKER_ENTITY)
NOT_COUNTED = ["logging in and opening the task", "scrolling (Playwright scrolls a control into view before "
               "clicking it)", "reading the screen"]


@dataclass
class Target:
    """The gold as the screen must show it, keyed by the gold's region ids (``encode``'s canonical ids)."""

    regions: dict[str, tuple[str, int, int]]  # id -> (label, start, end), in the order they are created
    values: dict[tuple[str, str], tuple[str | None, str]]  # (id, control) -> (value, SET/AGREE/ANY)
    relations: list[tuple[str, str, str]]  # (from id, to id, label)


def parse_items(items: list[dict[str, Any]]) -> tuple[dict, dict, list]:
    regions = {i["id"]: (i["value"]["labels"][0], i["value"]["start"], i["value"]["end"])
               for i in items if i["type"] == "labels"}
    values = {(i["id"], i["from_name"]): (i["value"].get("choices") or i["value"].get("text"))[0]
              for i in items if i["type"] in ("choices", "textarea")}
    relations = [(i["from_id"], i["to_id"], i["labels"][0]) for i in items if i["type"] == "relation"]
    return regions, values, relations


def canonical(gold: AnnotatedDocument, inventory: EntityInventory) -> list[dict[str, Any]]:
    return [to_json(i) for i in document_to_items(gold, inventory)]


def target_of(gold: AnnotatedDocument, layout: Layout, inventory: EntityInventory) -> Target:
    """What the screen must hold for ``gold``: the canonical result (``encode``), as a person needs to set it.

    A type or Wikidata id the canonical form sets is needed on the entity's first mention only (the
    exporter takes the first one set); elsewhere a value may be left empty but must be the entity's.
    A quote's per-quote values may be left empty on its later fragments, but must agree.
    """
    regions, values_of, relations = parse_items(canonical(gold, inventory))
    values = {(rid, c): (values_of.get((rid, c)), SET)
              for rid, (label, _, _) in regions.items() for c in layout.controls.get(label, [])}
    entities, seen = {e.id: e for e in gold.entities}, set()
    for m in sorted(gold.mentions, key=lambda m: (m.span.start, m.span.end, m.id)):
        entity, listed = entities[m.entity_id], inventory.get(m.entity_id)
        for control, own in ((ENTITY_TYPE, entity.type.value), (WIKIDATA, entity.wikidata)):
            if (m.id, control) not in values:
                continue
            if values_of.get((m.id, control)) is not None:
                values[(m.id, control)] = (values_of[(m.id, control)], ANY if m.entity_id in seen else SET)
            else:
                values[(m.id, control)] = (own if listed else None, AGREE)
        seen.add(m.entity_id)
    for q in gold.quotes:
        for n in range(1, len(q.content)):
            for control in layout.controls.get(CONTENT, []):
                values[(f"{q.id}.{n}", control)] = (values[(q.id, control)][0], AGREE)
    return Target(regions, values, relations)


def needs(value: str | None, mode: str, current: str | None) -> bool:
    if mode == ANY:
        return False
    if mode == AGREE:
        return current is not None and current != value
    return current != value


def annotate(desk: Desk, target: Target) -> list[str]:
    """Make the screen hold ``target``; returns what the UI could not do."""
    unreachable: list[str] = []
    by_key = {spec: rid for rid, spec in target.regions.items()}
    on_screen: dict[str, str] = {}  # gold id -> editor region id
    with desk.tally.doing("delete region"):
        for rid, spec in desk.regions().items():
            if spec in by_key:
                on_screen[by_key[spec]] = rid
            else:
                desk.delete_region(rid)
    wanted = {(on_screen.get(a), on_screen.get(b), label) for a, b, label in target.relations}
    with desk.tally.doing("delete relation"):
        for r in [r for r in desk.state()["results"] if r.get("type") == "relation"]:
            if (r["from_id"], r["to_id"], (r.get("labels") or [None])[0]) not in wanted:
                desk.delete_relation(r["from_id"], r["to_id"])
    done = {(r["from_id"], r["to_id"]) for r in desk.state()["results"] if r.get("type") == "relation"}

    def fix_values(gid: str, region: str) -> None:
        fixes = [(c, v) for (g, c), (v, mode) in target.values.items()
                 if g == gid and needs(v, mode, desk.value(region, c))]
        if not fixes:
            return
        desk.select(region)
        # Clearing first, so a pick and a typed name are never both there; the entity step before the rest.
        for control, value in sorted(fixes, key=lambda f: (f[1] is not None, f[0] not in ENTITY_CONTROLS)):
            with desk.tally.doing("entity" if control in ENTITY_CONTROLS else f"value {control}"):
                if not desk.set_control(region, control, value):
                    unreachable.append(f"{gid}: unset {control} (a single-radio choice cannot be cleared)")

    def link(ready: str | None = None) -> None:
        for a, b, label in target.relations:
            if a in on_screen and b in on_screen and (on_screen[a], on_screen[b]) not in done \
                    and (ready is None or ready in (a, b)):
                with desk.tally.doing(f"relation {label}"):
                    desk.add_relation(on_screen[a], on_screen[b], label)
                done.add((on_screen[a], on_screen[b]))

    for gid, (label, start, end) in target.regions.items():
        if gid in on_screen:
            with desk.tally.doing("fix kept region"):
                fix_values(gid, on_screen[gid])
            continue
        with desk.tally.doing(f"region {label}"):
            on_screen[gid] = desk.create_region(label, start, end)
        fix_values(gid, on_screen[gid])
        link(gid)  # while the new region is selected, its relations cost no click to select it
    link()
    with desk.tally.doing("submit"):
        desk.submit()
    return unreachable


def pick_article(golds: dict[str, AnnotatedDocument], article_id: str | None) -> AnnotatedDocument:
    if article_id is not None:
        if article_id not in golds:
            raise SystemExit(f"--article {article_id!r}: not in {GOLD}; known: {', '.join(sorted(golds))}")
        return golds[article_id]

    def size(doc: AnnotatedDocument) -> tuple[int, int]:
        regions, _, relations = parse_items([to_json(i) for i in document_to_items(doc)])
        return len(regions) + len(relations), len(doc.article.text)

    full = [d for d in golds.values() if d.quotes and d.mentions and any(
        r["type"] == "relation" for r in map(to_json, document_to_items(d)))]
    return min(full, key=size)


def signature(doc: AnnotatedDocument) -> set[tuple]:
    """The document's content without ids, provenance or support, to tell "the same as the gold" exactly."""
    def span(s: Any) -> tuple[int, int] | None:
        return None if s is None else (s.start, s.end)
    mentions = {m.id: m for m in doc.mentions}
    quotes = {q.id: tuple(span(c) for c in q.content) for q in doc.quotes}
    return ({("entity", e.id, e.name, e.type.value, e.wikidata) for e in doc.entities}
            | {("mention", span(m.span), m.entity_id) for m in doc.mentions}
            | {("quote", quotes[q.id], q.kind.value, span(q.cue), doc.speaker_of(q),
                span(mentions[q.speaker_mention_id].span) if q.speaker_mention_id else None) for q in doc.quotes}
            | {("stance", s.holder_entity_id, s.target_id, s.polarity.value,
                tuple(sorted(quotes[e] for e in s.evidence))) for s in doc.stances}
            | {("claim", span(c.span), c.claimant_entity_id, c.check_worthy.value) for c in doc.claims})


def score(gold: AnnotatedDocument, doc: AnnotatedDocument) -> dict[str, Any]:
    """F1 of the pulled document against the gold (strict spans, attribution, stance), and the exact difference."""
    report = compute_evaluation([gold], [doc], resamples=1)
    f1 = {f"{f.layer}_strict": f.f1.value for f in report.figures
          if f.metric == "span" and f.scheme == "strict" and f.label is None}
    f1["mention_strict"] = compare([gold, doc], [(0, 1)], Layer.MENTION, STRICT).score().f1
    f1.update({f.metric: f.f1.value for f in report.figures if f.metric in ("attribution_entity", "stance_macro_f1")})
    ours, theirs = signature(gold), signature(doc)
    return {"f1": {k: None if v is None else round(v, 4) for k, v in f1.items()},
            "same_as_gold": ours == theirs, "missing": sorted(map(str, ours - theirs)),
            "extra": sorted(map(str, theirs - ours))}


def pulled(client: StudioClient, project_id: int, out: Path) -> tuple[AnnotatedDocument, dict[str, Any]]:
    """The project's one document, as ``annotate pull`` makes it, and what the pull report says of it."""
    result = pull_from_server(project_id, client=client, out=out, say=lambda _: None)
    [doc] = read_documents([result.docs_path])
    report = result.report
    return doc, {"rejections": [r.message for r in report.rejections], "repairs": len(report.repairs)}


def run(article_id: str | None, home: Path, entity_list: str = "seeds") -> dict[str, Any]:
    golds = {d.article.id: d for d in read_documents([GOLD])}
    gold = pick_article(golds, article_id)
    article = gold.article
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    layout = Layout.of(config)
    if entity_list == "seeds":  # as `annotate preload` does by default: the seeds' inventory and the baseline's
        stories = StoryEntities.build([article], inventories=[read_inventory(SEED_ENTITIES)])
        inventory, prediction = stories.inventory_for(article), stories.predict(article)
    else:  # an empty list: every entity is typed in as a new one (how it was before the picker)
        inventory = EntityInventory(story=article.story)
        prediction = baseline_prediction(article, inventory)
    target = target_of(gold, layout, inventory)
    client = StudioClient.open()
    user = add_annotator(client, ANNOTATOR, server.status().state.data_dir, password=PASSWORD).user
    runs: dict[str, Any] = {}
    setup = Tally()
    with browser_page(client.url, ANNOTATOR, PASSWORD) as page:
        for name, predictions in (("from_scratch", None), ("from_predictions", [prediction])):
            project = init_project(client, config, title=f"bench ui actions {name}", maximum_annotations=1,
                                   record=False).project
            [task_id] = client.import_tasks(project.id, [new_task(article, predictions, entities=inventory)]).task_ids
            tally = Tally()
            desk = Desk(page, article.text, layout, tally if runs else setup)
            desk.open(f"{client.url}/projects/{project.id}/data?labeling=1")  # "Label All Tasks": the one task
            if not runs:
                desk.setup()  # once per browser: Label Studio keeps the setting
            desk.tally = tally
            regions, values, relations = parse_items(desk.state()["results"])
            unreachable = annotate(desk, target)
            doc, report = pulled(client, project.id, home / "pulls")
            assert doc.provenance.annotator == user.email
            runs[name] = {**tally.summary(), "on_screen_at_start": {"regions": len(regions), "values": len(values),
                                                                   "relations": len(relations)},
                          "unreachable_in_ui": unreachable, "pull": report, **score(gold, doc)}
    regions, values, relations = parse_items(canonical(gold, inventory))
    scratch, predicted = runs["from_scratch"]["total"], runs["from_predictions"]["total"]
    return {
        "article": article.id, "chars": len(article.text),
        "gold": {"regions": len(regions), "values": len(values), "relations": len(relations),
                 "quotes": len(gold.quotes), "mentions": len(gold.mentions), "entities": len(gold.entities),
                 "entities_in_the_list": sum(inventory.get(e.id) is not None for e in gold.entities),
                 "claims": len(gold.claims), "stances": len(gold.stances)},
        "entity_list": {"source": entity_list, "entries": len(inventory.entities)},
        "prediction_model": prediction.model_version,
        "setup_once_per_browser": setup.summary(),
        "runs": runs, "ratio_scratch_to_predictions": round(scratch / predicted, 2) if predicted else None,
        "not_counted": NOT_COUNTED, "machine": machine(),
    }


def table(summary: dict[str, Any]) -> str:
    runs = summary["runs"]
    rows = [("", "from scratch", "from pre-annotations")]
    for kind in runs["from_scratch"]["by_kind"]:
        rows.append((kind, *(str(r["by_kind"][kind]) for r in runs.values())))
    rows.append(("total", *(str(r["total"]) for r in runs.values())))
    rows.append(("characters typed", *(str(r["characters_typed"]) for r in runs.values())))
    for key in runs["from_scratch"]["f1"]:
        rows.append((f"F1 {key}", *(str(r["f1"][key]) for r in runs.values())))
    rows.append(("same as the gold", *(str(r["same_as_gold"]) for r in runs.values())))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, width)) for r in rows]
    return "\n".join([lines[0], "-+-".join("-" * w for w in width), *lines[1:],
                      f"ratio (scratch / pre-annotations): {summary['ratio_scratch_to_predictions']}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", help="seed article id (default: the smallest gold with quotes, mentions, "
                                          "relations)")
    parser.add_argument("--entity-list", choices=("seeds", "empty"), default="seeds",
                        help="the task's entity list: the story's, as `annotate preload` makes it (default), or "
                             "empty, so that every entity is typed")
    parser.add_argument("--json", type=Path, help="also write the JSON summary here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as home:
        os.environ["ANNOTATE_HOME"] = home
        os.environ.pop("ANNOTATE_LS_URL", None)
        os.environ.pop("ANNOTATE_LS_TOKEN", None)
        state = server.start(port=free_port(), data_dir=Path(home) / "data", die_with_parent=True)
        try:
            summary = run(args.article, Path(home), args.entity_list)
        finally:
            server.stop(state=state)
    text = json.dumps(summary, indent=2)
    if args.json:
        write_atomically(args.json, text + "\n")
    print(text)
    print(table(summary))


if __name__ == "__main__":
    main()
