"""agentreach's stand-ins for the clouds: what tests, benches and ``agentreach demo`` scan
instead of a real account, installed as the package ``agentreach_testing``.

* :mod:`agentreach_testing.aws_frontdoor`: a loopback HTTP front door between real boto3
  clients and a same-process moto server (answers what moto lacks, misbehaves on cue);
* :mod:`agentreach_testing.azure_fake`: Entra ID token endpoints, Microsoft Graph and Azure
  Resource Manager over real TLS;
* :mod:`agentreach_testing.gcp_fake`: the IAM admin API over gRPC and the REST APIs the GCP
  connector reads;
* :mod:`agentreach_testing.faults`: the one description of injected failures (:class:`Fault`,
  :class:`FaultPlan`) that all three honour, each in its own wire format;
* :mod:`agentreach_testing.demo`: the demo estates and the ``agentreach demo`` command,
  added to the CLI through the plugin registry.

The product (``agentreach``, ``agentreach_connectors``) never imports this package: the
stand-ins are the test double, not part of a scan. Their dependencies (moto) come with the
``demo`` and ``test`` extras.
"""
