"""Run the wire-format server from the command line.

Usage::

    python -m llmlab.testing.server --port 8765 --latency-ms 100 [--jitter-ms 20]
        [--chunk-delay-ms 5] [--fault 503:probability=0.1] [--host 127.0.0.1]

Point the SDKs at it with ``OPENAI_BASE_URL=http://127.0.0.1:8765/v1`` and
``ANTHROPIC_BASE_URL=http://127.0.0.1:8765``. Runs until Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from llmlab._errors import LlmlabError
from llmlab.testing._server import start_site
from llmlab.testing._state import ServerConfig, WireState

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m llmlab.testing.server",
        description="Local OpenAI/Anthropic wire-format server with latency and faults.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (8765; 0 = any free)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before answering")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="extra random delay, max")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="between stream events")
    parser.add_argument("--cache-read-tokens", type=int, default=0)
    parser.add_argument("--cache-write-tokens", type=int, default=0)
    parser.add_argument("--reasoning-tokens", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="answer 401 unless this key is sent")
    parser.add_argument("--seed", type=int, default=None, help="seed for jitter and p= faults")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault, e.g. 429:count=3,retry_after=1 or 503:probability=0.1 (repeatable)",
    )
    return parser


async def _serve(state: WireState, host: str, port: int) -> None:
    runner, bound = await start_site(state, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    url = f"http://{host}:{bound}"
    print(f"llmlab wire server listening on {url}", flush=True)
    print(f"  OPENAI_BASE_URL={url}/v1  ANTHROPIC_BASE_URL={url}", flush=True)
    try:
        await stop.wait()
    finally:
        state.release_hangs()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        config = ServerConfig(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            chunk_delay_ms=args.chunk_delay_ms,
            cache_read_tokens=args.cache_read_tokens,
            cache_write_tokens=args.cache_write_tokens,
            reasoning_tokens=args.reasoning_tokens,
            api_key=args.api_key,
        )
        state = WireState(config, seed=args.seed)
        for spec in args.fault:
            state.faults.add_spec(spec)
    except (LlmlabError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(state, args.host, args.port))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
