"""The tables a TWCS import writes, created with the rest of the schema (ingest.load)."""

SCHEMA_SQL = """
create schema if not exists raw;
create schema if not exists ops;
-- One row per tweet id, first import wins. Ids are the keys, so a float-written id
-- ("123.0") is stored as its digits; every other field is kept as written in the file
-- and cast in staging (stg_twcs__messages).
create table if not exists raw.twcs_messages (
    tweet_id varchar not null,
    author_id varchar not null,     -- a company handle, or a numeric customer id
    inbound varchar not null,       -- True / False in any case
    created_at varchar not null,    -- e.g. 'Tue Oct 31 22:10:47 +0000 2017'
    text varchar,
    response_tweet_id varchar,      -- as written; never used: spreadsheets mangle it
    in_response_to_tweet_id varchar,
    source_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint                  -- the import that inserted it (ops.load_ids)
);
-- databases created before load ids
alter table raw.twcs_messages add column if not exists load_id bigint;
-- One row per file imported (a file already imported, same sha256, is not imported again).
create table if not exists ops.imports (
    format varchar not null,        -- 'twcs'
    file varchar not null,
    sha256 varchar not null,
    rows_read bigint not null,      -- rows in the file (blank lines are not rows)
    rows_loaded bigint not null,    -- new tweet ids inserted
    rows_duplicate bigint not null, -- tweet ids already loaded, or repeated in the file
    rows_rejected bigint not null,  -- in ops.rejects, each with its line number and reason
    started_at timestamptz not null,
    finished_at timestamptz not null
);
"""
