"""Operator commands: `create-admin`, `backup create|restore`, `export tenant`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from mercato.kernel.db import Database
from mercato.kernel.errors import ValidationFailed
from mercato.modules.identity import AdminGranted, grant_platform_admin
from mercato.modules.platform.backup import BackupError, create_backup, restore_backup
from mercato.modules.platform.export import TenantNotFound, export_tenant
from mercato.settings import get_settings

console = Console(stderr=True)
backup_app = typer.Typer(help="Back up and restore the database (pg_dump custom format).")
export_app = typer.Typer(help="Export data for portability.")


def create_admin(
    email: Annotated[str, typer.Option(help="The operator's e-mail address")],
    password: Annotated[
        str | None, typer.Option(help="Password; a new account without one gets a generated one")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name of a new account")] = None,
) -> None:
    """Create a platform operator, or promote an existing staff account."""

    async def grant() -> AdminGranted:
        # A private engine: the command must not disturb a process-wide one.
        database = Database(get_settings())
        try:
            async with database.session() as session:
                return await grant_platform_admin(
                    session, email=email, password=password, name=name
                )
        finally:
            await database.dispose()

    try:
        granted = asyncio.run(grant())
    except ValidationFailed as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(2) from error
    verb = "created" if granted.created else "promoted"
    console.print(f"[green]platform operator {verb}:[/green] {granted.email}")
    if granted.generated_password:
        console.print(f"  password (shown once): {granted.generated_password}")


@backup_app.command("create")
def backup_create(
    out: Annotated[
        Path | None, typer.Option(help="Backup file (default DATA_DIR/backups/…dump)")
    ] = None,
) -> None:
    """Dump the configured database, embedded or external."""
    try:
        result = create_backup(get_settings(), out)
    except BackupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"[green]backup written[/green] {result.path} "
        f"({result.size_bytes / 1_048_576:.1f} MiB, PostgreSQL {result.server_major}, "
        f"{result.seconds:.1f}s)"
    )


@backup_app.command("restore")
def backup_restore(
    file: Annotated[Path, typer.Argument(help="A file made by `mercato backup create`")],
    into: Annotated[
        str | None,
        typer.Option(help="Database URL to restore into (created if missing); default: ours"),
    ] = None,
    clean: Annotated[
        bool, typer.Option(help="Replace the contents of a non-empty target database")
    ] = False,
) -> None:
    """Restore a backup in one transaction (a failed restore changes nothing)."""
    try:
        target = restore_backup(get_settings(), file, into=into, clean=clean)
    except BackupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"[green]restored[/green] {file} into database {target.database!r}")


@export_app.command("tenant")
def export_tenant_command(
    tenant: Annotated[str, typer.Argument(help="Tenant id or slug")],
    out: Annotated[Path, typer.Option(help="Archive file (.jsonl, or .jsonl.gz)")],
) -> None:
    """Every row of one tenant as JSON Lines, secrets left out."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bars: dict[str, TaskID] = {}

        def advance(table: str, rows: int, total: int) -> None:
            if table not in bars:
                bars[table] = progress.add_task(table, total=total)
            progress.advance(bars[table], rows)

        try:
            result = export_tenant(get_settings(), tenant, out, advance)
        except TenantNotFound as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from error
    console.print(
        f"[green]exported[/green] {sum(result.rows.values())} rows of tenant "
        f"{result.tenant_id} to {result.path}"
    )
