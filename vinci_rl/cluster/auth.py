"""Ray token authentication, as vinci-rl's cluster commands use it.

Ray 2.60 turns token authentication on at a head started with `ray start --head` when a token exists
(`~/.ray/auth_token`, `RAY_AUTH_TOKEN_PATH` or `RAY_AUTH_TOKEN`). Everything that talks to that cluster must
then send the same token in token mode: `ray start --address` of every other node, `ray job submit`, and every
`ray.init(address=...)`. Ray enables token mode by itself only for a local cluster it finds on its own
(`address="auto"`); with an explicit address it does not, so that a local token is never sent to a cluster
the user did not mean. vinci-rl keeps that rule and adds one: a token named explicitly in the environment
(`RAY_AUTH_TOKEN` or `RAY_AUTH_TOKEN_PATH`) means token mode (`RAY_AUTH_MODE=token`) unless RAY_AUTH_MODE says
otherwise. A connection refused for its token becomes an error that says which variables to set.
"""

from __future__ import annotations

import os
from pathlib import Path

MODE_VAR = "RAY_AUTH_MODE"
TOKEN_VAR = "RAY_AUTH_TOKEN"
TOKEN_PATH_VAR = "RAY_AUTH_TOKEN_PATH"

HOW_TO = (
    "the cluster uses Ray token authentication: give this command the cluster's token with "
    f"{TOKEN_PATH_VAR}=/path/to/auth_token (or {TOKEN_VAR}=...) and {MODE_VAR}=token "
    "(on the head: `ray get-auth-token` prints it)"
)


def auth_env(token_path: str | Path) -> dict[str, str]:
    """The environment that makes a Ray process (node, driver, CLI) authenticate with the token in this file."""
    return {MODE_VAR: "token", TOKEN_PATH_VAR: str(Path(token_path).resolve())}


def enable_token_mode_if_token_given(environ: dict | None = None) -> bool:
    """Set RAY_AUTH_MODE=token when a token is given explicitly and the mode is not set. True when token mode
    is on afterwards. Call before ray.init / `ray` commands that connect to an explicit address."""
    env = os.environ if environ is None else environ
    if MODE_VAR not in env and (env.get(TOKEN_VAR) or env.get(TOKEN_PATH_VAR)):
        env[MODE_VAR] = "token"
    return env.get(MODE_VAR, "").lower() == "token"


def is_auth_error(exc: BaseException) -> bool:
    """True for Ray's refusals of a missing or wrong token (raised as AuthenticationError, or wrapped)."""
    from ray.exceptions import AuthenticationError

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, AuthenticationError) or "InvalidAuthToken" in str(exc) or "authentication token" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _reload_ray_config() -> None:
    """Ray reads RAY_AUTH_MODE into its config when it is imported; re-read it (and the token) after setting it."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def connect(address: str, namespace: str | None = None, **kwargs) -> None:
    """ray.init to an existing cluster with token handling; an auth refusal raises ConnectionError saying what
    to set. A no-op when this process is already connected."""
    import ray

    if ray.is_initialized():
        return
    if "RAY_AUTH_MODE" not in os.environ and enable_token_mode_if_token_given():
        _reload_ray_config()
    try:
        ray.init(address=address, namespace=namespace, **kwargs)
    except Exception as e:
        if is_auth_error(e):
            raise ConnectionError(f"Ray cluster at {address} refused the connection: {HOW_TO}") from e
        raise
