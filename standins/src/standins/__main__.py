"""``python -m standins serve --home DIR``: the stand-ins in the foreground.

Started in the background by ``edp sandbox up`` (see :mod:`standins.serve`).
Credentials come from EDP_SANDBOX_WEATHER_API_KEY, EDP_SANDBOX_ANSHAN_APP_KEY
and EDP_SANDBOX_ANSHAN_APP_SECRET, the other departments' from
EDP_SANDBOX_DEPARTMENTS (:mod:`standins.departments`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from standins import serve
from standins.common.storm import ENV_STORM, STORM_MODES, storm_from_env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m standins", description="Department stand-ins on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("serve", help="run in the foreground until SIGTERM (what `edp sandbox up` starts)")
    command.add_argument("--home", required=True)
    command.add_argument("--seed", type=int, default=42)
    command.add_argument("--scale", type=float, default=1.0)
    command.add_argument(
        "--days",
        type=int,
        default=serve.DEMO_DAYS,
        help="history length in days (at least; default 3, the demo's); 365 is a year of data",
    )
    command.add_argument("--weather-port", type=int, default=0)
    command.add_argument("--anshan-port", type=int, default=0)
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument(
        "--storm",
        choices=STORM_MODES,
        default=None,
        help="the shared storm: 'season' (default; snow in winter) or 'summer' (the rainstorm whatever the date); "
        f"default from {ENV_STORM}",
    )
    return parser


def _credentials() -> dict[str, str]:
    values = {
        "weather_api_key": os.environ.get(serve.ENV_WEATHER_API_KEY, ""),
        "anshan_app_key": os.environ.get(serve.ENV_ANSHAN_APP_KEY, ""),
        "anshan_app_secret": os.environ.get(serve.ENV_ANSHAN_APP_SECRET, ""),
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SystemExit(f"missing credentials: {', '.join(missing)} (EDP_SANDBOX_* variables)")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    serve.serve(
        args.home,
        seed=args.seed,
        scale=args.scale,
        days=args.days,
        weather_port=args.weather_port,
        anshan_port=args.anshan_port,
        host=args.host,
        storm=args.storm or storm_from_env(),
        **_credentials(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
