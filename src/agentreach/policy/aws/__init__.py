"""AWS effective-permission evaluation over stored policy documents (no API calls)."""

from .catalogue import LEVELS, ActionCatalogue, default_catalogue
from .evaluate import AwsEvaluator
from .matching import arn_match, wildcard_match
from .model import Access, PolicyRef, Principal, Resource
from .statements import trusted_services

__all__ = [
    "LEVELS",
    "Access",
    "ActionCatalogue",
    "AwsEvaluator",
    "PolicyRef",
    "Principal",
    "Resource",
    "arn_match",
    "default_catalogue",
    "trusted_services",
    "wildcard_match",
]
