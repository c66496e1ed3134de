"""detect-secrets plugin file: loaded by file path (``file://.../ds_plugins.py``) through
detect-secrets' ``import_file_as_module``; exposes one RegexBasedDetector class per entry of
``config/secret-detectors.yaml``. Absolute imports only (it is imported outside the package)."""

from agentreach_connectors.files.detectors import plugin_classes

globals().update(plugin_classes())
