"""The ``swerve`` command, a face: argument parsing (``flags``), putting a conversation together
(``session``), headless output (``headless``, ``printers``), the interactive app (``app``) and the
subcommands (``*_cmd``). It may import anything; nothing imports it.
"""
