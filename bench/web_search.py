"""Benchmark 6 — the staff web on a big shop: member search p99 and the dashboard's figures.

A ledger of 1,000,000 members and 10,000,000 postings (plus 1,000,000 cards, 200,000 anonymous purchase
events and 200,000 vouchers) is generated straight into SQLite with the project's schema (migrations
included) by set-based INSERT … SELECT over recursive CTEs, with the indexes dropped during the load and
built again after it (how a restore would), then the members projection set to the fold of the postings.
The web's own read code runs on it: `LedgerReader.search` (what /members?q= calls) over realistic
queries, and `kpis.compute` (what /dashboard calls), each on a read-only connection like the web's.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Figure, at_most, percentiles_ms
from hub.app import demo_program_text
from hub.codes import new_member_code
from hub.ledger import HubClock, Ledger, open_database
from hub.ledger import kpis as kpis_module
from hub.ledger.reads import LedgerReader, ReadConnections
from hub.ledger.search import name_key, phone_key
from hub.program import load_program

BENCH = "web"
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Jade",
    "Louise",
    "Lina",
    "Zoé",
    "Lucie",
    "Sarah",
    "Juliette",
    "Anaïs",
    "Éloïse",
    "Mathilde",
    "Clara",
    "Alice",
    "Margaux",
    "Océane",
    "Pauline",
    "Marie",
    "Julie",
    "Laura",
    "Léna",
    "Nina",
    "Romane",
    "Charlotte",
    "Agathe",
    "Apolline",
    "Hugo",
    "Lucas",
    "Louis",
    "Nathan",
    "Gabriel",
    "Arthur",
    "Jules",
    "Léo",
    "Raphaël",
    "Adam",
    "Tom",
    "Théo",
    "Paul",
    "Noah",
    "Ethan",
    "Mathis",
    "Enzo",
    "Maël",
    "Sacha",
    "Baptiste",
    "Clément",
    "Antoine",
    "Maxime",
    "Alexandre",
    "Thomas",
    "Nicolas",
    "Julien",
    "Pierre",
    "Romain",
    "Quentin",
    "Kevin",
    "Florian",
    "Mehdi",
    "Yanis",
    "Rayan",
    "Ilyes",
    "Amine",
    "Karim",
    "Sofiane",
    "Yasmine",
    "Sofia",
    "Amira",
    "Aïcha",
    "Fatou",
    "Mamadou",
    "Moussa",
    "Awa",
    "Chen",
    "Mei",
    "Linh",
    "Minh",
    "Anh",
    "Hélène",
    "Françoise",
    "Brigitte",
    "Monique",
    "Jacqueline",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Christine",
    "Martine",
    "Jean",
    "Michel",
    "Philippe",
    "Alain",
    "Patrick",
    "Bernard",
    "Christophe",
    "Daniel",
    "Gérard",
    "Jacques",
    "Didier",
    "Éric",
    "Frédéric",
    "Olivier",
]
_MIX = 0x9E3779B97F  # odd: i -> i * _MIX mod 2**40 is a bijection, so member codes are unique


@dataclass(frozen=True)
class WebBenchConfig:
    members: int = 1_000_000
    postings: int = 10_000_000
    anonymous: int = 200_000
    vouchers: int = 200_000
    queries: int = 2_000
    warmup: int = 200

    @classmethod
    def quick(cls) -> WebBenchConfig:
        return cls(
            members=50_000, postings=500_000, anonymous=10_000, vouchers=10_000, queries=400, warmup=50
        )


def _code(i: int) -> str:
    return new_member_code(((i * _MIX) % (1 << 40)).to_bytes(5, "big"))


def _phone(i: int) -> str:
    return f"06 {i // 1_000_000 % 100:02d} {i // 10_000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}"


_DROPPED = ("postings_member", "postings_member_seq", "postings_purchase_at", "postings_visit_at",
            "members_name_key", "members_phone_key", "members_email", "cards_member", "events_anonymous_purchase",
            "members_enrolled", "vouchers_issued")  # fmt: skip


def generate(path: Path, cfg: WebBenchConfig, now: datetime) -> dict[str, float]:
    """The big shop in `path`; returns the seconds each phase took."""
    db = open_database(path, create=True)
    Ledger(db, load_program(demo_program_text()), HubClock())  # installs the program (version 1)
    conn = db.conn
    timings: dict[str, float] = {}
    indexes = dict(conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({','.join('?' * len(_DROPPED))})",
        _DROPPED,
    ).fetchall())  # fmt: skip
    for name in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    conn.create_function("member_code", 1, _code, deterministic=True)
    conn.create_function("name_key", 1, name_key, deterministic=True)
    conn.create_function("phone_key", 1, phone_key, deterministic=True)
    conn.create_function("phone_of", 1, _phone, deterministic=True)
    conn.create_function("py_lower", 1, str.lower, deterministic=True)  # SQLite's lower() is ASCII only
    conn.execute("CREATE TEMP TABLE names (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO names VALUES (?, ?)", list(enumerate(FIRST_NAMES)))
    n_names = len(FIRST_NAMES)
    epoch = int(now.timestamp())
    stamp = "strftime('%Y-%m-%dT%H:%M:%S', {t}, 'unixepoch') || '.000000Z'"

    def phase(name: str, sql: str, params: tuple = ()) -> None:
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute(sql, params)
        conn.execute("COMMIT")
        timings[name] = time.perf_counter() - started
        print(f"  {name}: {timings[name]:.1f} s", flush=True)

    series = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    enrolled = stamp.format(t=f"{epoch} - 86400 * 1095 + (i * 7919) % (86400 * 1080)")
    phase("members", series + f"""
        INSERT INTO members (id, code, first_name, email, phone, birth_date, enrolled_at, tier, name_key, phone_key)
        SELECT i, member_code(i), names.name, py_lower(names.name) || '.' || i || '@example.fr', phone_of(i),
               CASE WHEN i % 3 = 0 THEN printf('%04d-%02d-%02d', 1950 + i % 55, 1 + i % 12, 1 + i % 28) END,
               {enrolled}, 'bronze', name_key(names.name), phone_key(phone_of(i))
        FROM n JOIN names ON names.id = i % {n_names}""", (cfg.members,))  # fmt: skip
    phase("cards", series + "INSERT INTO cards (token, member_id, added_at) "
          "SELECT 'pcsc:' || printf('%08X', i), i, '2025-01-01T00:00:00.000000Z' FROM n", (cfg.members,))  # fmt: skip
    # Ten postings per member and round: visit, purchase (spend, count, points), stamp; spread over 2 years.
    at = stamp.format(t=f"{epoch} - (abs(random()) % (86400 * 730))")
    accounts = "CASE k % 10 WHEN 0 THEN 'visits' WHEN 1 THEN 'spend_cents' WHEN 2 THEN 'purchases' WHEN 3 THEN 'points' " \
               "WHEN 4 THEN 'visits' WHEN 5 THEN 'spend_cents' WHEN 6 THEN 'purchases' WHEN 7 THEN 'points' " \
               "WHEN 8 THEN 'stamps' ELSE 'visits' END"  # fmt: skip
    phase("postings", f"""
        WITH RECURSIVE p(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM p WHERE k < ? - 1)
        INSERT INTO postings (event_seq, member_id, account, delta, at, expires_at, rule, program_version)
        SELECT NULL, 1 + (k / 10) % ?, {accounts},
               CASE WHEN k % 10 IN (1, 5) THEN 300 + abs(random()) % 9700 WHEN k % 10 IN (3, 7) THEN 3 + abs(random()) % 97
                    ELSE 1 END,
               {at}, NULL,
               CASE k % 10 WHEN 1 THEN 'purchase' WHEN 5 THEN 'purchase' WHEN 2 THEN 'purchase' WHEN 6 THEN 'purchase'
                    WHEN 3 THEN 'points.purchase' WHEN 7 THEN 'points.purchase' WHEN 8 THEN 'stamps.visit' ELSE 'visit' END,
               1
        FROM p""", (cfg.postings, cfg.members))  # fmt: skip
    anon_at = stamp.format(t=f"{epoch} - (abs(random()) % (86400 * 365))")
    phase("anonymous purchases", series + f"""
        INSERT INTO events (id, kiosk, type, card, member_id, received_at, sent_at, body, ok, error_code,
                            program_version, reply, hub_event)
        SELECT 'anon-' || i, 'api:caisse', 'purchase', NULL, NULL, {anon_at}, NULL,
               '{{"amount_cents": ' || (200 + abs(random()) % 5000) || '}}', 1, NULL, 1, X'7B7D', '{{}}'
        FROM n""", (cfg.anonymous,))  # fmt: skip
    issued = stamp.format(t=f"{epoch} - (abs(random()) % (86400 * 365))")
    phase("vouchers", series + f"""
        INSERT INTO vouchers (code, member_id, reward_id, name, value, issued_at, expires_at, used_at, used_by)
        SELECT 'V' || printf('%015d', i), 1 + (i * 37) % ?, 'bon-5', '{{"fr": "Bon", "en": "Voucher"}}',
               '{{"kind": "amount_off", "amount_cents": 500}}', {issued}, '2099-01-01T00:00:00.000000Z',
               CASE WHEN i % 3 = 0 THEN {issued} END, CASE WHEN i % 3 = 0 THEN 'kiosk' END
        FROM n""", (cfg.members, cfg.vouchers))  # fmt: skip
    started = time.perf_counter()
    for sql in indexes.values():
        conn.execute(sql)
    timings["indexes"] = time.perf_counter() - started
    print(f"  indexes ({len(indexes)}): {timings['indexes']:.1f} s", flush=True)
    phase(
        "projection",
        """
        WITH f AS (SELECT member_id,
                          SUM(CASE WHEN account = 'points' THEN delta ELSE 0 END) AS points,
                          SUM(CASE WHEN account = 'stamps' THEN delta ELSE 0 END) AS stamps,
                          SUM(CASE WHEN account = 'spend_cents' THEN delta ELSE 0 END) AS spend,
                          SUM(CASE WHEN account = 'visits' THEN delta ELSE 0 END) AS visits,
                          SUM(CASE WHEN account = 'purchases' THEN delta ELSE 0 END) AS purchases,
                          MAX(at) AS last
                   FROM postings GROUP BY member_id)
        UPDATE members SET points = f.points, stamps = f.stamps, spend_cents = f.spend, visits = f.visits,
                           purchases = f.purchases, last_activity_at = f.last
        FROM f WHERE f.member_id = members.id""",
    )
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return timings


def queries(cfg: WebBenchConfig, rng: random.Random) -> list[tuple[str, str]]:
    """What staff type at the counter: a first name's first letters or all of it, a phone (whole or its
    first digits, typed with spaces or not), an e-mail's start, a card token, a member code."""
    out = []
    for _ in range(cfg.queries + cfg.warmup):
        i = rng.randint(1, cfg.members)
        name = FIRST_NAMES[i % len(FIRST_NAMES)]
        kind = rng.choice(("name3", "name", "phone", "phone_prefix", "email", "card", "code"))
        text = {
            "name3": name[:3].lower(),
            "name": name,
            "phone": _phone(i).replace(" ", "") if rng.random() < 0.5 else _phone(i),
            "phone_prefix": _phone(i)[:8],
            "email": f"{name.lower()}.{i}@exa",
            "card": f"pcsc:{i:08x}",
            "code": _code(i),
        }[kind]
        out.append((kind, text))
    return out


def measure(path: Path, cfg: WebBenchConfig, now: datetime) -> tuple[dict[str, list[float]], list[float]]:
    connections = ReadConnections(path)
    reader = LedgerReader(connections, load_program(demo_program_text()), HubClock(lambda: now))
    rng = random.Random(6)
    by_kind: dict[str, list[float]] = {}
    for n, (kind, text) in enumerate(queries(cfg, rng)):
        started = time.perf_counter()
        hits = reader.search(text)
        took = time.perf_counter() - started
        if not hits:
            raise RuntimeError(f"search {text!r} ({kind}) found nobody")
        if n >= cfg.warmup:
            by_kind.setdefault(kind, []).append(took)
    dashboard = []
    for _ in range(4):  # the first one reads from disk into the page cache
        started = time.perf_counter()
        figures = kpis_module.compute(connections.get(), now)
        dashboard.append(time.perf_counter() - started)
    if figures.members != cfg.members:
        raise RuntimeError(f"the dashboard counted {figures.members} members")
    connections.close()
    return by_kind, dashboard


def run(quick: bool) -> list[Figure]:
    cfg = WebBenchConfig.quick() if quick else WebBenchConfig()
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="web-bench-") as scratch:
        path = Path(scratch) / "ledger.sqlite"
        print(f"  generating {cfg.members:,} members and {cfg.postings:,} postings in {path}", flush=True)
        started = time.perf_counter()
        generate(path, cfg, now - timedelta(seconds=1))
        build_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        print(f"  built in {build_s:.0f} s ({size_mb:,.0f} MB)", flush=True)
        by_kind, dashboard = measure(path, cfg, now)
    every = [t for times in by_kind.values() for t in times]
    overall = percentiles_ms(every)
    figures = [
        Figure(BENCH, f"generate {cfg.members:,} members + {cfg.postings:,} postings", build_s, "s"),
        Figure(BENCH, "ledger file size", size_mb, "MB"),
        Figure(BENCH, f"member search p50 ({len(every)} queries)", overall["p50"], "ms"),
        Figure(BENCH, f"member search p99 ({len(every)} queries)", overall["p99"], "ms", at_most(50, "ms")),
        Figure(BENCH, "member search max", overall["max"], "ms"),
    ]
    for kind, times in sorted(by_kind.items()):
        figures.append(Figure(BENCH, f"  search p99: {kind}", percentiles_ms(times)["p99"], "ms"))
    figures += [
        Figure(BENCH, "dashboard figures, first (cold cache)", dashboard[0] * 1000, "ms"),
        Figure(
            BENCH, "dashboard figures, median of the next 3", statistics.median(dashboard[1:]) * 1000, "ms"
        ),
    ]
    return figures


__all__ = ["WebBenchConfig", "generate", "run"]
