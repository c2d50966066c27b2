"""The generators' cached properties never make one thread wait for another."""

from __future__ import annotations

import threading

from moeen_synth.models.cached import cached_property


def test_a_property_being_computed_does_not_block_another_instance() -> None:
    """functools.cached_property on Python 3.11 holds one lock per property for every
    instance: a thread reading ``b.value`` waits while another computes ``a.value``, which
    deadlocked generation once with the context's own cache lock."""
    started, release = threading.Event(), threading.Event()

    class Slow:
        def __init__(self, wait: bool) -> None:
            self.wait = wait
            self.calls = 0

        @cached_property
        def value(self) -> int:
            self.calls += 1
            if self.wait:
                started.set()
                assert release.wait(10)
            return 41 + self.wait

    a, b = Slow(True), Slow(False)
    first = threading.Thread(target=lambda: a.value)
    first.start()
    assert started.wait(10)
    got: list[int] = []
    second = threading.Thread(target=lambda: got.append(b.value))
    second.start()
    second.join(timeout=5)
    finished = not second.is_alive()
    release.set()
    first.join()
    second.join()
    assert finished, "reading one instance waited for another's computation"
    assert got == [41] and a.value == 42 and (a.calls, b.calls) == (1, 1)
    assert Slow.value.name == "value"


def test_a_context_structure_being_built_does_not_block_another() -> None:
    """Context.cached locks each structure alone: while one thread builds the census, the
    others read and build the rest; a structure is still built once."""
    from moeen_synth import plan, profile

    ctx = plan.context(profile.load("demo"))
    started, release = threading.Event(), threading.Event()
    builds: list[str] = []

    def slow() -> int:
        builds.append("slow")
        started.set()
        assert release.wait(10)
        return 1

    first = threading.Thread(target=lambda: ctx.cached("slow", slow))
    first.start()
    assert started.wait(10)
    got: list[int] = []
    second = threading.Thread(target=lambda: got.append(ctx.cached("other", lambda: 2)))
    second.start()
    second.join(timeout=5)
    finished = not second.is_alive()
    waiting = threading.Thread(target=lambda: got.append(ctx.cached("slow", slow)))
    waiting.start()
    release.set()
    for thread in (first, second, waiting):
        thread.join()
    assert finished, "reading another structure waited for a build"
    assert got == [2, 1] and builds == ["slow"]
