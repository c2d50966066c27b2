"""python -m moeen_synth.cli"""

from moeen_synth.cli import main

main()
