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
    secret_scanner="agentreach_connectors.files.pasted:secrets_in_paste",
    metadata_scanner="agentreach_connectors.files.pasted:secrets_in_metadata",
    shards={"paths": ShardDimension("paths", "directories to scan for secrets")},
    cli_options=(
        CliOption("--all-files", "all_files", "Files: ignore .gitignore (scan every file).", "flag"),
        CliOption("--git-history", "git_history", "Files: also the lines added by commits.", "flag"),
        CliOption("--since", "since", "Files: with --git-history, only commits after this ref."),
        CliOption("--path", "paths",
                  "Files: a directory to scan for secrets (repeatable; sets connectors.files.paths).", "path"),
        CliOption("--follow-symlinks", "follow_symlinks",
                  "Files: follow symbolic links (never outside the scanned root; loops are detected).", "flag"),
        CliOption("--archives", "archives", "Files: open zip, tar, gzip, .whl and .jar files (within bounds).", "flag"),
        CliOption("--file-workers", "workers", "Files: processes that read and scan files (default: every core).",
                  "int"),
        CliOption("--file-timeout", "file_timeout", "Files: seconds one file may take before it is a gap.", "int"),
        CliOption("--verify", "verify",
                  "Files: check each found key live against its provider's API (sends the key there; never in CI).",
                  "flag"),
    ),
)
