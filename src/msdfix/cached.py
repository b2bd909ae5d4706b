"""``cached_property`` without a lock.

Python 3.11's ``functools.cached_property`` takes a lock on each first access (Python 3.12
dropped it: it serialised every instance of a class); msdfix reads its objects from one
thread (``--jobs`` runs processes), so each first access paid for nothing. This one computes
the value and stores it in the instance's ``__dict__``, where later reads find it without
calling the descriptor, as 3.12's does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 (the name of the one it stands for)
    """A property computed once per instance, then read from the instance's ``__dict__``."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.attrname: str | None = None
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object, owner: type | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.attrname or self.func.__name__] = value
        return value
