"""The `upwatch` command: worker, prune, rebuild-rollups, rotate-secrets, hash-password."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from composition.logs import LOG_FORMAT
from composition.worker import run_worker


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # A worker's scheduler would log every job run; its warnings (missed runs) still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="upwatch", description="Upwatch uptime monitor")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("worker", help="run the probe engine without the web UI")
    commands.add_parser("prune", help="delete raw results and rollups past their retention")
    commands.add_parser("rebuild-rollups", help="recompute rollups from the retained raw results")
    commands.add_parser("rotate-secrets",
                        help="encrypt every stored secret again with the first key of "
                             "UPWATCH_SECRET_KEY")
    commands.add_parser("hash-password",
                        help="print an argon2id hash of a password, for UPWATCH_ADMIN_PASSWORD "
                             "(asked twice on a terminal, else one line from stdin)")
    args = parser.parse_args(argv)
    if args.command == "hash-password":
        sys.exit(hash_password_command())
    if args.command == "worker":
        run_worker()
    elif args.command == "prune":
        from storage.retention import prune

        pruned = prune()
        print(f"pruned {pruned.results} raw results and {pruned.rollups} rollups")
    elif args.command == "rebuild-rollups":
        from storage.rebuild import rebuild_all

        print(f"rebuilt {rebuild_all()} rollup rows")
    elif args.command == "rotate-secrets":
        from storage.db import get_engine
        from storage.secret_rotation import reseal_all

        done = reseal_all(get_engine())
        print(f"encrypted again with the current key: the secrets of {done.monitors} monitors "
              f"and {done.channels} channels" + (", and the link-signing key"
                                                  if done.signing_key else ""))


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
