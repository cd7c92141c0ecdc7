"""Thin command line: parses arguments, wires the stages together, prints errors plainly."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from etl import config_load, pipeline, verify
from etl.config import Config, load_config
from etl.demo import synth
from etl.errors import ConfigError, DiffError, EtlError
from etl.ledger import anchors, diff, keygen, receipt, remote, removals
from etl.privacy import scan
from etl.site import serve
from etl.staff import preview, summary


def _load(args) -> Config:
    as_of = None
    if getattr(args, "as_of", None):
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError:
            raise ConfigError([f"--as-of: {args.as_of!r} is not a date like 2026-11-20"])
    config = load_config(args.config, as_of=as_of)
    if getattr(args, "sources_from", None):
        config = _read_sources_from(config, Path(args.sources_from))
    return config


def _read_sources_from(config: Config, folder: Path) -> Config:
    """Point every file source at the file of the same name in another export folder."""
    missing, sources = [], []
    for source in config.sources:
        if source.kind == "file" and source.path is not None:
            source = dataclasses.replace(source, path=(folder / source.path.name).resolve())
            if not source.path.exists():
                missing.append(f"sources: {source.name}: {source.path} does not exist")
        sources.append(source)
    if missing:
        raise ConfigError(missing, path=str(config.path))
    return config.replace(sources=tuple(sources))


def _cmd_stage(args) -> int:
    pipeline.run_stage(args.command, _load(args))
    return 0


def _cmd_publish(args) -> int:
    config = _load(args)
    if args.from_preview:
        return _closing(args, config, "publish", lambda: _publish_preview(args, config))
    if args.allow_removals is not None:
        config = removals.allow(config, args.allow_removals)
    if args.snapshot_only:
        pipeline.publish(config, snapshot_only=True)
        return 0
    return _closing(args, config, "publish", lambda: (pipeline.publish(config), config))


def _publish_preview(args, config: Config) -> tuple[Path, Config]:
    """Commit exactly the files `preview` built, once every recorded hash still holds."""
    if args.allow_removals is not None:
        text = summary.words_for(config)
        raise EtlError(text["removals_with_preview"],
                       hint=text["removals_with_preview_hint"].format(config=config.path))
    with pipeline._publish_lock(config):
        preview_config = preview.check(config)
        preview.forget(preview_config)  # used once: its site is about to move away
        pipeline.commit_site(preview_config, preview.staged_site(preview_config), print, config.work_dir)
    return config.site_dir, preview_config


def _cmd_preview(args) -> int:
    config = _load(args)
    if args.allow_removals is not None:
        config = removals.allow(config, args.allow_removals)
    preview_config = preview.config_for(config)

    def build() -> tuple[Path, Config]:
        with pipeline._publish_lock(config):  # a publish clears nothing here, but one at a time reads clearer
            preview.forget(preview_config)
            live = preview.live_head(config)
            site = pipeline.stage_site(preview_config, print)
            preview.record(config, preview_config, live)
        return site, preview_config

    code = _closing(args, config, "preview", build)
    if not args.no_serve:
        text = summary.words_for(config)
        serve.serve_until_interrupted(
            preview.staged_site(preview_config), args.port,
            lambda address: print(text["serving"].format(url=address)))
    return code


def _closing(args, config: Config, command: str, run) -> int:
    """Run a publish or preview, then write and print its closing summary (also when it fails)."""
    started, live = time.perf_counter(), preview.live_head(config)
    work_dir = preview.config_for(config).work_dir if command == "preview" else config.work_dir
    target = Path(args.summary) if args.summary else work_dir / summary.FILE_NAME
    try:
        site, used = run()
    except EtlError as error:
        summary.write(summary.failure(command=command, config_path=str(config.path),
                                      language=config.language, error=error), target)
        raise
    if command == "preview":
        snapshot_dir = next(p for p in preview.staged_snapshot_root(used).iterdir() if p.is_dir())
        kept = snapshot_dir.parent.parent / "site" / receipt.PDF_FOLDER / f"{snapshot_dir.name}.pdf"
    else:
        snapshot_dir = Path(config.snapshots_dir) / preview.live_head(config)
        kept = config.work_dir / receipt.STAFF_FOLDER / f"{snapshot_dir.name}.pdf"
    result = summary.collect(used, command=command, snapshot_dir=snapshot_dir,
                             live_snapshot=live, site=site, receipt=kept if kept.is_file() else None,
                             seconds=time.perf_counter() - started, summary_path=target)
    summary.write(result, target)
    print(summary.render(result))
    if command == "preview":
        print(summary.words_for(config)["next_step"].format(config=config.path))
    return 0


def _cmd_verify(args) -> int:
    target = args.site or str(load_config(args.config).site_dir)
    key = Path(args.public_key) if args.public_key else None
    anchored = {"known_heads": _known_heads(args),
                "tsa_certificate": Path(args.tsa_cert) if args.tsa_cert else None}
    if remote.is_url(target):
        with tempfile.TemporaryDirectory(prefix="gongshi-verify-") as folder:
            notes = pipeline.verify_site(remote.download_site(target, Path(folder)), key, **anchored)
        checked = "hashes, chain, CSV/JSON and metrics of its snapshots (pages are not fetched)"
    else:
        notes = pipeline.verify_site(Path(target), key, rebuild=not args.no_rebuild, **anchored)
        checked = ("hashes, chain, CSV/JSON and metrics of its snapshots"
                   if verify.is_store(Path(target))
                   else "hashes, chain, CSV/JSON and page figures" if args.no_rebuild
                   else "hashes, chain, CSV/JSON, page figures and every file of a rebuild")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"verified {target}: {checked} match the data")
    if anchored["known_heads"]:
        print(f"the chain contains all {len(anchored['known_heads'])} known head(s) given")
    return 0


def _known_heads(args) -> list[anchors.KnownHead]:
    heads = [anchors.parse_known_head(text) for text in args.known_head]
    if args.known_heads:
        heads += anchors.read_known_heads(Path(args.known_heads))
    return heads


def _cmd_keygen(args) -> int:
    secret, public = keygen.generate(Path(args.out), args.password_env)
    print(keygen.instructions(secret, public, args.password_env))
    return 0


def _cmd_diff(args) -> int:
    fmt = args.format or ("xlsx" if args.out and args.out.lower().endswith(".xlsx") else "text")
    if fmt == "xlsx" and not args.out:
        raise DiffError("--format xlsx writes a workbook, which is not text for the terminal",
                        hint="add --out FILE.xlsx")
    output, ok = diff.run(args.old, args.new, fmt=fmt, language=args.language)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(output if isinstance(output, bytes) else output.encode("utf-8"))
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(output)
    return 0 if ok or not args.fail_on_removed else 1


def _cmd_scan(args) -> int:
    scan.run(Path(args.site))
    print(f"scanned {args.site}: no personal data found")
    return 0


def _cmd_synth(args) -> int:
    synth.run_cli(args)
    return 0


def _cmd_init(args) -> int:
    from etl.read import init_config  # reads workbooks: loaded only for this command
    for line in init_config.run(args.sources, Path(args.out), force=args.force):
        print(line)
    return 0


def _cmd_federate(args) -> int:
    from etl.federation import config as province_config, federate
    as_of = None
    if args.as_of:
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError:
            raise ConfigError([f"--as-of: {args.as_of!r} is not a date like 2026-11-20"])
    outcome = federate.run(province_config.load(args.config, as_of=as_of))
    if error := federate.failures(outcome):
        raise error
    return 0


def _cmd_config_reference(args) -> int:
    text = config_load.reference()
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_config(sub):
        sub.add_argument("--config", help="YAML config (default: site_data/gongshi.yml)")
        sub.add_argument("--as-of", help="publish date YYYY-MM-DD (overrides config)")
        sub.add_argument("--sources-from", metavar="DIR",
                         help="read each file source from DIR (an earlier export) by file name")
        return sub

    for stage in pipeline.STAGES:
        with_config(commands.add_parser(stage.name, help=f"{stage.help} (this stage alone)")
                    ).set_defaults(handler=_cmd_stage)
    publish_parser = with_config(commands.add_parser(
        "publish", help="run every stage and publish atomically"))
    publish_parser.add_argument("--snapshot-only", action="store_true",
                                help="write the snapshot but do not rebuild the site")
    publish_parser.add_argument("--allow-removals", metavar="REASON",
                                help="let this publish drop items the previous snapshot had; "
                                     "REASON is recorded in the manifest and on the changes page")
    publish_parser.add_argument("--from-preview", action="store_true",
                                help="commit exactly what `preview` built (refused when its "
                                     "sources, config or the live snapshot changed since)")
    publish_parser.add_argument("--summary", metavar="FILE",
                                help="write the closing summary as JSON to FILE "
                                     "(default: summary.json in the work dir)")
    publish_parser.set_defaults(handler=_cmd_publish)
    preview_parser = with_config(commands.add_parser(
        "preview", help="build everything into work_dir/preview/, show what would change, "
                        "and serve it on 127.0.0.1; the live site and snapshots are untouched"))
    preview_parser.add_argument("--port", type=int, default=8000,
                                help="port on 127.0.0.1 to serve the preview on (default 8000)")
    preview_parser.add_argument("--no-serve", action="store_true",
                                help="build and summarise the preview, but do not serve it")
    preview_parser.add_argument("--allow-removals", metavar="REASON",
                                help="as for publish; --from-preview then publishes it")
    preview_parser.add_argument("--summary", metavar="FILE",
                                help="write the closing summary as JSON to FILE "
                                     "(default: summary.json in work_dir/preview/)")
    preview_parser.set_defaults(handler=_cmd_preview)

    verify_parser = commands.add_parser(
        "verify", help="re-check a site: hashes, chain, CSV/JSON, figures, and a rebuild of it")
    verify_parser.add_argument("site", nargs="?",
                        help="a built site folder or its copy, a site's URL (its data and chain), "
                             "or a snapshots_dir (default: the config's site_dir)")
    verify_parser.add_argument("--no-rebuild", action="store_true",
                        help="skip rebuilding the site to compare every file (for a site whose "
                             "newest snapshot has no build.json)")
    verify_parser.add_argument("--config", help="YAML config whose site_dir to verify when no SITE is given")
    verify_parser.add_argument("--public-key", metavar="PATH",
                        help="minisign public key obtained out of band: checks the signatures, "
                             "and the site's own data/minisign.pub must equal it")
    verify_parser.add_argument("--known-head", action="append", default=[], metavar="ID",
                        help="a snapshot id recorded outside the site (a receipt), optionally "
                             "ID:SHA256 of its manifest; the chain must contain it (repeatable)")
    verify_parser.add_argument("--known-heads", metavar="FILE",
                        help="a file of known heads, one `ID [SHA256]` a line, # comments")
    verify_parser.add_argument("--tsa-cert", metavar="PATH",
                        help="the timestamp authority's CA certificate obtained out of band: "
                             "checks the RFC 3161 tokens, and the site's own copy must equal it")
    verify_parser.set_defaults(handler=_cmd_verify)

    keygen_parser = commands.add_parser(
        "keygen", help="make a minisign key pair for signing snapshots, and say where it goes")
    keygen_parser.add_argument("--out", required=True, metavar="DIR",
                               help="folder for minisign.key and minisign.pub (never overwritten)")
    keygen_parser.add_argument("--password-env", default="", metavar="NAME",
                               help="encrypt the secret key with the password in this "
                                    "environment variable (default: unencrypted)")
    keygen_parser.set_defaults(handler=_cmd_keygen)

    diff_parser = commands.add_parser("diff", help="compare two snapshots (folders or URLs)")
    diff_parser.add_argument("old")
    diff_parser.add_argument("new")
    diff_parser.add_argument("--format", choices=diff.FORMAT_NAMES,
                             help="text (default), markdown, json, or xlsx (an auditor's "
                                  "workbook; needs --out, and is the default for --out *.xlsx)")
    diff_parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    diff_parser.add_argument("--language", choices=diff.LANGUAGES, default="zh",
                             help="language of the workbook's sheet names and headers")
    diff_parser.add_argument("--fail-on-removed", action="store_true",
                      help="exit 1 when an item disappeared between the snapshots")
    diff_parser.set_defaults(handler=_cmd_diff)

    scan_parser = commands.add_parser("scan", help="scan a built site for personal data")
    scan_parser.add_argument("site")
    scan_parser.set_defaults(handler=_cmd_scan)

    synth_parser = commands.add_parser("synth", help="generate a synthetic campaign (demo, bench)")
    synth_parser.set_defaults(handler=_cmd_synth)
    synth.add_arguments(synth_parser)
    reference_parser = commands.add_parser(
        "config-reference", help="print every config key with its type, default and meaning")
    reference_parser.add_argument("--write", metavar="FILE", help="write it to FILE (CONFIG.md)")
    reference_parser.set_defaults(handler=_cmd_config_reference)
    init_parser = commands.add_parser(
        "init", help="read your exports (files or URLs) and write a commented config for them")
    init_parser.add_argument("sources", nargs="+", metavar="SOURCE",
                             help="an export (xlsx, xls, ods, csv, json, Open311) or its URL")
    init_parser.add_argument("--out", required=True, metavar="CONFIG",
                             help="the config to write (sources are named relative to it)")
    init_parser.add_argument("--force", action="store_true", help="overwrite CONFIG")
    init_parser.set_defaults(handler=_cmd_init)
    federate_parser = commands.add_parser(
        "federate", help="pull, verify and record many county sites into one province site")
    federate_parser.add_argument("--config", required=True, metavar="PROVINCE.yml",
                                 help="the province config: its members and where it writes")
    federate_parser.add_argument("--as-of", help="federation date YYYY-MM-DD (overrides config)")
    federate_parser.set_defaults(handler=_cmd_federate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except EtlError as error:
        print(f"error: {error.render()}", file=sys.stderr)
        return error.exit_code
