"""The `bulkcancel` command line: one module per command group; each parses, calls one function, prints.

`app` holds the group and turns every `PipelineError` into one line and its exit code; `options`
declares the option sets several commands share.
"""

from pipeline.cli.app import cli, main

__all__ = ["cli", "main"]
