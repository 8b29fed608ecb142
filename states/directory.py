"""Who works in the programme and where: staff users, and the municipal holidays calendar.

- ``users``: coordinators (scoped to territories: UFs), supervisors (a territory's escalation
  point), programme management, auditors, administrators — with the e-mail, language and time
  zone their messages use, and how they want them (a daily digest or immediate messages, and
  the non-escalation categories they opted out of).
- ``municipal_holidays``: holidays the ``holidays`` package does not know (municipal ones),
  kept by an administrator; with national and state holidays they make the working-day calendar.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from states.models import Base

ROLES = ("coordinator", "supervisor", "manager", "auditor", "admin")
LANGUAGES = ("pt-BR", "en")


class User(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: UFs of the user's territory (coordinators, supervisors); empty = the whole programme
    territories: Mapped[list[str]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(5), default="pt-BR")
    timezone: Mapped[str] = mapped_column(String(40), default="America/Sao_Paulo")
    #: "digest" (at most one message a day) or "immediate"
    delivery: Mapped[str] = mapped_column(String(10), default="digest")
    #: non-escalation categories the user does not want (e.g. ["transition"])
    opted_out: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class MunicipalHoliday(Base):
    __tablename__ = "municipal_holidays"

    municipality_code: Mapped[int] = mapped_column(
        ForeignKey("municipalities.ibge_code"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
