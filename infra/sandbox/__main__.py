"""``python -m sandbox up|down|status|serve`` -- see :mod:`sandbox.control`.

Credentials may be given as options or through the environment variables
EDP_SANDBOX_WEATHER_API_KEY, EDP_SANDBOX_ANSHAN_APP_KEY and
EDP_SANDBOX_ANSHAN_APP_SECRET (``serve``, started by ``up``, only reads those).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from sandbox import control


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Department stand-ins on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("up", "start in the background (or reuse the running sandbox)"),
        ("serve", "run in the foreground (what 'up' starts)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--home", required=True)
        command.add_argument("--seed", type=int, default=42)
        command.add_argument("--scale", type=float, default=1.0)
        command.add_argument("--weather-port", type=int, default=0)
        command.add_argument("--anshan-port", type=int, default=0)
        command.add_argument("--host", default="127.0.0.1")
        if name == "up":
            command.add_argument("--weather-api-key")
            command.add_argument("--anshan-app-key")
            command.add_argument("--anshan-app-secret")
            command.add_argument("--timeout", type=float, default=30.0)
    for name, help_text in (("down", "stop the background sandbox"), ("status", "show the background sandbox")):
        commands.add_parser(name, help=help_text).add_argument("--home", required=True)
    return parser


def _credentials(args: argparse.Namespace) -> dict[str, str]:
    values = {
        "weather_api_key": getattr(args, "weather_api_key", None) or os.environ.get(control.ENV_WEATHER_API_KEY),
        "anshan_app_key": getattr(args, "anshan_app_key", None) or os.environ.get(control.ENV_ANSHAN_APP_KEY),
        "anshan_app_secret": getattr(args, "anshan_app_secret", None) or os.environ.get(control.ENV_ANSHAN_APP_SECRET),
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SystemExit(f"missing credentials: {', '.join(missing)} (options or EDP_SANDBOX_* variables)")
    return {name: value for name, value in values.items() if value}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "down":
        stopped = control.down(args.home)
        print("stopped" if stopped else "nothing was running")
        return 0
    if args.command == "status":
        info = control.status(args.home)
        print(json.dumps(info, indent=2) if info is not None else "not running")
        return 0 if info is not None and info["running"] else 3
    options = {
        "seed": args.seed,
        "scale": args.scale,
        "weather_port": args.weather_port,
        "anshan_port": args.anshan_port,
        "host": args.host,
        **_credentials(args),
    }
    if args.command == "serve":
        control.serve(args.home, **options)
        return 0
    try:
        info = control.up(args.home, timeout=args.timeout, **options)
    except control.SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
