"""One module per ``passerlink`` subcommand (see ``passerlink.cli``)."""
