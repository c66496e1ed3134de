"""An independent reference evaluator of AWS IAM authorization, written from the IAM User
Guide's evaluation logic (see :mod:`.evaluate`), used only by the tests to judge
agentreach's own evaluator."""

from .conditions import UnknownOperator, condition_matches, key_matches
from .evaluate import Decision, Principal, Request, Resource, evaluate, request_context

__all__ = ["Decision", "Principal", "Request", "Resource", "UnknownOperator", "condition_matches", "evaluate",
           "key_matches", "request_context"]
