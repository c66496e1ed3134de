"""What the files connector adds besides collection: its provider name, the deriver that
links a secret found in a file to the live cloud credential it is, and its ``scan`` options."""

from agentreach.plugins import CliOption, Plugin

PLUGIN = Plugin(
    name="files",
    provider="files",
    description="secrets in repositories, home directories and config files",
    derivers=("agentreach.graph.links:derive",),
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
