"""The `upwatch` command: serve, worker, migrate, backup, restore, prune, rebuild-rollups,
rotate-secrets, hash-password, user (add, passwd, remove, list), export-monitors, export and
apply (configuration as code)."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from composition.worker import run_worker
from config.config_document import DocumentRules
from config.logging_setup import configure_logging
from config.settings import get_settings

# app.py sits at the checkout's root beside the packages; the wheel puts it (with router.py and
# pages/) in site-packages/upwatch_app/, clear of other distributions' top-level names.
_PACKAGES = Path(__file__).resolve().parent.parent
APP_SCRIPT = next((script for script in (_PACKAGES / "upwatch_app" / "app.py",
                                         _PACKAGES / "app.py") if script.is_file()),
                  _PACKAGES / "app.py")


def upwatch_version() -> str:
    try:
        return version("upwatch")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def serve(streamlit_args: list[str]) -> None:
    """`streamlit run app.py` with the app wherever Upwatch is installed; every flag (and
    --help) is streamlit run's own. Runs in this process, so signals reach the server."""
    from streamlit.web import cli as streamlit_cli

    # The server stops cleanly on SIGTERM and then raises it again, which would end the process
    # as killed (143): a stop that was asked for and done is a success (exit 0) for systemd,
    # Docker and supervisors alike.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    streamlit_cli.main_run.main([str(APP_SCRIPT), *streamlit_args], prog_name="upwatch serve")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(argv[1:])  # streamlit parses the flags: argparse would refuse --server.port
        return
    parser = argparse.ArgumentParser(prog="upwatch", description="Upwatch uptime monitor")
    parser.add_argument("--version", action="version", version=f"upwatch {upwatch_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the UI, badges and API and run the probes; takes "
                                      "the flags of `streamlit run` (upwatch serve --help)")
    commands.add_parser("worker", help="run the probe engine without the web UI")
    commands.add_parser("prune", help="delete raw results and rollups past their retention")
    commands.add_parser("rebuild-rollups", help="recompute rollups from the retained raw results")
    commands.add_parser("rotate-secrets",
                        help="encrypt every stored secret again with the first key of "
                             "UPWATCH_SECRET_KEY")
    migrate = commands.add_parser("migrate", help="bring the database's schema up to date now "
                                                  "(Upwatch also does it at start)")
    migrate.add_argument("--check", action="store_true",
                         help="only list the migrations still to apply; exit 1 if there are any")
    backup = commands.add_parser("backup", help="copy the database to FILE while Upwatch runs "
                                                "(SQLite: online backup; PostgreSQL: pg_dump)")
    backup.add_argument("file", type=Path)
    restore = commands.add_parser("restore", help="put a backup FILE into an empty data "
                                                  "directory (or empty PostgreSQL database)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--secret-key-file", type=Path, metavar="KEY",
                         help="the secret.key kept with the backup, put beside the database")
    export = commands.add_parser("export-monitors",
                                 help="write every monitor as a monitors file (YAML) to FILE, or "
                                      "to stdout; UPWATCH_MONITORS_FILE applies it")
    export.add_argument("file", type=Path, nargs="?")
    document = commands.add_parser(
        "export", help="write the whole configuration (monitors, status page, channels, routing, "
                       "escalation, maintenance) as one YAML document; secrets as ${VARIABLE}s")
    document.add_argument("-o", "--output", type=Path, metavar="FILE",
                          help="write to FILE instead of stdout")
    apply = commands.add_parser("apply", help="make the configuration match a document from "
                                              "`upwatch export`, in one transaction")
    apply.add_argument("-f", "--file", type=Path, required=True, metavar="FILE")
    apply.add_argument("--dry-run", action="store_true",
                       help="only print what would change")
    apply.add_argument("--prune", action="store_true",
                       help="delete what the database has and the document does not")
    commands.add_parser("hash-password",
                        help="print an argon2id hash of a password, for UPWATCH_ADMIN_PASSWORD "
                             "(asked twice on a terminal, else one line from stdin)")
    _add_user_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "hash-password":
        sys.exit(hash_password_command())
    configure_logging(get_settings())
    if args.command == "user":
        sys.exit(user_command(args))
    if args.command in ("backup", "restore"):
        sys.exit(backup_command(args))
    if args.command == "migrate":
        sys.exit(migrate_command(args.check))
    if args.command == "worker":
        run_worker()
    elif args.command == "prune":
        from storage.retention import prune

        pruned = prune()
        print(f"pruned {pruned.results} raw results and {pruned.rollups} rollups")
    elif args.command == "rebuild-rollups":
        from storage.rebuild import rebuild_all

        print(f"rebuilt {rebuild_all()} rollup rows")
    elif args.command == "export-monitors":
        export_monitors_command(args.file)
    elif args.command == "export":
        export_command(args.output)
    elif args.command == "apply":
        sys.exit(apply_command(args.file, dry_run=args.dry_run, prune=args.prune))
    elif args.command == "rotate-secrets":
        from storage.db import get_engine
        from storage.secret_rotation import reseal_all

        done = reseal_all(get_engine())
        print(f"encrypted again with the current key: the secrets of {done.monitors} monitors "
              f"and {done.channels} channels" + (", and the link-signing key"
                                                  if done.signing_key else ""))


def _add_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from domain.roles import ROLES

    user = commands.add_parser("user", help="add, change, remove or list the dashboard's users")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add a user (the password is asked twice on a "
                                         "terminal, or read with --password-stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin")
    passwd = actions.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of stdin")
    remove = actions.add_parser("remove", help="remove a user (never the last admin)")
    remove.add_argument("name")
    actions.add_parser("list", help="list the users, their roles and last sign-in")


def _new_password(from_stdin: bool) -> str | None:
    """The password typed twice on a terminal, or stdin's first line; None when unusable."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        print("The two passwords differ.", file=sys.stderr)
        return None
    return password


def user_command(args: argparse.Namespace) -> int:
    """`upwatch user add|passwd|remove|list`: 0 when done, 1 when refused (and why, on stderr)."""
    from domain.limits import InvalidInput
    from storage.audit import CLI_ACTOR
    from storage.users import add_user, list_users, remove_user, set_password

    try:
        if args.user_command == "list":
            for user in list_users():
                signed = f"{user.last_sign_in_at:%Y-%m-%d %H:%M} UTC" if user.last_sign_in_at \
                    else "never signed in"
                source = " (UPWATCH_ADMIN_PASSWORD)" if user.password_from_settings else ""
                print(f"{user.username}\t{user.role}\t{signed}{source}")
            return 0
        if args.user_command == "remove":
            remove_user(args.name, actor=CLI_ACTOR)
            print(f"removed {args.name.strip().lower()}")
            return 0
        password = _new_password(args.password_stdin)
        if password is None:
            return 1
        if args.user_command == "add":
            added = add_user(args.name, args.role, password, actor=CLI_ACTOR)
            print(f"added {added.username} ({added.role})")
        else:
            set_password(args.name, password, actor=CLI_ACTOR)
            print(f"set a new password for {args.name.strip().lower()}")
    except InvalidInput as refused:
        for field, message in refused.errors.items():
            print(f"upwatch user {args.user_command}: {field}: {message}", file=sys.stderr)
        return 1
    return 0


def export_monitors_command(file: Path | None) -> None:
    from config.monitors_file import dump_monitors_file
    from storage.monitors import exported_monitors

    entries = exported_monitors()
    text = dump_monitors_file(entries)
    if file is None:
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        print(f"wrote {len(entries)} monitors to {file}")


def document_rules() -> DocumentRules:
    """The rules `upwatch apply` holds a document to: the dashboard's import holds it to the
    same ones (ui/config_document_rules), read here only when a document is."""
    from ui.config_document_rules import document_rules as shared_rules

    return shared_rules()


def export_command(file: Path | None) -> None:
    from config.config_document import dump_document
    from storage.config_apply import export_document

    text = dump_document(export_document())
    if file is None:
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        print(f"wrote the configuration to {file}")


def apply_command(file: Path, *, dry_run: bool, prune: bool) -> int:
    """`upwatch apply -f FILE`: 0 when applied (or planned), 1 when refused (why, on stderr)."""
    import os

    from config.config_document import InvalidDocument, load_document
    from config.document_positions import with_positions
    from storage.config_apply import apply, plan

    try:
        document = load_document(file, document_rules(), os.environ)
        done = plan(document, prune) if dry_run else apply(document, prune)
    except InvalidDocument as refused:
        print(f"upwatch apply: {file} was not applied, nothing changed:", file=sys.stderr)
        try:  # each problem told where it is in the file (a file that cannot be read: as is)
            problems = with_positions(file.read_text(encoding="utf-8"), refused.problems)
        except (OSError, UnicodeDecodeError):
            problems = refused.problems
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for line in done.lines():
        print(line)
    verb = "would change" if dry_run else "changed"
    print(f"{verb} {len(done.changes)} objects" if done.changes else "nothing to change")
    return 0


def backup_command(args: argparse.Namespace) -> int:
    from composition.backup import BackupError, backup, restore

    url = get_settings().database_url
    try:
        print(backup(url, args.file) if args.command == "backup"
              else restore(url, args.file, args.secret_key_file))
    except BackupError as exc:
        print(f"upwatch {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def migrate_command(check: bool) -> int:
    from composition.schema import schema_status

    url = get_settings().database_url
    if not check:
        from storage.db import get_engine

        get_engine(url)  # opening the database upgrades its schema
    try:
        status = schema_status(url)
    except FileNotFoundError as exc:
        print(f"upwatch migrate: {exc}", file=sys.stderr)
        return 1
    print(status.describe())
    return 1 if status.pending else 0


def hash_password_command() -> int:
    from access.passwords import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("The two passwords differ.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("An empty password cannot be used.", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    main()
