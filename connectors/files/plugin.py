"""What the files connector adds besides collection: its provider name, the deriver that
links a secret found in a file to the live cloud credential it is, and its ``scan`` options."""

from typing import Any, Mapping

from agentreach.plugins import CliOption, Plugin, ShardDimension


def check_config(section: Mapping[str, Any]) -> None:
    """The section's keys and values as the connector checks them when it runs; ``paths`` may
    still be empty here (``scan --path`` gives them)."""
    from . import FilesConnector

    FilesConnector({**section, "paths": section.get("paths") or ["."]})


PLUGIN = Plugin(
    name="files",
    provider="files",
    config="agentreach_connectors.files.plugin:check_config",
    description="secrets in repositories, home directories and config files",
    derivers=("agentreach.graph.links:derive",),
    shards={"paths": ShardDimension("paths", "directories to scan for secrets")},
    cli_options=(
        CliOption("--all-files", "all_files", "Files: ignore .gitignore (scan every file).", "flag"),
        CliOption("--git-history", "git_history", "Files: also the lines added by commits.", "flag"),
        CliOption("--since", "since", "Files: with --git-history, only commits after this ref."),
        CliOption("--path", "paths",
                  "Files: a directory to scan for secrets (repeatable; sets connectors.files.paths).", "path"),
        CliOption("--verify", "verify",
                  "Files: check each found key live against its provider's API (sends the key there; never in CI).",
                  "flag"),
    ),
)
