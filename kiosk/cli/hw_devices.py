"""Placeholder until its issue-3 module lands."""


def register(subparsers) -> None:  # noqa: ARG001
    return None
