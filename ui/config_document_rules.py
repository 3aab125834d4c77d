"""The rules a configuration document is held to, for `upwatch apply` and the dashboard's
import alike: the registry's channel fields and the channel form's checks (both above the
config layer, so handed down to config/config_document.py from here)."""

from __future__ import annotations

from config.config_document import DocumentRules
from notifiers.registry import CHANNEL_FIELDS
from ui.alerting_forms import parse_channel_form


def document_rules() -> DocumentRules:
    return DocumentRules(CHANNEL_FIELDS, parse_channel_form)
