"""The PostgreSQL backend's tables, in one schema of the database (PostgresConfig.schema).

Every table that holds a tenant's data carries `tenant`, the first segment of the namespace, in its
primary key and its unique constraints, and every query scoped to a namespace filters on it. That is
what a distributed or partitioned PostgreSQL asks of a table: Citus shards each of them with
`create_distributed_table(table, 'tenant', colocate_with => 'slots')` and routes a scoped query to the
one node that holds the tenant; native partitioning (`PARTITION BY HASH (tenant)`) prunes to one
partition. A tenant's memories, their history and their lexical statistics then live side by side.
`meta` holds the store's own facts (its encoder, its dimension), shared by every tenant: a Citus
reference table.

    meta            key -> value: schema version, store id, encoder, dimension, index kind, lexical format
    slots           one row per memory (storage.base.SlotRow), its key (pgvector), its lexical terms
    history         the past versions of each memory
    lexical_terms   per tenant: how many indexed memories hold each term (BM25's n(t))
    lexical_docs    per tenant: indexed memories and their total length in tokens (BM25's N and avgdl)

Slots come from one sequence, taken while the namespace's writer lock is held (backend.py), so a
namespace's slots grow along its write order. Namespace keys and ids use the "C" collation: byte order
is code-point order, so a namespace prefix is one key range (storage.base.ns_prefix_range) and an id
prefix another, whatever the database's locale.
"""

from __future__ import annotations

SCHEMA_VERSION = 2  # 2: `named_start` and `named_end` (`upgrade_sql`)
# The advisory lock a first open holds while it creates the tables: two processes opening a new store
# at once must not both create them. One fixed key, in pg_advisory_xact_lock's bigint space.
CREATE_LOCK = 0x6167656E746D656D  # "agentmem"

TABLES = ("meta", "slots", "history", "lexical_terms", "lexical_docs")


def create_sql(schema: str) -> list[str]:
    """The statements that create an empty store's tables and indexes (each idempotent); the dense
    index comes later, once the dimension is known (`dense_sql`)."""
    s = schema
    return [
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"CREATE SEQUENCE IF NOT EXISTS {s}.slot_seq",
        f"CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS {s}.slots (
            tenant       text COLLATE "C" NOT NULL,      -- the namespace's first segment
            slot         bigint NOT NULL,                -- write order, from slot_seq; never reused
            id           text COLLATE "C" NOT NULL,
            ns           text COLLATE "C" NOT NULL,      -- the namespace key (segments joined by U+001F)
            text         text NOT NULL,
            metadata     jsonb NOT NULL,
            speaker      text NOT NULL DEFAULT '',       -- who said it, lower-cased (text.speaker_of)
            created_at   double precision NOT NULL,      -- unix seconds
            updated_at   double precision NOT NULL,
            event_time   double precision,
            named_start  double precision,               -- the stretch of time the text names
            named_end    double precision,               -- (time_expressions.named_time)
            vector       vector,                         -- the unit key; NULL: not indexed
            usage        double precision NOT NULL DEFAULT 0,
            last_read_at double precision,
            prev_slot    bigint,                         -- temporal links within the namespace
            next_slot    bigint,
            version      integer NOT NULL DEFAULT 1,
            ttl          double precision,
            expires_at   double precision,
            terms        text[],                         -- the document's distinct lexical terms
            tfs          real[],                         -- their frequencies, aligned with terms
            doc_len      integer,                        -- the document's length in tokens
            PRIMARY KEY (tenant, slot),
            UNIQUE (tenant, id)
        )""",
        # A namespace's memories in write order: every scoped read scans this range, so it costs what
        # the namespace holds, not what the store holds.
        f"CREATE INDEX IF NOT EXISTS slots_ns ON {s}.slots (tenant, ns, slot)",
        # The candidate questions name slots and ids without their tenant: lookups of the whole store.
        f"CREATE INDEX IF NOT EXISTS slots_slot ON {s}.slots (slot)",
        f"CREATE INDEX IF NOT EXISTS slots_id ON {s}.slots (id)",
        # The namespace's tail, which the next write links after; unique, so no bug or race can ever
        # fork a namespace's chain in two.
        f"CREATE UNIQUE INDEX IF NOT EXISTS slots_tail ON {s}.slots (tenant, ns) WHERE next_slot IS NULL",
        f"CREATE INDEX IF NOT EXISTS slots_expiry ON {s}.slots (expires_at) WHERE expires_at IS NOT NULL",
        # Postings of every term for lexical reads of the whole store and for name lookups (`naming`).
        f"CREATE INDEX IF NOT EXISTS slots_terms ON {s}.slots USING gin (terms)",
        f"""CREATE TABLE IF NOT EXISTS {s}.history (
            tenant     text COLLATE "C" NOT NULL,
            slot       bigint NOT NULL,
            version    integer NOT NULL,
            text       text NOT NULL,
            metadata   jsonb NOT NULL,
            event_time double precision,
            updated_at double precision NOT NULL,
            PRIMARY KEY (tenant, slot, version)
        )""",
        # BM25's statistics, per tenant: a writer updates only its own tenant's rows, so writers of
        # different tenants never wait on each other, and a read of the whole store sums them.
        f"""CREATE TABLE IF NOT EXISTS {s}.lexical_terms (
            tenant text COLLATE "C" NOT NULL,
            term   text COLLATE "C" NOT NULL,
            df     bigint NOT NULL,
            PRIMARY KEY (tenant, term)
        )""",
        f"CREATE INDEX IF NOT EXISTS lexical_terms_term ON {s}.lexical_terms (term) INCLUDE (df)",
        f"""CREATE TABLE IF NOT EXISTS {s}.lexical_docs (
            tenant    text COLLATE "C" PRIMARY KEY,
            docs      bigint NOT NULL,
            total_len bigint NOT NULL
        )""",
    ]


def upgrade_sql(schema: str, version: int) -> list[str]:
    """The statements that bring a store's tables from schema `version` to SCHEMA_VERSION, before the
    rows get the values of new columns worked out at write time (backend.py, `_upgrade`)."""
    out = []
    if version < 2:
        out.append(
            f"ALTER TABLE {schema}.slots ADD COLUMN IF NOT EXISTS named_start double precision, "
            "ADD COLUMN IF NOT EXISTS named_end double precision"
        )
    return out


def dense_sql(schema: str, dim: int, *, hnsw: bool, m: int, ef_construction: int) -> list[str]:
    """The statements that give the key column its dimension (once, on an empty table) and build the
    HNSW index over inner products (keys are unit vectors, so the order is the cosine's)."""
    out = [f"ALTER TABLE {schema}.slots ALTER COLUMN vector TYPE vector({int(dim)})"]
    if hnsw:
        out.append(
            f"CREATE INDEX IF NOT EXISTS slots_hnsw ON {schema}.slots USING hnsw (vector vector_ip_ops) "
            f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
        )
    return out
