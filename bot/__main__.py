"""The `careerbot` command: chat, ask, ingest/reload, eval, doctor, serve slack|discord|all."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

log = logging.getLogger("bot")


class UsageError(Exception):
    """A setup problem reported as one line and exit code 2."""


class _QuietLibraries(logging.Filter):
    """Drops bm25s' DEBUG/INFO chatter: it sets its own logger to DEBUG when imported."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("bm25s") and record.levelno < logging.WARNING)


def _make_handler() -> logging.Handler:
    from bot.logcontext import log_handler

    handler = log_handler(sys.stderr, "text")
    handler.addFilter(_QuietLibraries())
    return handler


_HANDLER = _make_handler()


def _startup_failure(exc: Exception) -> str | None:
    """One line for a foreseeable start-up fault (a missing service, driver or extra)."""
    from bot.llm import LLMConfigError
    from bot.ops_http import OpsPortError
    from bot.wiring import PlatformError, StartupError

    if isinstance(exc, LLMConfigError):
        first = str(exc).strip().splitlines()[0]
        return f"{first} (check CAREERBOT_LLM__MODEL; `careerbot doctor` checks it)"
    if isinstance(exc, StartupError | PlatformError | OpsPortError):
        return str(exc)
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careerbot",
        description="Career advice for people entering AI safety, from a curated corpus.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("chat", help="interactive chat in the terminal (no tokens needed)")
    ask = sub.add_parser("ask", help="answer one question and exit")
    ask.add_argument("question", nargs="+", help="the question")
    ask.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    ask.add_argument(
        "--conversation",
        metavar="KEY",
        help="continue (or start) the stored conversation KEY, so follow-ups work from scripts",
    )
    for name in ("ingest", "reload"):
        index_cmd = sub.add_parser(
            name, help="index knowledge/ (only changed passages are embedded)"
        )
        index_cmd.add_argument(
            "--dry-run",
            action="store_true",
            help="show what would change (files, passages, problems); build and switch nothing",
        )
    sub.add_parser("rollback", help="serve the previous index generation again (all replicas)")
    audit = sub.add_parser("audit", help="list admin actions: who reloaded, rolled back, …")
    audit.add_argument(
        "--since", default="7d", help="how far back: 30m, 24h, 7d, 2w or an ISO date (default 7d)"
    )
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    ev = sub.add_parser("eval", help="measure retrieval or answer quality on a JSONL set")
    which = ev.add_mutually_exclusive_group(required=True)
    which.add_argument("--questions", type=Path, help='retrieval: JSONL {"q":..., "gold":[...]}')
    which.add_argument(
        "--answers", type=Path, help="answers: JSONL rows with id, q, gold, followup_of, kind"
    )
    ev.add_argument("--k", type=int, default=5, help="passages the answer step uses (default 5)")
    ev.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    sub.add_parser("doctor", help="check settings, model files and the index")
    sub.add_parser(
        "prune", help="delete conversations and feedback older than STORE__RETENTION_DAYS"
    )
    report = sub.add_parser(
        "report", help="knowledge-gap report: declined questions, 👎 reasons, uncited posts"
    )
    report.add_argument(
        "--since",
        default="7d",
        help="window: 24h, 7d, 30d, 2w or an ISO date such as 2026-11-01 (default 7d)",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.add_argument(
        "--html", type=Path, metavar="FILE", help="also write a self-contained HTML page to FILE"
    )
    review = sub.add_parser(
        "review", help="mentor replies saved with 'Add to knowledge': list, accept or reject"
    )
    review_sub = review.add_subparsers(dest="review_action", required=True, metavar="ACTION")
    review_sub.add_parser("list", help="files waiting in MENTORS__REVIEW_DIR")
    for action, text in (
        ("accept", "move NAME into KNOWLEDGE_DIR (the next reload indexes it)"),
        ("reject", "delete NAME from the review folder"),
    ):
        review_sub.add_parser(action, help=text).add_argument("name", metavar="NAME")
    serve = sub.add_parser("serve", help="run the Slack and/or Discord bot")
    serve.add_argument("platform", choices=["slack", "discord", "all"])
    serve.add_argument("--http", action="store_true", help="Slack: HTTP mode instead of Socket")
    serve.add_argument("--host", default="0.0.0.0", help="Slack HTTP mode: bind address")
    serve.add_argument("--port", type=int, default=3000, help="Slack HTTP mode: port")
    return parser


def _settings() -> Any:
    from bot.settings import Settings

    known = {f"CAREERBOT_{name.upper()}" for name in Settings.model_fields}
    for name in sorted(os.environ):
        # Nested groups reject unknown keys themselves; a top-level typo would pass silently.
        if name.startswith("CAREERBOT_") and name.split("__")[0] not in known:
            print(f"careerbot: warning: ignoring unknown setting {name}", file=sys.stderr)
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "CAREERBOT_" + "__".join(str(p).upper() for p in err["loc"])
            lines.append(f"invalid setting {name}: {err['msg']}")
        raise UsageError("\n".join(lines)) from None
    if settings.log_format == "json":
        from bot.logcontext import JsonFormatter

        _HANDLER.setFormatter(JsonFormatter())
    return settings


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="passage", file=sys.stderr, leave=False)


def _build(settings: Any, *, quiet: bool = False, build_if_empty: bool = True) -> Any:
    """Build the core over the index that is there; only `ingest`/`reload` write it.

    A fresh clone with the embedded store has no index yet: it is built once so the
    README's first command works. A Chroma server is shared, so it is never written here.
    """
    from bot.models import IndexNotReady
    from bot.wiring import build_careerbot

    bot = build_careerbot(settings, progress=_progress)
    if bot.retriever.ready or not build_if_empty:
        return bot
    if settings.chroma.mode == "http":
        bot.close()
        raise IndexNotReady("the index is empty; run `careerbot ingest`")
    if not quiet:
        print("careerbot: no index yet; building it from knowledge/ once", file=sys.stderr)
    bot.reload_sync()
    return bot


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer once."""
    from bot.adapters.terminal import friendly_error, render_answer
    from bot.models import CareerbotError, Question

    bot = _build(_settings(), quiet=args.json)
    key = f"cli:{args.conversation}" if args.conversation else "cli:ask"
    question = Question(
        text=" ".join(args.question), asker="cli", conversation_key=key, platform="cli"
    )
    try:
        answer = asyncio.run(bot.answer(question))
    except CareerbotError as exc:
        print(friendly_error(exc), file=sys.stderr)
        return 1
    if not args.conversation:
        # One-off questions are not a conversation: don't let earlier runs shape the next one.
        bot.store.forget(key)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(render_answer(answer))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Index knowledge/ and print what changed (or, with --dry-run, what would)."""
    bot = _build(_settings(), build_if_empty=False)
    by = _cli_actor()
    if args.dry_run:
        dry = bot.reload_dry_run_sync(by)
        print(dry.summary())
        return 1 if dry.problems else 0
    report = bot.reload_sync(by=by)
    print(report.summary())
    return 0


def _cli_actor() -> Any:
    """The person at the terminal, for the audit log."""
    import getpass

    from bot.admin import Actor

    try:
        who = getpass.getuser()
    except Exception:  # no login name in some containers
        who = f"uid{os.getuid()}"
    return Actor(id=who, platform="cli")


def cmd_rollback(_args: argparse.Namespace) -> int:
    """Move the index pointer back to the previous generation."""
    bot = _build(_settings(), build_if_empty=False)
    print(bot.rollback_sync(_cli_actor()).summary())
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """List admin actions since --since; needs only the database."""
    from bot.audit import AuditLog
    from bot.conversations import ConversationStore
    from bot.report import BadReportWindow, parse_since

    try:
        start = parse_since(args.since)
    except BadReportWindow as exc:
        raise UsageError(f"--since: {exc}") from None
    settings = _settings()
    store = ConversationStore(settings.resolved_database_url)
    try:
        actions = AuditLog(store.engine).since(start)
    finally:
        store.close()
    for action in actions:
        print(json.dumps(action.to_json(), ensure_ascii=False) if args.json else action.line())
    if not actions and not args.json:
        print(f"No admin actions since {start:%Y-%m-%d %H:%M} UTC.")
    return 0


def cmd_chat(_args: argparse.Namespace) -> int:
    """Interactive terminal chat."""
    from bot.adapters.terminal import run_chat

    bot = _build(_settings())

    async def chat() -> None:
        warm = asyncio.create_task(bot.warm_up())  # while the first question is typed
        try:
            await run_chat(bot)
        finally:
            warm.cancel()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(chat())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Retrieval metrics exactly as the answer path retrieves, or whole-answer metrics."""
    if args.answers is not None:
        return _eval_answers(args)
    from bot.evaluation import evaluate, load_questions

    questions = load_questions(args.questions)
    bot = _build(_settings(), quiet=True)
    retriever = bot.retriever

    def search(query: str, k: int) -> Sequence[Any]:
        return retriever.search(query, k).passages

    report = evaluate(search, questions, k_max=10)
    if args.json:
        print(report.format_text(), file=sys.stderr)
        print(json.dumps(report.to_json()))
    else:
        print(report.format_text())
    return 0


def _eval_answers(args: argparse.Namespace) -> int:
    """Ask every row as a user would (follow-ups in one conversation) and score the quotes."""
    from bot.evaluation import evaluate_answers, load_answer_rows
    from bot.models import Answer, Question

    rows = load_answer_rows(args.answers)
    bot = _build(_settings(), quiet=True)
    keys: set[str] = set()

    async def ask(key: str, text: str) -> Answer:
        keys.add(key)
        question = Question(text=text, asker="eval", conversation_key=key, platform="eval")
        return await bot.answer(question)

    async def run() -> Any:
        try:
            return await evaluate_answers(ask, rows)
        finally:
            for key in keys:  # eval conversations are scratch: leave no history behind
                await bot.forget(key)

    report = asyncio.run(run())
    if args.json:
        print(report.format_text(), file=sys.stderr)
        print(json.dumps(report.to_json()))
    else:
        print(report.format_text())
    return 0


def cmd_doctor(_args: argparse.Namespace) -> int:
    """Check everything a start-up needs, one line per finding."""
    from bot.doctor import run_checks

    problems = 0
    try:
        settings = _settings()
    except UsageError as exc:
        print(f"FAIL settings: {exc}")
        return 1
    for ok, line in run_checks(settings):
        print(("ok   " if ok else "FAIL ") + line)
        problems += not ok
    return 1 if problems else 0


def cmd_prune(_args: argparse.Namespace) -> int:
    """The retention job, once (serve also runs it hourly); needs only the database."""
    from datetime import UTC, datetime, timedelta

    from bot.conversations import ConversationStore

    settings = _settings()
    store = ConversationStore(settings.resolved_database_url)
    try:
        import dataclasses

        from bot.audit import AuditLog

        now = datetime.now(UTC)
        report = store.prune(
            now - timedelta(days=settings.store.retention_days),
            now - timedelta(hours=settings.store.event_ttl_hours),
        )
        report = dataclasses.replace(
            report,
            admin_actions=AuditLog(store.engine).prune(
                now - timedelta(days=settings.audit.retention_days)
            ),
        )
    finally:
        store.close()
    print(report.summary())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The knowledge-gap report as text, JSON and/or one HTML page."""
    from bot.report import BadReportWindow, parse_since, render_html, render_text

    try:
        since = parse_since(args.since)
    except BadReportWindow as exc:
        raise UsageError(f"--since: {exc}") from None
    bot = _build(_settings(), quiet=True, build_if_empty=False)
    try:
        report = bot.report_sync(since)
    finally:
        bot.close()
    if args.html is not None:
        try:
            args.html.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.html}: {exc.strerror or exc}") from None
        if not args.json:
            print(f"careerbot: wrote {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    elif args.html is None:
        print(render_text(report), end="")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """The admin's side of "Add to knowledge": whoever runs the CLI administers the files."""
    from bot.models import IngestError
    from bot.review import ReviewError, accept, list_review, reject

    settings = _settings()
    review_dir = settings.mentors.review_dir
    if args.review_action == "list":
        items = list_review(review_dir)
        if not items:
            print(f"Nothing waiting for review in {review_dir}.")
        for item in items:
            print(f"{item.name}\t{item.title}\t{item.author or '-'}\t{item.published or '-'}")
        return 0
    try:
        if args.review_action == "accept":
            item = accept(review_dir, settings.knowledge_dir, args.name)
            done = (
                f"Accepted {item.name} into {settings.knowledge_dir}; run `careerbot reload` "
                "(or /reload in chat) to index it."
            )
        else:
            item = reject(review_dir, args.name)
            done = f"Rejected and deleted {item.name}."
    except ReviewError as exc:
        problem = str(exc)
    except IngestError as exc:  # the file was edited into something the loader refuses
        problem = f"not accepted, fix the file first: {exc}"
    else:
        _audit_cli(settings, f"review-{args.review_action}", "ok", done, args.name)
        print(done)
        return 0
    _audit_cli(settings, f"review-{args.review_action}", "failed", problem, args.name)
    print(f"careerbot: {problem}", file=sys.stderr)
    return 1


def _audit_cli(settings: Any, action: str, result: Any, outcome: str, detail: str) -> None:
    """Record a CLI admin action that has no CareerBot (no model or index needed)."""
    from bot.audit import AdminAction, AuditLog
    from bot.conversations import ConversationStore

    actor = _cli_actor()
    store = ConversationStore(settings.resolved_database_url)
    try:
        AuditLog(store.engine).record(
            AdminAction(
                actor=actor.id,
                platform=actor.platform,
                action=action,
                result=result,
                outcome=outcome,
                detail=detail,
            )
        )
    finally:
        store.close()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the chat platform adapters."""
    from bot.wiring import MissingToken, discord_config, serve, slack_config

    settings = _settings()
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else settings.log_level)
    try:  # fail fast, before loading the model, when a needed token is missing
        if args.platform == "slack":
            slack_config(settings, http=args.http)
        elif args.platform == "discord":
            discord_config(settings)
    except MissingToken as exc:
        raise UsageError(str(exc)) from None
    from bot.adapters.discord_bot import DiscordSetupError

    # A replica on an empty Chroma server still starts: it answers "not built yet" until
    # someone runs `careerbot ingest`, then picks the index up on the next question.
    bot = _build(settings, build_if_empty=settings.chroma.mode != "http")
    generation = bot.index_generation()
    if generation:
        line = f"serving index {generation.describe()}"
    else:
        line = "the index is empty; run `careerbot ingest` (answers start once it is built)"
    print(f"careerbot: {line}", file=sys.stderr)
    try:
        asyncio.run(
            serve(bot, settings, args.platform, http=args.http, host=args.host, port=args.port)
        )
    except MissingToken as exc:
        raise UsageError(str(exc)) from None
    except DiscordSetupError as exc:  # a rejected token, a missing privileged intent
        raise UsageError(str(exc)) from None
    return 0


COMMANDS = {
    "ask": cmd_ask,
    "chat": cmd_chat,
    "ingest": cmd_ingest,
    "reload": cmd_ingest,
    "rollback": cmd_rollback,
    "audit": cmd_audit,
    "eval": cmd_eval,
    "doctor": cmd_doctor,
    "prune": cmd_prune,
    "report": cmd_report,
    "review": cmd_review,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `careerbot` script."""
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    if args.command == "serve" and not args.verbose:
        level = logging.INFO
    _HANDLER.setLevel(level)
    logging.basicConfig(level=level, handlers=[_HANDLER])
    # slack_bolt.RequestVerification logs rejected request bodies (message text) at INFO.
    for noisy in (
        "chromadb",
        "httpx",
        "urllib3",
        "bm25s",
        "discord.gateway",
        "slack_bolt.RequestVerification",
    ):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    from bot.evaluation import EvalFileError
    from bot.models import (
        DatabaseError,
        IndexNotReady,
        IndexUnavailable,
        IngestError,
        KnowledgeSyncError,
        LLMConfigError,
        NothingToRollBack,
        ReloadInProgress,
    )

    try:
        return COMMANDS[args.command](args)
    except DatabaseError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return 1
    except (UsageError, EvalFileError, LLMConfigError) as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return 2
    except IngestError as exc:
        print(f"careerbot: ingest failed, nothing was changed: {exc}", file=sys.stderr)
        return 1
    except KnowledgeSyncError as exc:
        print(f"careerbot: reload failed, nothing was changed: {exc}", file=sys.stderr)
        return 1
    except (IndexNotReady, IndexUnavailable, ReloadInProgress, NothingToRollBack) as exc:
        # Foreseeable index states (empty, server down, a reload elsewhere): one line.
        print(f"careerbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        line = _startup_failure(exc)
        if line is None:
            raise
        log.debug("start-up failed", exc_info=True)
        print(f"careerbot: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
