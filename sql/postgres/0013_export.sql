-- `afc export`: how far each table has been exported to each destination (a directory and a format,
-- narrowed by --league/--season as `scope`), so `--since last` writes only what changed since.
-- watermark: the newest updated_at exported, held back to the export's start minus a settle window.
CREATE TABLE ops.export_watermarks (
    table_name text NOT NULL,
    destination text NOT NULL,
    format text NOT NULL,
    scope text NOT NULL,
    watermark timestamptz NOT NULL,
    exported_at timestamptz NOT NULL,
    rows bigint NOT NULL,
    file text,
    PRIMARY KEY (table_name, destination, format, scope)
);
