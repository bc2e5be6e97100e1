"""Talk to a Label Studio server: make tasks, push them idempotently, pull JSON snapshots, and
put a release back for correction.

The server URL and API key come from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (or
``LABEL_STUDIO_API_KEY_FILE``). The key is passed to the SDK explicitly and never printed,
logged or written anywhere.

Failures: the SDK's own retries are off (it would repeat a task import that the server saved
before the connection dropped, duplicating tasks). Requests that are safe to repeat go through
:func:`builder.retry.retrying`; requests that create something re-read the server after a
failure and send only what is still missing.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import orjson

from ..contracts.labels import LabelConfig, load_label_config, parse_label_config
from ..contracts.scheme import Declared, Reverse, Scheme
from ..core.merge import text_sha256
from ..errors import ClaimwireError, InvalidDataError, LabelStudioError, Problem, UsageError
from ..io.jsonarray import Damage, open_array, split_array
from ..records import Article
from ..release.reader import read_release_rows
from .retry import DEFAULT, IncompleteDownload, describe, retrying, transient

URL_ENV, KEY_ENV, KEY_FILE_ENV = (
    "LABEL_STUDIO_URL",
    "LABEL_STUDIO_API_KEY",
    "LABEL_STUDIO_API_KEY_FILE",
)

# Snapshot options: annotator ids only (no emails or names), predictions expanded in full so a
# re-import never meets bare prediction ids (which Label Studio answers with HTTP 500 after
# saving the tasks, so a retry would duplicate them).
SNAPSHOT_OPTIONS = {
    "annotations__completed_by": {"only_id": True},
    "predictions": {"only_id": False},
}


def connect(url: str | None = None, api_key: str | None = None) -> Any:
    """An SDK client for the configured server."""
    from label_studio_sdk import LabelStudio

    url = url or os.environ.get(URL_ENV)
    if api_key is None:
        api_key = os.environ.get(KEY_ENV)
        key_file = os.environ.get(KEY_FILE_ENV)
        if not api_key and key_file:
            try:
                api_key = Path(key_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise UsageError(
                    Problem(f"cannot read {KEY_FILE_ENV}: {exc.strerror}", file=key_file)
                ) from None
    if not url or not api_key:
        raise UsageError(
            Problem(
                "no Label Studio server configured",
                expected=f"{URL_ENV} and {KEY_ENV} (or {KEY_FILE_ENV}) in the environment",
                fix="start one with `make ls-serve` and export the two variables it prints",
            )
        )
    # The SDK's LabelStudio.__init__ is unannotated (``*args, **kwargs``, handed to its typed
    # base class), which strict mode refuses to call from typed code: call it as what it is.
    make = cast("Callable[..., LabelStudio]", LabelStudio)
    return make(base_url=url.rstrip("/"), api_key=api_key, max_retries=0)


def call(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run an SDK call, turning HTTP and connection failures into a clear error (no key shown)."""
    try:
        return fn(*args, **kwargs)
    except ClaimwireError:
        raise
    except Exception as exc:  # the SDK raises ApiError, httpx errors and pydantic errors
        status = getattr(exc, "status_code", None)
        body = getattr(exc, "body", None)
        detail = f"HTTP {status}: {str(body)[:300]}" if status else type(exc).__name__
        raise LabelStudioError(
            Problem(
                f"Label Studio refused or failed to {what} ({detail})",
                fix="check the server is running and the API key is valid",
            )
        ) from None


def _notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _read(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """:func:`call` with back-off retries: only for requests that are safe to repeat."""
    return call(what, retrying, lambda: fn(*args, **kwargs), what, on_retry=_notify)


def _create(what: str, send: Callable[[], Any], landed: Callable[[], Any]) -> Any:
    """Send a request that creates something. After a transient failure, ask the server whether
    it landed anyway (``landed()`` returns the created thing or None) before sending it again, so
    nothing is ever created twice."""
    delays = DEFAULT.delays()
    attempt = 1
    while True:
        try:
            return call(what, _raw, send)
        except _Transient as failure:
            delay = next(delays, None)
            if delay is None:
                return call(what, _reraise, failure.exc)
            _notify(
                f"Label Studio: {what} failed ({describe(failure.exc)}); checking what "
                f"arrived, retrying in {delay:g} s (attempt {attempt + 1} of {DEFAULT.attempts})"
            )
            time.sleep(delay)
            attempt += 1
            done = landed()
            if done is not None:
                return done


class _Transient(ClaimwireError):
    """Internal: a transient failure of a creating request, handed back to :func:`_create`."""

    def __init__(self, exc: Exception) -> None:
        super().__init__("transient Label Studio failure")
        self.exc = exc


def _raw(send: Callable[[], Any]) -> Any:
    try:
        return send()
    except Exception as exc:
        if transient(exc):
            raise _Transient(exc) from None
        raise


def _reraise(exc: Exception) -> Any:
    raise exc


def task_for(
    article: Article,
    predictions: list[dict[str, Any]] | None = None,
    model_version: str = "claimwire",
) -> dict[str, Any]:
    """Label Studio import JSON for one article, carrying its id and the sha256 of its text."""
    task: dict[str, Any] = {
        "data": {
            "text": article.text,
            "article_id": article.id,
            "text_sha256": text_sha256(article.text),
            "title": article.meta.title,
            "source": article.meta.source,
        }
    }
    if predictions:
        task["predictions"] = [{"model_version": model_version, "result": predictions}]
    return task


def find_project(client: Any, title: str) -> Any | None:
    for project in _read("list projects", lambda: list(client.projects.list())):
        if project.title == title:
            return project
    return None


def _declared(config: LabelConfig) -> set[tuple[str, str]]:
    return {(c, v) for c, vs in {**config.spans, **config.choices}.items() for v in vs} | {
        ("relation", r) for r in config.relations
    }


def ensure_project(client: Any, title: str, config: LabelConfig | None = None) -> tuple[int, str]:
    """The project id, creating the project or updating its config; returns (id, what happened).

    A config change that removes a label, choice or control while the project holds annotations
    is refused: it would orphan labels already given.
    """
    config = config or load_label_config()
    project = find_project(client, title)
    if project is None:
        created = _create(
            "create the project",
            lambda: client.projects.create(title=title, label_config=config.xml),
            lambda: find_project(client, title),
        )
        return int(created.id), "created"
    current = parse_label_config(project.label_config or "<View/>")
    if current.xml.strip() == config.xml.strip():
        return int(project.id), "unchanged"
    removed = _declared(current) - _declared(config)
    annotated = int(getattr(project, "total_annotations_number", 0) or 0)
    if removed and annotated:
        lost = ", ".join(f"{c}:{v}" for c, v in sorted(removed))
        raise UsageError(
            Problem(
                f"the new labeling config removes {lost} but project {title!r} has "
                f"{annotated} annotation(s)",
                fix="keep those labels (mark them deprecated in GUIDELINES.md) or create a new "
                "project; a removed label would orphan annotations",
            )
        )
    _read(
        "update the labeling config", client.projects.update, project.id, label_config=config.xml
    )  # setting a value: safe to repeat
    return int(project.id), "updated"


def existing_tasks(
    client: Any,
    project_id: int,
    article_key: str = "article_id",
    sha_key: str | None = "text_sha256",
) -> dict[str, tuple[int, str | None]]:
    """article id -> (task id, text sha256) of every task already in the project
    (``article_key``, ``sha_key``: the data keys of the article id and the text's sha256,
    others in a team's own project; no ``sha_key``: the sha256 is not known)."""
    out: dict[str, tuple[int, str | None]] = {}
    tasks = _read("list tasks", lambda: list(client.tasks.list(project=project_id, page_size=500)))
    for task in tasks:
        data = task.data or {}
        if article_key in data:
            sha = data.get(sha_key) if sha_key is not None else None
            out[data[article_key]] = (int(task.id), sha)
    return out


@dataclass(frozen=True)
class Target:
    """Where pushed tasks go: the project, and the names they are written in there (no
    ``reverse``: claimwire's own, the shipped labeling config)."""

    project_id: int
    reverse: Reverse | None = None

    @property
    def article_key(self) -> str:
        key = self.reverse.data_key("article_id") if self.reverse is not None else "article_id"
        return key or "article_id"

    @property
    def sha_key(self) -> str | None:
        return self.reverse.data_key("text_sha256") if self.reverse is not None else "text_sha256"

    def existing(self, client: Any) -> dict[str, tuple[int, str | None]]:
        return existing_tasks(client, self.project_id, self.article_key, self.sha_key)

    def tasks(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``tasks`` (in canonical names) as they are sent: in the project's names."""
        return self.reverse.tasks(tasks) if self.reverse is not None else tasks


def foreign_target(client: Any, title: str, scheme: Scheme) -> Target:
    """The target for pushing into a team's existing project through its scheme mapping: the
    project must exist (its labeling config is the team's, never replaced), its Text tag be the
    mapping's, and the mapping name an article id key."""
    project = find_project(client, title)
    mapping = scheme.file or "the scheme mapping"
    if project is None:
        raise UsageError(
            Problem(
                f"no project named {title!r} on the server",
                fix=f"check the name; a push through a scheme mapping ({mapping}) goes into "
                "the team's existing project and never creates one: create it in Label Studio "
                "with the labeling config the mapping was made for, or push without a mapping "
                "to create a project with claimwire's",
            )
        )
    declared = Declared.of(project.label_config or "<View/>", f"project {title!r}")
    if scheme.text_tag not in declared.texts:
        tags = ", ".join(sorted(declared.texts)) or "none"
        raise UsageError(
            Problem(
                f"project {title!r} has no Text tag {scheme.text_tag!r} (the mapping's text.tag)",
                file=scheme.file,
                pointer="/text/tag",
                expected=repr(scheme.text_tag),
                found=f"Text tags {tags}",
                fix=f"push into the project {mapping} was made for, or run `claimwire scheme "
                "init --from-project` for this one",
            )
        )
    if scheme.data.get("article_id") is None:
        raise UsageError(
            Problem(
                "the scheme mapping names no data key for the article id",
                file=scheme.file,
                pointer="/data/article_id",
                fix="set data.article_id to the key the project's tasks hold it under: a push "
                "finds the tasks already there by it",
            )
        )
    return Target(int(project.id), scheme.reverse(declared))


def push_tasks(
    client: Any,
    project: int | Target,
    tasks: Iterable[dict[str, Any]],
    in_project_names: bool = False,
) -> tuple[int, int]:
    """Import the tasks not in the project yet; returns (created, already there). ``tasks``
    are in canonical names; a :class:`Target` with a mapping writes them in the project's
    (``in_project_names``: they already are, as ``ls tasks`` writes them through the same
    mapping, and are sent as they are).

    An import that fails may still have saved tasks, so it is never simply repeated: after a
    transient failure the project is listed again and only the tasks still missing are sent.
    """
    target = project if isinstance(project, Target) else Target(project)
    translated = in_project_names and target.reverse is not None
    key = target.article_key if translated else "article_id"
    sha_key = target.sha_key if translated else "text_sha256"
    have = target.existing(client)
    new: list[dict[str, Any]] = []
    skipped = 0
    for task in tasks:
        data = task["data"]
        known = have.get(data[key])
        if known is None:
            new.append(task)
            continue
        sha = data.get(sha_key) if sha_key is not None else None
        if known[1] is not None and sha is not None and known[1] != sha:
            raise UsageError(
                Problem(
                    f"task {known[0]} holds another text for this article",
                    article=data[key],
                    expected=sha,
                    found=known[1],
                    fix="the article changed after it was annotated; give the new text a new "
                    "article id, or delete the old task in Label Studio",
                )
            )
        skipped += 1
    if not translated:
        new = target.tasks(new)
    for start in range(0, len(new), 100):
        _import_missing(client, target, new[start : start + 100])
    return len(new), skipped


def _import_missing(client: Any, target: Target, batch: list[dict[str, Any]]) -> None:
    """Import ``batch`` (tasks in the project's names)."""
    pending = list(batch)
    key = target.article_key

    def send() -> Any:
        return client.projects.import_tasks(
            target.project_id, request=pending, return_task_ids=True
        )

    def landed() -> Any:
        have = target.existing(client)
        pending[:] = [t for t in pending if t["data"][key] not in have]
        return True if not pending else None

    _create("import tasks", send, landed)


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "project"


def pull_snapshot(
    client: Any,
    project_id: int,
    out_dir: Path,
    title: str,
    on_progress: Callable[[str, int], None] = lambda stage, n: None,
    poll_seconds: float = 0.5,
    timeout: float = 600,
) -> Path:
    """Make a JSON snapshot export, stream it to ``out_dir``, and move it into place atomically.

    The file is named by project and time. A failed or interrupted download leaves no file.
    """
    # A repeated create makes one more snapshot on the server and changes no annotation: safe.
    export = _read(
        "create a snapshot export",
        client.projects.exports.create,
        project_id,
        title=f"claimwire pull {time.strftime('%Y-%m-%dT%H:%M:%S')}",
        serialization_options=SNAPSHOT_OPTIONS,
    )
    deadline = time.monotonic() + timeout
    while True:
        state = _read("poll the export", client.projects.exports.get, project_id, export.id)
        on_progress(f"export {state.status}", 0)
        if state.status == "completed":
            break
        if state.status == "failed" or time.monotonic() > deadline:
            raise LabelStudioError(
                Problem(
                    f"snapshot export {export.id} {state.status}",
                    fix="look at the server log; try the pull again",
                )
            )
        time.sleep(poll_seconds)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    final = out_dir / f"{_slug(title)}-{stamp}.json"
    partial = out_dir / f".{final.name}.partial"
    try:
        _read("download the export", _download, client, project_id, export.id, partial, on_progress)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return final


def _download(
    client: Any,
    project_id: int,
    export_id: int,
    partial: Path,
    on_progress: Callable[[str, int], None],
) -> None:
    """Stream the export into ``partial`` and check it is one complete JSON array, element by
    element, without holding it in memory: a truncated download must not land, and downloading
    again is safe, so a truncated one is retried like a dropped connection."""
    received = 0
    with partial.open("wb") as f:
        for chunk in client.projects.exports.download(project_id, export_id, export_type="JSON"):
            f.write(chunk)
            received += len(chunk)
            on_progress("download", received)
        f.flush()
        os.fsync(f.fileno())
    opened = open_array(partial)
    if opened is None:
        raise IncompleteDownload("the export is not a JSON array")
    src, start = opened
    with src:
        for piece in split_array(src, start):
            if isinstance(piece, Damage):
                raise IncompleteDownload(f"the export is not complete JSON ({piece.message})")
            try:
                orjson.loads(piece.data)
            except orjson.JSONDecodeError as exc:
                raise IncompleteDownload(f"the export is not complete JSON ({exc.msg})") from None


def annotation_results(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Label Studio result items for a ``documents`` row; region ids are preserved so a later
    pull maps 1:1 onto the release."""
    text = row["text"]
    out: list[dict[str, Any]] = []

    def value(start: int, end: int) -> dict[str, Any]:
        return {"start": start, "end": end, "text": text[start:end]}

    for e in row["entities"]:
        out.append(
            {
                "id": e["id"],
                "from_name": "entity",
                "to_name": "text",
                "type": "labels",
                "value": {**value(e["start"], e["end"]), "labels": [e["label"]]},
            }
        )
        if e.get("portrayal"):
            out.append(
                {
                    "id": e["id"],
                    "from_name": "portrayal",
                    "to_name": "text",
                    "type": "choices",
                    "value": {**value(e["start"], e["end"]), "choices": [e["portrayal"]]},
                }
            )
    for c in row["claims"]:
        span = value(c["start"], c["end"])
        out.append(
            {
                "id": c["id"],
                "from_name": "claim",
                "to_name": "text",
                "type": "labels",
                "value": {**span, "labels": ["CLAIM"]},
            }
        )
        for control in ("stance", "attribution"):
            out.append(
                {
                    "id": c["id"],
                    "from_name": control,
                    "to_name": "text",
                    "type": "choices",
                    "value": {**span, "choices": [c[control]]},
                }
            )
        links = ([("claimer", c["claimer_id"])] if c["claimer_id"] else []) + [
            ("target", t) for t in c["target_ids"]
        ]
        for label, to_id in links:
            out.append(
                {
                    "type": "relation",
                    "from_id": c["id"],
                    "to_id": to_id,
                    "direction": "right",
                    "labels": [label],
                }
            )
    return out


def release_tasks(release: Path, as_: str, user_id: int | None = None) -> list[dict[str, Any]]:
    """Import JSON that puts a release back into Label Studio as annotations or predictions."""
    tasks = []
    for row in read_release_rows(release):
        task: dict[str, Any] = {
            "data": {
                "text": row["text"],
                "article_id": row["id"],
                "text_sha256": row["text_sha256"],
                "title": row["title"],
                "source": row["source"],
            }
        }
        result = annotation_results(row)
        if as_ == "annotations":
            ann: dict[str, Any] = {"result": result, "ground_truth": True}
            if user_id is not None:
                ann["completed_by"] = user_id
            task["annotations"] = [ann]
        else:
            task["predictions"] = [{"model_version": f"claimwire-{release.name}", "result": result}]
        tasks.append(task)
    return tasks


def write_json_atomic(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)


def load_tasks_file(path: Path, scheme: Scheme | None = None) -> list[dict[str, Any]]:
    """Tasks written by ``claimwire ls tasks``. With a ``scheme`` mapping, in the project's
    names (as ``ls tasks`` writes them through that mapping): each task is read through the
    mapping, so a file in other names is an error naming the task and the name, before anything
    is sent."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UsageError(Problem(f"cannot read tasks file: {exc}", file=str(path))) from None
    key = (scheme.data.get("article_id") if scheme is not None else None) or "article_id"
    made = "`claimwire ls tasks --out FILE" + (" --scheme MAPPING`" if scheme is not None else "`")
    if not isinstance(data, list) or not all(
        isinstance(t, dict) and isinstance(t.get("data"), dict) and key in t["data"] for t in data
    ):
        raise UsageError(
            Problem(
                "not a tasks file",
                file=str(path),
                expected=f"a JSON array of tasks with data.{key}",
                fix=f"make one with {made}",
            )
        )
    if scheme is not None:
        for i, task in enumerate(data):
            try:
                scheme.translate(task, f"/{i}", predictions=True)
            except InvalidDataError as exc:
                raise InvalidDataError(
                    [
                        replace(
                            p.located(file=str(path)),
                            fix=f"with a mapping, a tasks file is in the project's names: "
                            f"make it with {made} (or {p.fix})",
                        )
                        for p in exc.problems
                    ]
                ) from None
    return data


def _normal(result: list[dict[str, Any]]) -> list[bytes]:
    """A comparable form of a result list: what a region or relation says, not how it is dressed."""
    keep = ("id", "from_name", "type", "from_id", "to_id", "labels")
    items = []
    for r in result:
        v = r.get("value", {})
        items.append(
            orjson.dumps(
                {
                    **{k: r[k] for k in keep if k in r},
                    "value": {k: v[k] for k in ("start", "end", "labels", "choices") if k in v},
                },
                option=orjson.OPT_SORT_KEYS,
            )
        )
    return sorted(items)


def push_release(
    client: Any, project: int | Target, release: Path, as_: str
) -> tuple[int, int, int]:
    """Put a release into the project as annotations or predictions, idempotently; with a
    :class:`Target` that has a mapping, in the project's own names (every name is translated
    before anything is sent, :meth:`Reverse.tasks`).

    Returns (new tasks, results added to existing tasks, already present). Region ids are kept,
    so a later pull maps 1:1 onto the release.
    """
    target = project if isinstance(project, Target) else Target(project)
    me = _read("identify the API user", client.users.whoami)
    tasks = target.tasks(release_tasks(release, as_, user_id=int(me.id)))
    key = target.article_key
    have = target.existing(client)
    new = [t for t in tasks if t["data"][key] not in have]
    added = skipped = 0
    for task in tasks:
        known = have.get(task["data"][key])
        if known is None:
            continue
        task_id = known[0]
        result = (task["annotations"] if as_ == "annotations" else task["predictions"])[0]["result"]

        def present(task_id: int = task_id, result: list[dict[str, Any]] = result) -> Any:
            if as_ == "annotations":
                have = _read("list annotations", client.annotations.list, task_id)
            else:
                have = _read(
                    "list predictions", lambda: list(client.predictions.list(task=task_id))
                )
            return next((p for p in have if _normal(p.result or []) == _normal(result)), None)

        if present() is not None:
            skipped += 1
            continue
        if as_ == "annotations":

            def annotate(task_id: int = task_id, result: list[dict[str, Any]] = result) -> Any:
                return client.annotations.create(
                    task_id, result=result, completed_by=int(me.id), ground_truth=True
                )

            _create("create an annotation", annotate, present)
        else:

            def predict(task_id: int = task_id, result: list[dict[str, Any]] = result) -> Any:
                return client.predictions.create(
                    task=task_id, result=result, model_version=f"claimwire-{release.name}"
                )

            _create("create a prediction", predict, present)
        added += 1
    for start in range(0, len(new), 100):
        _import_missing(client, target, new[start : start + 100])
    return len(new), added, skipped
