"""``produzir db``: the database's migrations."""

from __future__ import annotations

from console.common import command_group, out, runtime
from states.text import N_

app = command_group("The database: migrations.", "db")


@app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (loads the IBGE municipalities)."""
    import migrations

    rt = runtime(migrated=False)
    migrations.upgrade(rt.db.engine)
    out(
        N_(
            "database at revision %(revision)s (%(dialect)s)",
            revision=migrations.current_revision(rt.db.engine),
            dialect=rt.db.dialect,
        )
    )
