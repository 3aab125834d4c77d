"""The admin password check."""

import hmac

from config.settings import Settings


def admin_password_configured(settings: Settings) -> bool:
    return settings.admin_password is not None and bool(settings.admin_password.get_secret_value())


def password_matches(candidate: str, settings: Settings) -> bool:
    if not admin_password_configured(settings):
        return False
    assert settings.admin_password is not None
    expected = settings.admin_password.get_secret_value().encode()
    return hmac.compare_digest(candidate.encode(), expected)
