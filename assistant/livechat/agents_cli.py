"""Agent accounts for the console, from the command line.

    python -m assistant.livechat.agents_cli add USERNAME [--name 表示名] [--password-stdin]
                                               [--role agent|editor|supervisor]
    python -m assistant.livechat.agents_cli role USERNAME agent|editor|supervisor
    python -m assistant.livechat.agents_cli passwd USERNAME [--password-stdin]
    python -m assistant.livechat.agents_cli disable|enable USERNAME
    python -m assistant.livechat.agents_cli list
    python -m assistant.livechat.agents_cli audit [--limit N]

The password is asked twice on the terminal (not echoed), or read from the first
line of standard input with --password-stdin (scripts). Same HANDOFF_DB_URL as the
bot. Exit codes: 0 ok, 1 error (message on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from ..handoff.cli import safe
from ..handoff.settings import store_from_env
from .agents import ROLES, AgentDirectory, AgentError
from .console_auth import AuditLog, ConsoleSessions


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("パスワード: ")
    if getpass.getpass("もう一度: ") != first:
        raise AgentError("パスワードが一致しません")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make agents ARGS=", description="エージェント(担当者)アカウント"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="アカウントを作る")
    add.add_argument("username")
    add.add_argument("--name", help="お客様に見える表示名(既定: ユーザー名)")
    add.add_argument("--role", choices=ROLES, default="agent", help="役割(既定: agent)")
    add.add_argument("--password-stdin", action="store_true")
    role = sub.add_parser("role", help="役割を変える")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    passwd = sub.add_parser("passwd", help="パスワードを変える(ログイン中のセッションは終了)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    for name in ("disable", "enable"):
        sub.add_parser(name).add_argument("username")
    sub.add_parser("list", help="アカウント一覧")
    audit = sub.add_parser("audit", help="ログイン・対応の記録")
    audit.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)

    store = store_from_env()
    agents = AgentDirectory(store.engine)
    try:
        if args.command == "add":
            agent = agents.add(args.username, _password(args), args.name, role=args.role)
            print(
                f"追加しました: {safe(agent.username)}(表示名 {safe(agent.display_name)}、"
                f"役割 {agent.role})"
            )
        elif args.command == "role":
            agents.set_role(args.username, args.role)
            print(f"役割を変更しました: {safe(args.username)} → {args.role}")
        elif args.command == "passwd":
            agents.set_password(args.username, _password(args))
            ConsoleSessions(store.engine).delete_for(args.username)
            print(f"パスワードを変更しました: {safe(args.username)}")
        elif args.command in ("disable", "enable"):
            agents.set_disabled(args.username, args.command == "disable")
            if args.command == "disable":
                ConsoleSessions(store.engine).delete_for(args.username)
            done = "無効" if args.command == "disable" else "有効"
            print(f"{done}にしました: {safe(args.username)}")
        elif args.command == "list":
            for a in agents.list():
                state = (
                    "無効" if a.disabled else ("対応可能" if a.status == "available" else "離席中")
                )
                seen = a.last_seen.isoformat(timespec="seconds") if a.last_seen else "-"
                who = f"{safe(a.username)}\t{safe(a.display_name)}\t{a.role}"
                print(f"{who}\t{state}\t最終確認 {seen}")
        else:
            for e in AuditLog(store.engine).entries(limit=args.limit):
                print(
                    "\t".join(
                        safe(x)
                        for x in (
                            e["at"].isoformat(timespec="seconds"),
                            e["action"],
                            e["actor"] or "-",
                            e["ticket_id"] or "-",
                            e["client"] or "-",
                        )
                    )
                )
    except AgentError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
