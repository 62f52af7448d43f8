"""An OpenAI-compatible server for one checkpoint: /v1/completions and /v1/chat/completions (streaming
too), /v1/models and /health.

    python -m model.serve runs/instruct/checkpoint.pt --port 8000 [--api-key KEY]
    python -m model.serve runs/instruct/checkpoint.pt --replicas 2 [--ray-address auto]

then any OpenAI client works against it: `OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=KEY)`.
Supported: max_tokens (max_completion_tokens for chat), temperature, top_p, stop (up to 4 strings), seed,
echo, stream (server-sent events in OpenAI's chunk format, with stream_options.include_usage), prompt as a
string, a list of strings or a list of token ids. Chat prompts use the checkpoint's "prompt_template"
(see `model.templates`; "plain" for a model never instruction-tuned).

Without --replicas, one process serves with uvicorn. With --replicas N, Ray Serve runs N replicas on a
local Ray (or the cluster at --ray-address), one GPU each where the cluster has GPUs, else CPU, behind Ray
Serve's HTTP proxy; every replica must be able to read the checkpoint path.

This module is the command line only: the routes and limits are ``model.serve_app`` (the same app in both
modes), Ray Serve's deployment is ``model.serve_ray``, request validation is ``model.openai_api`` and the
text comes from ``model.engine``.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error
from model.engine import Engine
from model.serve_app import ServerLimits, build_app, uvicorn_config
from model.templates import TEMPLATES

__all__ = ["EngineSpec", "ServerLimits", "build_app", "listening_socket", "main"]

log = logging.getLogger("model.serve")
API_KEY_ENV = "REFINERY_API_KEY"
DEFAULT_BACKLOG = 2048  # the kernel caps it at net.core.somaxconn (4096 on current Linux)


@dataclass(frozen=True)
class EngineSpec:
    """What a process (this one, or a Ray Serve replica) needs to open the engine itself."""

    checkpoint: str
    model_name: str | None = None
    template: str | None = None
    ranks_path: str | None = None
    device: str = "cpu"

    def open(self) -> Engine:
        return Engine.from_checkpoint(self.checkpoint, self.model_name, self.template, self.ranks_path,
                                      self.device, purpose="python -m model.serve")


def listening_socket(host: str, port: int, backlog: int = DEFAULT_BACKLOG) -> socket.socket:
    """A bound, listening TCP socket (port 0 picks a free one), IPv6 hosts included."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint_arg", nargs="?", metavar="CHECKPOINT", help="the checkpoint to serve")
    parser.add_argument("--checkpoint", default=None, help="the same, as an option")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on every interface")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (one process only)")
    parser.add_argument("--model-name", default=None, help="the 'model' clients must send (default: the "
                        "checkpoint's folder name)")
    parser.add_argument("--template", choices=TEMPLATES, default=None,
                        help="chat template (default: the checkpoint's prompt_template, else plain)")
    parser.add_argument("--api-key", default=os.environ.get(API_KEY_ENV) or None,
                        help=f"require 'Authorization: Bearer KEY' on /v1 routes (default: ${API_KEY_ENV})")
    parser.add_argument("--max-concurrency", type=int, default=2, help="requests generating at once, per "
                        "replica")
    parser.add_argument("--queue-timeout", type=float, default=30.0, help="seconds a request waits for a "
                        "generation slot before a 429")
    parser.add_argument("--max-prompts", type=int, default=16, help="prompts one completion request may carry")
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20)
    parser.add_argument("--body-timeout", type=float, default=30.0, help="seconds for a request body to arrive")
    parser.add_argument("--backlog", type=int, default=DEFAULT_BACKLOG, help="listen backlog (one process)")
    parser.add_argument("--device", default=None, help="torch device (default: cpu; cuda per replica on GPUs)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process or replica")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    parser.add_argument("--replicas", type=int, default=None, help="serve N replicas with Ray Serve")
    parser.add_argument("--ray-address", default=None, help="an existing Ray cluster (default: start a local one)")
    parser.add_argument("--cpus-per-replica", type=float, default=1.0, help="Ray CPUs per replica without GPUs")
    args = parser.parse_args(argv)
    if args.checkpoint and args.checkpoint_arg and args.checkpoint != args.checkpoint_arg:
        parser.error("give the checkpoint once, as CHECKPOINT or --checkpoint")
    args.checkpoint = args.checkpoint or args.checkpoint_arg
    if not args.checkpoint:
        parser.error("the checkpoint to serve is required")
    if args.replicas is not None and args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.ray_address and args.replicas is None:
        parser.error("--ray-address needs --replicas")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        limits = ServerLimits(max_body_bytes=args.max_body_bytes, max_concurrency=args.max_concurrency,
                              queue_timeout_s=args.queue_timeout, max_prompts=args.max_prompts,
                              body_timeout_s=args.body_timeout)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    spec = EngineSpec(str(args.checkpoint), args.model_name, args.template, args.ranks_path, args.device or "cpu")
    if not Path(spec.checkpoint).is_file():  # before any Ray starts: one line, as for a bad checkpoint
        exit_with_error(FileNotFoundError(f"checkpoint {spec.checkpoint} does not exist"))
    if args.replicas is not None:
        from model.serve_ray import serve_replicas  # Ray Serve is imported only when asked for

        return serve_replicas(spec, limits, args.api_key, args.host, args.port, args.replicas, args.ray_address,
                              args.cpus_per_replica, args.threads, explicit_device=args.device is not None)
    return serve_one(spec, limits, args)


def serve_one(spec: EngineSpec, limits: ServerLimits, args: Any) -> int:
    """One process: uvicorn on a socket bound here, so port 0 works and the backlog is ours."""
    import torch
    import uvicorn

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        engine = spec.open()
    except BAD_CHECKPOINT_ERRORS as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    sock = listening_socket(args.host, args.port, args.backlog)
    host, port = sock.getsockname()[:2]
    app = build_app(engine, limits, api_key=args.api_key)
    server = uvicorn.Server(uvicorn_config(app, backlog=args.backlog, lifespan="off", log_level="warning",
                                           timeout_keep_alive=5))
    shown = f"[{host}]" if ":" in host else host
    log.info("serving %r (%s template) on http://%s:%d/v1%s", engine.model_name, engine.template, shown, port,
             " (API key required)" if args.api_key else "")
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
