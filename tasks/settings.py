"""Settings of the operations that are not the domain core's: the pseudonymisation key, the
programme records' numbers that are not the lifecycle's (:class:`RecordsSettings`), and the
public policies a convergence record may name.

Read from the environment with the prefix ``PRODUZIR_``:

``PRODUZIR_PSEUDONYM_KEY``
    The secret key of the keyed pseudonyms in exports for partners (HMAC-SHA256 of the CPF).
    It lives only in the environment (or a secrets manager feeding it), never in the database:
    whoever holds the database alone cannot link a pseudonym back to a CPF. At least
    :data:`MIN_KEY_LENGTH` characters. Changing it changes every pseudonym, so keep it for as
    long as partners must match rows across exports.

``PRODUZIR_PUBLIC_POLICIES``
    The public policies an enterprise may be recorded as reaching (convergence of policies),
    comma-separated; default :data:`DEFAULT_POLICIES`.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.settings import PREFIX, BadSetting
from states.text import N_

PSEUDONYM_KEY_VARIABLE = "PRODUZIR_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
#: PAA (Lei 14.628/2023), PNAE (Lei 11.947/2009), Pronaf (Decreto 1.946/1996), Garantia-Safra
#: (Lei 10.420/2002), PNATER (Lei 12.188/2010)
DEFAULT_POLICIES = ("PAA", "PNAE", "Pronaf", "Garantia-Safra", "PNATER")


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

    public_policies: str = Field(
        default=",".join(DEFAULT_POLICIES),
        description="The public policies a convergence record may name, comma-separated.",
    )

    def policies(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.public_policies.split(",") if p.strip())

    @field_validator("pseudonym_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_pseudonym_key(value.get_secret_value())
        return value


class RecordsSettings(BaseSettings):
    """Numbers of the programme's records that are settings, not code (nor lifecycle: they
    are not the case's, and change without a new lifecycle version)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    rcpj_filing_target_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="A programme target, in days after the founding act, for filing an "
        "association's (or economia solidária's) acts at the Registro Civil de Pessoas "
        "Jurídicas. No law sets one (the 30 days of Lei 8.934/1994 art. 36 and Código Civil "
        "art. 1.151 §1 are the Junta Comercial's and the sociedades'): unset, none is shown; "
        "set, it is shown as the programme's target, not as a legal obligation.",
    )
    mei_revenue_cap: Decimal = Field(
        default=Decimal("81000"),
        gt=0,
        max_digits=12,
        decimal_places=2,
        description="The MEI's gross revenue cap for a calendar year, in reais (LC 123/2006 "
        "art. 18-A §1: R$ 81,000; a MEI that starts in the year has 1/12 of it for each month "
        "from its start, §2).",
    )


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
