"""Allow ``python -m qualcx``."""
from qualcx.cli import main

main()
