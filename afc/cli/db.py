"""`afc db migrate|status`: the schema."""

from __future__ import annotations

import typer

from afc.cli.app import DbOption, JsonOption, app, console, settings, write_json

db_app = typer.Typer(no_args_is_help=True, help="Create and inspect the database schema.")
app.add_typer(db_app, name="db")


@db_app.command("migrate")
def migrate_cmd(db: DbOption = None) -> None:
    """Apply pending migrations."""
    from afc.db import connect
    from afc.db.migrate import available, migrate

    conf = settings(db)
    database = connect(conf.db_url)
    applied = migrate(database)
    if applied:
        said = "applied " + ", ".join(f"{m.version:04d}_{m.name}" for m in applied)
    else:  # migrate refuses a newer schema, so an up-to-date one is at this afc's last migration
        latest = available(database.backend)[-1]
        said = f"nothing to apply: the schema is at {latest.version:04d}_{latest.name}"
    console(stderr=True).print(f"{database.url}: {said}")


@db_app.command("status")
def status_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the database URL, the data directory, and which migrations are applied."""
    from afc.db import connect
    from afc.db.migrate import applied, available

    conf = settings(db)
    database = connect(conf.db_url, create=False)
    done = applied(database)
    rows = [{"version": m.version, "name": m.name, "applied": m.version in done} for m in available(database.backend)]
    if as_json:
        write_json({"database": database.url, "data_dir": str(conf.data_dir), "migrations": rows})
        return
    out = console()
    out.print(f"database: {database.url}\ndata dir: {conf.data_dir}")
    for row in rows:
        out.print(f"  {row['version']:04d}_{row['name']}: {'applied' if row['applied'] else 'pending'}")
