"""A scratch SQLite file that holds an import between validation and writing.

Keeping refs, unique keys and cleaned records on disk instead of in dicts keeps memory flat
however long the file, and lets cross-record checks run as SQL.
"""

import pickle
import sqlite3
import tempfile
from collections.abc import Iterator


class Staging:
    def __init__(self, directory: str | None = None) -> None:
        self._tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed in close())
            suffix=".staging.sqlite3", dir=directory
        )
        self.db = sqlite3.connect(self._tmp.name)
        self.db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;
            CREATE TABLE rec (n INTEGER PRIMARY KEY, type TEXT, ref TEXT, phase INTEGER,
                              loc TEXT, data BLOB);
            CREATE TABLE refs (type TEXT, ref TEXT, loc TEXT, field TEXT);
            CREATE TABLE uniq (type TEXT, key TEXT, value TEXT, ref TEXT, loc TEXT);
            """
        )
        self._rec: list[tuple] = []
        self._refs: list[tuple] = []
        self._uniq: list[tuple] = []

    def add(self, type_: str, ref: str, phase: int, loc: str, data: dict) -> None:
        # pickle, not JSON: several times faster for these small dicts of plain values, and
        # the file is this process's own scratch space, read back only by records().
        self._rec.append((type_, ref, phase, loc, pickle.dumps(data, pickle.HIGHEST_PROTOCOL)))
        if len(self._rec) >= 5000:
            self.flush()

    def add_ref(self, type_: str, ref: str, loc: str, field: str) -> None:
        self._refs.append((type_, ref, loc, field))

    def add_unique(self, type_: str, key: str, value: str, ref: str, loc: str) -> None:
        self._uniq.append((type_, key, value, ref, loc))

    def flush(self) -> None:
        self.db.executemany(
            "INSERT INTO rec (type, ref, phase, loc, data) VALUES (?,?,?,?,?)", self._rec
        )
        self.db.executemany("INSERT INTO refs VALUES (?,?,?,?)", self._refs)
        self.db.executemany("INSERT INTO uniq VALUES (?,?,?,?,?)", self._uniq)
        self._rec.clear()
        self._refs.clear()
        self._uniq.clear()

    def finish_loading(self) -> None:
        self.flush()
        self.db.executescript(
            """
            CREATE INDEX rec_key ON rec (type, ref);
            CREATE INDEX rec_phase ON rec (type, phase, n);
            CREATE INDEX refs_key ON refs (type, ref);
            CREATE INDEX uniq_key ON uniq (type, key, value);
            """
        )

    def duplicates(self) -> Iterator[tuple[str, str, str, str]]:
        """(type, ref, loc, first_loc) for every repeat of a (type, ref) in the file."""
        yield from self.db.execute(
            """SELECT r.type, r.ref, r.loc, f.loc FROM rec r
               JOIN (SELECT type, ref, MIN(n) AS n FROM rec GROUP BY type, ref
                     HAVING COUNT(*) > 1) d ON d.type = r.type AND d.ref = r.ref
               JOIN rec f ON f.n = d.n
               WHERE r.n != d.n ORDER BY r.n"""
        )

    def unique_clashes(self) -> Iterator[tuple[str, str, str, str, str]]:
        """(type, key, value, loc, first_loc) for values repeated across different refs."""
        yield from self.db.execute(
            """SELECT u.type, u.key, u.value, u.loc, f.loc FROM uniq u
               JOIN (SELECT type, key, value, MIN(rowid) AS first FROM uniq
                     GROUP BY type, key, value HAVING COUNT(DISTINCT ref) > 1) d
                 ON d.type = u.type AND d.key = u.key AND d.value = u.value
               JOIN uniq f ON f.rowid = d.first
               WHERE u.rowid != d.first AND u.ref != f.ref ORDER BY u.rowid"""
        )

    def unique_values(self, type_: str, key: str, size: int = 900) -> Iterator[list[tuple]]:
        cur = self.db.execute(
            "SELECT value, ref, loc FROM uniq WHERE type = ? AND key = ? ORDER BY rowid",
            (type_, key),
        )
        while rows := cur.fetchmany(size):
            yield rows

    def unresolved_refs(self, size: int = 900) -> Iterator[list[tuple[str, str]]]:
        """Distinct (type, ref) referenced but not defined in the file, in chunks."""
        cur = self.db.execute(
            """SELECT DISTINCT x.type, x.ref FROM refs x
               WHERE NOT EXISTS (SELECT 1 FROM rec r WHERE r.type = x.type AND r.ref = x.ref)
               ORDER BY x.type, x.ref"""
        )
        while rows := cur.fetchmany(size):
            yield rows

    def referrers(self, type_: str, ref: str) -> list[tuple[str, str]]:
        return self.db.execute(
            "SELECT loc, field FROM refs WHERE type = ? AND ref = ? ORDER BY rowid",
            (type_, ref),
        ).fetchall()

    def defines(self, type_: str, ref: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM rec WHERE type = ? AND ref = ? LIMIT 1", (type_, ref)
        ).fetchone()
        return row is not None

    def phases(self, type_: str) -> list[int]:
        rows = self.db.execute(
            "SELECT DISTINCT phase FROM rec WHERE type = ? ORDER BY phase", (type_,)
        )
        return [r[0] for r in rows]

    def count(self, type_: str | None = None) -> int:
        if type_ is None:
            return self.db.execute("SELECT COUNT(*) FROM rec").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM rec WHERE type = ?", (type_,)).fetchone()[0]

    def records(self, type_: str, phase: int, size: int = 1000) -> Iterator[list[tuple]]:
        """Batches of (ref, loc, data) in file order."""
        cur = self.db.execute(
            "SELECT ref, loc, data FROM rec WHERE type = ? AND phase = ? ORDER BY n",
            (type_, phase),
        )
        while rows := cur.fetchmany(size):
            yield [(ref, loc, pickle.loads(data)) for ref, loc, data in rows]

    def close(self) -> None:
        self.db.close()
        self._tmp.close()
