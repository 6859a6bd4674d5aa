"""Placeholder until the sim command lands."""


def register(subparsers) -> None:  # noqa: ARG001
    return None
