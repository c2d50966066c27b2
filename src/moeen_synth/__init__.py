"""moeen-synth: synthetic, bilingual data for the Moeen healthcare platform."""

__version__ = "0.1.0"
