"""The facts many tables derive from: the run context and child layouts, people, doctors, the
visit model (appointment facts, ranks, slot calendars, the census of children), clinical
choices, claims, dates; and the column helpers every table uses. A model never imports a
table module (``moeen_synth.generators``)."""
