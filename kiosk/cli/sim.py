"""Placeholder until the sim command lands."""


def register(subparsers) -> None:
    return None
