"""``cached_property`` without a lock.

Python 3.11's ``functools.cached_property`` holds one lock per property across every
instance of the class while it computes. The generation threads also share
``Context.cached`` under its own lock, and a fact computed under one lock may need the other:
two threads taking them in opposite orders wait for each other for ever (a load-1m load hung
so: one thread building the chatbot message layout under the context's lock and reaching
People.created, the other inside People.created reaching the context's child pool). These
values are pure functions of the instance, so two threads computing one at the same time
get the same value; the first stored wins and nothing waits. (Python 3.12 dropped the lock
from functools for the same reason.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_property(Generic[T]):
    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        stored = instance.__dict__
        if self.name in stored:
            return stored[self.name]
        value = self.func(instance)
        return stored.setdefault(self.name, value)
