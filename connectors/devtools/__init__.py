"""Development tools: the demo, the sandbox runner and the agreement measurement.

They run from a checkout (`make demo`, `manage.py run_sandbox`, the tests, `python -m bench`) and are not
in the wheel (pyproject.toml lists the packages it holds). The settings install this app only where it
can be imported, so an installed connector runs without it.
"""
