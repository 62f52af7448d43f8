"""``python -m model.serve --replicas N``: the same app (``model.serve_app``) in N Ray Serve replicas behind
Ray Serve's HTTP proxy, on a local Ray or the cluster at --ray-address.

Placement: where the cluster has GPUs each replica asks for one (``num_gpus=1``; Ray sets
CUDA_VISIBLE_DEVICES, so the replica's model goes to ``cuda``); otherwise ``--cpus-per-replica`` CPUs each,
with torch limited to that many threads so replicas on one machine don't oversubscribe its cores. Each
replica loads the checkpoint itself (the path must be readable on every node) and keeps its own generation
slots; the proxy routes each request to the less busy of two replicas, and cancels it on the replica when
the client disconnects.

HTTP parsing is the proxy's (Ray starts its own uvicorn with default settings and offers no option for
the protocol class), so a request whose framing its parser refuses (``Content-Length: -1``) gets uvicorn's
plain-text 400 there, where one process (``model.serve_app.uvicorn_config``) answers OpenAI's JSON.
Such a request never reaches a replica either way.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
from typing import TYPE_CHECKING, Any, Callable

import ray
from ray import serve

from model.serve_app import ServerLimits, build_app

if TYPE_CHECKING:
    from model.serve import EngineSpec

log = logging.getLogger("model.serve")
APP_NAME = "refinery"


def replica_app(spec: EngineSpec, limits: ServerLimits, api_key: str | None, threads: int | None) -> Callable[[], Any]:
    """The builder Ray Serve calls in each replica as it starts: it loads that replica's engine and wraps it
    in the app (so the model is never pickled, only the path and settings)."""
    def build() -> Any:
        import torch

        if threads:
            torch.set_num_threads(threads)
        name = serve.get_replica_context().replica_id.unique_id
        return build_app(spec.open(), limits, api_key, replica=name)
    return build


def placement(cluster: dict[str, float], replicas: int, cpus_per_replica: float) -> tuple[dict[str, float], str]:
    """Ray actor options and torch device for each replica: one GPU each where the cluster has GPUs."""
    gpus = int(cluster.get("GPU", 0))
    if gpus:
        if replicas > gpus:
            log.warning("%d replicas asked for, the cluster has %d GPUs: %d will wait for a GPU",
                        replicas, gpus, replicas - gpus)
        return {"num_gpus": 1, "num_cpus": 1}, "cuda"
    return {"num_cpus": cpus_per_replica}, "cpu"


def serve_replicas(spec: EngineSpec, limits: ServerLimits, api_key: str | None, host: str, port: int, replicas: int,
                   ray_address: str | None, cpus_per_replica: float, threads: int | None,
                   explicit_device: bool = False) -> int:
    """Deploy, report the address, block until SIGINT/SIGTERM, then take the deployment down."""
    import dataclasses

    if port == 0:
        raise SystemExit("error: Ray Serve's proxy needs a fixed --port")

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM as SIGINT: take the deployment down on the way out

    started_ray = not ray.is_initialized()
    if started_ray and ray_address:
        ray.init(address=ray_address, log_to_driver=False)
    elif started_ray:
        ray.init(include_dashboard=False, log_to_driver=False)
    signal.signal(signal.SIGTERM, interrupt)  # after ray.init, which installs a handler of its own
    try:
        actor_options, device = placement(ray.cluster_resources(), replicas, cpus_per_replica)
        if not explicit_device:
            spec = dataclasses.replace(spec, device=device)
        threads = threads or (None if device == "cuda" else max(1, math.floor(cpus_per_replica)))
        serve.start(http_options={"host": host, "port": port})
        ingress = serve.ingress(replica_app(spec, limits, api_key, threads))()
        deployment = serve.deployment(ingress, name="model").options(
            num_replicas=replicas, ray_actor_options=actor_options,
            max_ongoing_requests=max(64, 4 * limits.max_concurrency))
        serve.run(deployment.bind(), name=APP_NAME, route_prefix="/")
        shown = f"[{host}]" if ":" in host else host
        log.info("serving %d replicas (%s each) on http://%s:%d/v1%s", replicas,
                 "1 GPU" if device == "cuda" else f"{cpus_per_replica:g} CPU", shown, port,
                 " (API key required)" if api_key else "")
        threading.Event().wait()  # until SIGINT or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        log.info("taking the deployment down")
        try:
            serve.delete(APP_NAME)
            if not serve.status().applications:
                serve.shutdown()  # no other application on this cluster needs Serve's proxy
        finally:
            if started_ray:
                ray.shutdown()
    return 0
