"""Imported first by the command: the allocators' settings (``moeen_synth.allocator``) are
read when polars and pyarrow are imported, so they are made before anything imports them."""

from moeen_synth.allocator import configure_process

configure_process()
