"""Settings of the operations that are not the domain core's: the pseudonymisation key.

Read from the environment with the prefix ``PRODUZIR_``:

``PRODUZIR_PSEUDONYM_KEY``
    The secret key of the keyed pseudonyms in exports for partners (HMAC-SHA256 of the CPF).
    It lives only in the environment (or a secrets manager feeding it), never in the database:
    whoever holds the database alone cannot link a pseudonym back to a CPF. At least
    :data:`MIN_KEY_LENGTH` characters. Changing it changes every pseudonym, so keep it for as
    long as partners must match rows across exports.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.settings import PREFIX, BadSetting
from states.text import N_

PSEUDONYM_KEY_VARIABLE = "PRODUZIR_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16


def check_pseudonym_key(value: str) -> str:
    """The key, if long enough; :class:`~states.settings.BadSetting` (a ValueError) naming the
    variable otherwise (never the key)."""
    if len(value) < MIN_KEY_LENGTH:
        raise BadSetting(
            N_(
                "%(variable)s is too short: %(n)s characters, at least %(min)s needed",
                variable=PSEUDONYM_KEY_VARIABLE,
                n=len(value),
                min=MIN_KEY_LENGTH,
            ),
            variable=PSEUDONYM_KEY_VARIABLE,
        )
    return value


class TasksSettings(BaseSettings):
    """Secrets and options of the operations layer."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for the pseudonyms in partner exports "
        f"(at least {MIN_KEY_LENGTH} characters; never stored in the database).",
    )

    @field_validator("pseudonym_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_pseudonym_key(value.get_secret_value())
        return value


#: The federal capital (Brasília, DF): where the controller's office counts its working days.
BRASILIA = 5300108


class LgpdSettings(BaseSettings):
    """Where the controller's office that answers data subjects and the ANPD is."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    lgpd_office_municipality: int = Field(
        default=BRASILIA,
        description="IBGE code of the municipality whose working days count the LGPD deadlines "
        "(data-subject requests, incident notices): the controller's office, Brasília by default.",
    )
